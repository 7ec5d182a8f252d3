import type { FastifyInstance } from 'fastify'
import { writeAudit } from '../audit/audit.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { safeReturnPath } from '../plugins/app/guard.js'
import { attemptLogin } from './service.js'

const GENERIC_FAILURE = 'Email or password is incorrect'

export default async function authRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { next?: string; signed_out?: string; welcome?: string } }>(
    '/login',
    { config: { access: 'public' } },
    async (request, reply) => {
      if (request.user) return reply.redirect(safeReturnPath(request.query.next) ?? '/', 303)
      return reply.page('auth/login', {
        title: 'Sign in',
        needsCsrf: true,
        values: { email: '' },
        next: safeReturnPath(request.query.next) ?? '',
        errors: new FormErrors(),
        signedOut: request.query.signed_out === '1',
        welcome: request.query.welcome === '1',
      })
    },
  )

  app.post(
    '/login',
    {
      config: {
        access: 'public',
        rateLimit: { max: 30, timeWindow: '1 minute' },
      },
    },
    async (request, reply) => {
      const email = text(request.body, 'email')
      const password = (request.body as Record<string, unknown> | undefined)?.password
      const next = safeReturnPath(text(request.body, 'next')) ?? ''
      const errors = new FormErrors()
      if (!email) errors.add('email', 'Enter your email address')
      if (typeof password !== 'string' || password === '') errors.add('password', 'Enter your password')

      if (!errors.any) {
        const result = await attemptLogin(app.db, email, password as string, request.ip)
        if (result.ok) {
          const { user } = result
          // A new session id at login: a session fixed before login is worth nothing after it.
          await request.session.regenerate()
          request.session.userId = user.id
          request.session.companyId = user.company_id
          request.session.startedAt = new Date().toISOString()
          request.session.userAgent = String(request.headers['user-agent'] ?? '').slice(0, 300)
          request.session.ip = request.ip
          return reply.redirect(next || '/', 303)
        }
        if (result.reason === 'throttled') {
          errors.add('email', 'Too many failed attempts. Wait 15 minutes, then try again.')
          reply.code(429)
        } else {
          errors.add('email', GENERIC_FAILURE)
          reply.code(401)
        }
      } else {
        reply.code(400)
      }
      return reply.page('auth/login', { title: 'Sign in', needsCsrf: true, values: { email }, next, errors })
    },
  )

  app.post('/logout', { config: { access: 'authenticated' } }, async (request, reply) => {
    const user = request.user
    if (user) {
      await writeAudit(app.db, {
        companyId: user.companyId,
        actorUserId: user.id,
        action: 'auth.logout',
        targetType: 'user',
        targetId: user.id,
        ip: request.ip,
      })
    }
    await request.session.destroy()
    return reply.redirect('/login?signed_out=1', 303)
  })
}
