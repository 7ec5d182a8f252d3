import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { databaseTrouble } from '../../db/errors.js'
import { FormErrors } from '../../forms/form-errors.js'
import { RuleError } from '../../forms/rule-error.js'
import { describeInputErrors, inputFieldErrors } from '../../http/input-errors.js'
import { unsentFormFields } from '../../http/unsent-form.js'
import { safeReturnPath } from './guard.js'
import { isHtmxPartialRequest } from './render.js'

/** What an htmx request is told in the status region (its page stays as it is, the form keeps its values). */
function htmxError(reply: FastifyReply, status: number, text: string) {
  return reply.htmxStatus(status, { kind: 'error', text })
}

/**
 * The database cannot be reached, or is too busy: 503, nothing saved, and — for a form — what was typed is
 * shown and can be sent again. The session cookie is left alone (the session store never reports this as
 * "no such session"), so nobody is signed out by an outage.
 */
async function unavailable(request: FastifyRequest, reply: FastifyReply, busy: boolean) {
  // Nothing is written to the session on the way out (its store is the database that just failed: a
  // second failure there would turn this page into a bare 500). The cookie is left as it is.
  ;(request as { session: unknown }).session = null
  reply.header('Retry-After', busy ? '5' : '10')
  const text = busy
    ? 'KYC Desk is busy and nothing was saved. Try again in a few seconds.'
    : 'KYC Desk cannot reach its database just now and nothing was saved. Try again in a minute.'
  if (isHtmxPartialRequest(request)) return htmxError(reply, 503, text)
  // Only ever back to one of our own routes (never `//elsewhere`): the form carries the CSRF token.
  const path = request.is404 ? undefined : safeReturnPath(request.url)
  const fields = path ? await unsentFormFields(request) : undefined
  return reply.code(503).page('errors/unavailable', {
    title: busy ? 'KYC Desk is busy' : 'KYC Desk cannot reach its database',
    busy,
    retryUrl: request.method === 'GET' && path ? path : '/',
    resend: fields ? { action: path, fields: fields.filter(([name]) => name !== '_csrf'), all: fields } : undefined,
  })
}

/**
 * The one place a refused form is answered (src/forms/rule-error.ts): a rule's refusal (RuleError), or a
 * body its schema refused on a route that declares its form, shows that form again, with the problems in
 * its error summary and beside their fields, and what was typed kept (except a refused value itself, which
 * may hold a NUL or 100,000 characters). A refusal on a route without a form gets a page saying why.
 */
async function answeredRefusal(error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  // Answers through `reply` and says whether it did (a reply is thenable, so it is never returned from here).
  const form = request.routeOptions?.config?.form
  // The form's page may itself fail (what it was about is gone, or not for this reader): that failure is
  // answered like any other error, without trying the form again.
  const rerender: typeof form = form
    ? async (...args) => {
        try {
          return await form(...args)
        } catch (failure) {
          return answerError(failure as FastifyError, request, reply, false)
        }
      }
    : undefined
  if (error instanceof RuleError) {
    if (rerender) await rerender(request, reply.code(error.status), error.errors, error)
    else if (isHtmxPartialRequest(request))
      await htmxError(reply, error.status, `Nothing was changed: ${error.message}`)
    else
      await reply
        .code(error.status)
        .page('errors/bad-request', { title: 'This was not done', refused: true, problems: [error.message] })
    return true
  }
  if (error.validation && error.validationContext === 'body' && rerender) {
    const problems = inputFieldErrors(error.validation, 'body')
    const body = request.body as Record<string, unknown> | undefined
    const errors = new FormErrors()
    for (const problem of problems) {
      if (body && problem.field) delete body[problem.field]
      errors.add(problem.field, problem.message)
    }
    await rerender(request, reply.code(422), errors)
    return true
  }
  return false
}

/**
 * Every error's answer. `refusals` false: a refused form is not shown again (its page is what failed).
 */
async function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, refusals = true) {
  const trouble = databaseTrouble(error) ?? databaseTrouble(error.cause)
  if (trouble) {
    request.log.warn({ err: error, url: request.url, method: request.method }, `database ${trouble}`)
    return unavailable(request, reply, trouble === 'busy')
  }
  if (refusals && (await answeredRefusal(error, request, reply))) return reply
  const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
  if (status >= 500) {
    request.log.error({ err: error, url: request.url, method: request.method }, 'request failed')
    if (isHtmxPartialRequest(request)) {
      return htmxError(reply, 500, 'Something went wrong and nothing was changed. Try again in a moment.')
    }
    return reply.code(500).page('errors/500', { title: 'Something went wrong' })
  }
  if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
    if (isHtmxPartialRequest(request)) {
      return htmxError(reply, 403, 'Your page has expired and nothing was changed. Reload the page, then try again.')
    }
    return reply.code(403).page('errors/csrf', { title: 'This form has expired' })
  }
  if (status === 404) {
    if (isHtmxPartialRequest(request)) return htmxError(reply, 404, 'That no longer exists.')
    return reply.code(404).page('errors/404', { title: 'Page not found' })
  }
  if (status === 429) {
    return reply.code(429).page('errors/too-many', { title: 'Too many attempts' })
  }
  const problems = error.validation
    ? describeInputErrors(error.validation, error.validationContext)
    : status === 415
      ? ['This address takes only the form it belongs to: send it from its page in KYC Desk.']
      : []
  if (isHtmxPartialRequest(request)) {
    return htmxError(reply, status, `Nothing was changed: ${problems[0] ?? 'the request could not be understood'}.`)
  }
  return reply.code(status).page('errors/bad-request', { title: 'The request could not be understood', problems })
}

/**
 * Error pages that never show a stack trace or an internal message. 5xx are logged with the request's
 * context; 4xx raised by plugins (CSRF, rate limit, bad input) get a page saying what to do.
 */
export default fp(
  async (app) => {
    app.setNotFoundHandler(async (_request, reply) => reply.code(404).page('errors/404', { title: 'Page not found' }))

    app.setErrorHandler(async (error: FastifyError, request, reply) => answerError(error, request, reply))
  },
  { name: 'errors', dependencies: ['render'] },
)
