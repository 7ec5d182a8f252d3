import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import helmetHeaders from 'helmet'
import type { Config } from '../../config.js'
import { postgresRateLimitStore } from '../../http/rate-limit-store.js'

/** The security headers, one configuration for every answer (including the router's own errors). */
export function helmetOptions(config: Pick<Config, 'production'>) {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    // The app is served over plain HTTP locally; HSTS belongs to the TLS-terminating proxy in production.
    strictTransportSecurity: config.production,
    crossOriginEmbedderPolicy: false,
  }
}

const ROUTER_ERROR_PAGE = `<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>The request could not be understood – KYC Desk</title><link rel="stylesheet" href="/public/css/app.css"></head>
<body><main id="main"><h1>The request could not be understood</h1>
<p>The address was not valid, and nothing was changed.</p><p><a href="/">Go to the dashboard</a></p></main></body>
</html>
`

/**
 * Errors the router answers before any hook runs (a URL that cannot be decoded, a path parameter over the
 * length limit): by default JSON echoing the decoded path, without security headers. Here: the same headers
 * as every page, no-store, and the plain "could not be understood" page.
 */
export function frameworkErrorHandler(config: Pick<Config, 'production'>) {
  const setHeaders = helmetHeaders(helmetOptions(config))
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    setHeaders(request.raw, reply.raw, () => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
      // No hook or decorator has run for this request: a fixed page, echoing nothing of what was sent.
      reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(ROUTER_ERROR_PAGE)
    })
  }
}

/**
 * Security headers with a strict Content-Security-Policy: scripts and styles only from our own origin,
 * no inline script or style (htmx's own indicator style is switched off in the layout's htmx-config).
 * Rate limits are opt-in per route (login), keyed by the client address fastify trusts, and counted in
 * PostgreSQL so that they hold across every app process (src/http/rate-limit-store.ts).
 */
export default fp(
  async (app) => {
    await app.register(helmet, helmetOptions(app.config))
    await app.register(rateLimit, { global: false, store: postgresRateLimitStore(app.db) })
    // Pages carry personal data: no answer is kept by a browser or proxy cache unless it says otherwise
    // (the public assets do).
    app.addHook('onSend', async (_request, reply, payload) => {
      if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store')
      return payload
    })
  },
  { name: 'security', dependencies: ['config', 'db'] },
)
