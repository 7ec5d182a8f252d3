import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FormErrors, text } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import { signedInUser } from '../http/params.js'
import { fields, formBody, one, query } from '../http/schemas.js'
import { newPasswordOf } from '../users/invitations.js'
import { changeOwnPassword } from './own-password.js'
import { completeReset, findOpenReset, RESET, requestReset } from './password-reset.js'

/**
 * Forgotten and changed passwords (issue 17): the link from the sign-in page, the page of a reset link, and
 * the change of one's own password from the profile.
 */
export default async function passwordRoutes(app: FastifyInstance) {
  const forgotPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) =>
    reply.page('auth/forgot', {
      title: 'Forgotten password',
      needsCsrf: true,
      values: { email: text(request.body, 'email') },
      sent: (request.query as { sent?: string } | undefined)?.sent === '1',
      linkMinutes: RESET.linkMinutes,
      errors,
    })

  app.get(
    '/login/forgot',
    {
      config: { access: 'public', rateLimit: { max: 120, timeWindow: '1 minute' } },
      schema: { querystring: query({ sent: one(10) }) },
    },
    forgotPage,
  )

  // The same answer, after the same work (one row written), whether or not the address has an account.
  app.post(
    '/login/forgot',
    {
      config: { access: 'public', form: forgotPage, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody(fields(['email'], 2_000)) },
    },
    async (request, reply) => {
      const email = text(request.body, 'email')
      if (!email) throw new RuleError('email', 'Enter your email address')
      if (email.length > 254) throw new RuleError('email', 'Enter an email address of at most 254 characters')
      if (!/^[^\s@]+@[^\s@]+$/.test(email))
        throw new RuleError('email', 'Enter an email address in the right form, like name@example.com')
      if (!(await requestReset(app.db, email, request.ip))) {
        reply.code(429).header('Retry-After', '3600')
        return forgotPage(
          request,
          reply,
          new FormErrors().add('email', 'Too many requests from your network. Wait an hour, then try again.'),
        )
      }
      return reply.redirect('/login/forgot?sent=1', 303)
    },
  )

  /** The new-password form of an open link (never showing what was typed), or the page saying the link is dead. */
  const resetPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    reply.header('Referrer-Policy', 'no-referrer').header('Cache-Control', 'no-store')
    const reset = await findOpenReset(app.db, (request.params as { token: string }).token)
    if (!reset) return reply.code(404).page('auth/reset-invalid', { title: 'This link does not work' })
    return reply.page('auth/reset', { title: 'Choose a new password', needsCsrf: true, reset, errors })
  }

  app.get<{ Params: { token: string } }>('/login/reset/:token', { config: { access: 'public' } }, resetPage)

  app.post<{ Params: { token: string } }>(
    '/login/reset/:token',
    {
      config: { access: 'public', form: resetPage, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody(fields(['password', 'password_confirmation'], 2_000)) },
    },
    async (request, reply) => {
      const password = newPasswordOf(request.body)
      const done = await completeReset(app.db, request.params.token, password, request.ip)
      if (!done) return resetPage(request, reply)
      reply.header('Cache-Control', 'no-store')
      return reply.redirect('/login?reset=1', 303)
    },
  )

  const changePage = async (_request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) =>
    reply.page('auth/change-password', { title: 'Change your password', needsCsrf: true, errors })

  app.get('/profile/password', { config: { access: 'authenticated' } }, changePage)

  app.post(
    '/profile/password',
    {
      config: { access: 'authenticated', form: changePage, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody(fields(['current_password', 'password', 'password_confirmation'], 2_000)) },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const given = (request.body as Record<string, unknown> | undefined)?.current_password
      const current = typeof given === 'string' ? given : ''
      if (!current) throw new RuleError('current_password', 'Enter your current password')
      const password = newPasswordOf(request.body)
      const { ended, validAfter } = await changeOwnPassword(
        app.db,
        user,
        request.session.sessionId,
        current,
        password,
        request.ip,
      )
      // This session goes on: it counts from the moment the others stopped counting.
      request.session.startedAt = validAfter.toISOString()
      reply.flash({
        kind: 'success',
        text: `Your password is changed${ended > 0 ? `, and your ${ended} other ${ended === 1 ? 'session has' : 'sessions have'} ended` : ''}.`,
      })
      return reply.redirect('/profile', 303)
    },
  )
}
