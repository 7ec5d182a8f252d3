import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { isHtmxPartialRequest } from './render.js'

/**
 * Error pages that never show a stack trace or an internal message. 5xx are logged with the request's
 * context; 4xx raised by plugins (CSRF, rate limit, bad input) get a page saying what to do.
 */
export default fp(
  async (app) => {
    app.setNotFoundHandler(async (_request, reply) => reply.code(404).page('errors/404', { title: 'Page not found' }))

    app.setErrorHandler(async (error: FastifyError, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
      if (status >= 500) {
        request.log.error({ err: error, url: request.url, method: request.method }, 'request failed')
        if (isHtmxPartialRequest(request)) {
          return reply.htmxStatus(500, {
            kind: 'error',
            text: 'Something went wrong and nothing was changed. Try again in a moment.',
          })
        }
        return reply.code(500).page('errors/500', { title: 'Something went wrong' })
      }
      if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
        if (isHtmxPartialRequest(request)) {
          return reply.htmxStatus(403, {
            kind: 'error',
            text: 'Your page has expired and nothing was changed. Reload the page, then try again.',
          })
        }
        return reply.code(403).page('errors/csrf', { title: 'This form has expired' })
      }
      if (status === 404) {
        if (isHtmxPartialRequest(request))
          return reply.htmxStatus(404, { kind: 'error', text: 'That no longer exists.' })
        return reply.code(404).page('errors/404', { title: 'Page not found' })
      }
      if (status === 429) {
        return reply.code(429).page('errors/too-many', { title: 'Too many attempts' })
      }
      return reply.code(status).page('errors/bad-request', { title: 'The request could not be understood' })
    })
  },
  { name: 'errors', dependencies: ['render'] },
)
