import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import multipart from '@fastify/multipart'
import session from '@fastify/session'
import fp from 'fastify-plugin'
import { PgSessionStore } from '../../identity/session-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessionStore: PgSessionStore
  }
}

/**
 * Form bodies (urlencoded and multipart), cookies, database-backed sessions and CSRF tokens kept in the session. The session is
 * written only when it changes (saveUninitialized: false, rolling: false); idle and absolute timeouts
 * are enforced by the store from its columns, and last-seen is refreshed at most once a minute.
 */
export default fp(
  async (app) => {
    const { config } = app
    await app.register(formbody)
    // Every route takes url-encoded forms (or, for uploads, multipart ones): a JSON or text body with a valid
    // token must not be processed where a form is expected, so Fastify's own parsers for them are removed.
    app.removeContentTypeParser(['application/json', 'text/plain'])
    // Uploads are streamed by the handler; one file per request, size-limited here.
    await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1, fields: 10, parts: 12 } })
    // Signs the cookie that carries a visitor's CSRF secret before there is a session (plugins/app/csrf.ts).
    await app.register(cookie, { secret: config.sessionSecret })
    const store = new PgSessionStore(app.db, {
      idleMinutes: config.idleTimeoutMinutes,
      absoluteHours: config.absoluteTimeoutHours,
    })
    app.decorate('sessionStore', store)
    await app.register(session, {
      secret: config.sessionSecret,
      cookieName: config.production ? '__Host-kyc.sid' : 'kyc.sid',
      store,
      saveUninitialized: false,
      rolling: false,
      cookie: {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: config.production,
        // A browser-session cookie; the server decides when a session is over.
        maxAge: undefined,
      },
    })
    await app.register(csrf, { sessionPlugin: '@fastify/session' })
  },
  { name: 'session', dependencies: ['config', 'db'] },
)
