import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'

/**
 * Security headers with a strict Content-Security-Policy: scripts and styles only from our own origin,
 * no inline script or style (htmx's own indicator style is switched off in the layout's htmx-config).
 * Rate limits are opt-in per route (login), keyed by the client address fastify trusts.
 */
export default fp(
  async (app) => {
    await app.register(helmet, {
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
      strictTransportSecurity: app.config.production,
      crossOriginEmbedderPolicy: false,
    })
    await app.register(rateLimit, { global: false })
  },
  { name: 'security', dependencies: ['config'] },
)
