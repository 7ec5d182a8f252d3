import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { writeAudit } from '../audit/audit.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isUuid } from '../http/params.js'
import { fields, formBody, MAX_PARAM, one, query } from '../http/schemas.js'
import { findUserById, type UserRow } from '../identity/user-row.js'
import { safeReturnPath } from '../plugins/app/guard.js'
import type { Flash } from '../types.js'
import { attemptLogin, auditLogin } from './service.js'
import { hasTwoFactor } from './two-factor.js'

const GENERIC_FAILURE = 'Email or password is incorrect'
/** How long the choice of company stays open after the password was right. */
const CHOICE_MINUTES = 5

/**
 * Signs the account in: a new session id (a session fixed before login is worth nothing after it). An account
 * with a second factor is signed in only once its code is given (`secondFactorDone`, src/auth/two-factor-routes.ts):
 * until then its session holds the pending sign-in alone.
 */
export async function establishSession(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  user: UserRow,
  next: string,
  secondFactorDone = false,
  /** A message for the first page of the session. */
  flash?: Flash,
) {
  if (!secondFactorDone && (await hasTwoFactor(app.db, user.id))) {
    await request.session.regenerate()
    request.session.pendingSecondFactor = { userId: user.id, at: new Date().toISOString(), next }
    return reply.redirect('/login/code', 303)
  }
  await request.session.regenerate()
  request.session.userId = user.id
  request.session.companyId = user.company_id
  request.session.startedAt = new Date().toISOString()
  request.session.userAgent = String(request.headers['user-agent'] ?? '').slice(0, 300)
  request.session.ip = request.ip
  if (flash) request.session.flash = flash
  await auditLogin(app.db, user, request.ip)
  return reply.redirect(next || '/', 303)
}

/** The accounts waiting for a choice of company, when the choice is still open. */
function pendingAccounts(request: FastifyRequest): string[] | undefined {
  const pending = request.session.pendingLogin
  if (!pending || Date.now() - new Date(pending.at).getTime() > CHOICE_MINUTES * 60_000) return undefined
  return pending.userIds
}

export default async function authRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { next?: string; signed_out?: string; welcome?: string; reset?: string } }>(
    '/login',
    // Showing the form writes nothing (no session until a login succeeds), and is rate limited anyway.
    {
      config: { access: 'public', rateLimit: { max: 120, timeWindow: '1 minute' } },
      schema: { querystring: query({ next: one(MAX_PARAM), signed_out: one(10), welcome: one(10), reset: one(10) }) },
    },
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
        reset: request.query.reset === '1',
      })
    },
  )

  app.post(
    '/login',
    {
      config: { access: 'public', rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody(fields(['email', 'password', 'next'], 2_000)) },
    },
    async (request, reply) => {
      const email = text(request.body, 'email')
      const password = (request.body as Record<string, unknown> | undefined)?.password
      const next = safeReturnPath(text(request.body, 'next')) ?? ''
      const errors = new FormErrors()
      if (!email) errors.add('email', 'Enter your email address')
      else if (email.length > 254) errors.add('email', 'Enter an email address of at most 254 characters')
      if (typeof password !== 'string' || password === '') errors.add('password', 'Enter your password')
      else if (password.length > 1000) errors.add('password', 'Enter a password of at most 1,000 characters')

      if (!errors.any) {
        const result = await attemptLogin(app.db, email, password as string, request.ip)
        if (result.ok && result.accounts.length === 1) {
          return establishSession(app, request, reply, result.accounts[0] as UserRow, next)
        }
        if (result.ok) {
          // The password is right for accounts in several companies: the person says which one.
          await request.session.regenerate()
          request.session.pendingLogin = {
            userIds: result.accounts.map((u) => u.id),
            at: new Date().toISOString(),
            next,
          }
          return reply.redirect('/login/company', 303)
        }
        if (result.reason === 'throttled') {
          const wait = result.waitSeconds
          const when = wait < 120 ? `${wait} second${wait === 1 ? '' : 's'}` : `${Math.ceil(wait / 60)} minutes`
          errors.add('email', `Too many failed attempts. Wait ${when}, then try again.`)
          reply.code(429).header('Retry-After', String(wait))
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

  const chooseCompanyPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const ids = pendingAccounts(request)
    if (!ids) return reply.redirect('/login', 303)
    const accounts = (await Promise.all(ids.map((id) => findUserById(app.db, id)))).filter((u) => u?.active)
    return reply.page('auth/choose-company', {
      title: 'Choose a company',
      accounts: accounts.map((u) => ({ id: u?.id, company: u?.company_name })),
      errors,
    })
  }

  app.get('/login/company', { config: { access: 'public' } }, async (request, reply) =>
    chooseCompanyPage(request, reply),
  )

  app.post(
    '/login/company',
    {
      config: { access: 'public', rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody({ account: one(100) }) },
    },
    async (request, reply) => {
      const chosen = text(request.body, 'account')
      const ids = pendingAccounts(request)
      if (!ids) return reply.redirect('/login', 303)
      const user = isUuid(chosen) && ids.includes(chosen) ? await findUserById(app.db, chosen) : undefined
      if (!user?.active) {
        return chooseCompanyPage(request, reply.code(422), new FormErrors().add('account', 'Choose a company'))
      }
      return establishSession(app, request, reply, user, request.session.pendingLogin?.next ?? '')
    },
  )

  app.post('/logout', { config: { access: 'authenticated', beforeSecondFactor: true } }, async (request, reply) => {
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
