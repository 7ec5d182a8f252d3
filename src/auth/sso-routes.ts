import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { writeAudit } from '../audit/audit.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import { isUuid, signedInUser } from '../http/params.js'
import { fields, formBody, MAX_PARAM, query } from '../http/schemas.js'
import { activeAdministrators } from '../users/queries.js'
import { establishSession } from './routes.js'
import { finishSignIn, SSO_PENDING_MINUTES, ssoOf, startSignIn } from './sso.js'

/**
 * Single sign-on (issue 17): a company's sign-in link (/login/sso/:company) leaves for its OpenID provider and
 * comes back to /login/sso/callback; Settings > Single sign-on configures it.
 */
export default async function ssoRoutes(app: FastifyInstance) {
  const redirectUri = `${app.config.publicUrl}/login/sso/callback`
  const failed = (reply: FastifyReply, status: number) =>
    reply.code(status).page('auth/sso-failed', { title: 'Single sign-on did not work' })

  app.get<{ Params: { company: string } }>(
    '/login/sso/:company',
    { config: { access: 'public', rateLimit: { max: 60, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const companyId = request.params.company
      const sso = isUuid(companyId) ? await ssoOf(app.db, companyId) : undefined
      if (!sso) return reply.code(404).page('auth/sso-failed', { title: 'Single sign-on did not work', unknown: true })
      let start: Awaited<ReturnType<typeof startSignIn>>
      try {
        start = await startSignIn(sso, redirectUri, app.config.production)
      } catch (error) {
        request.log.warn({ err: error, company: companyId }, 'single sign-on: the provider could not be reached')
        return failed(reply, 502)
      }
      request.session.ssoPending = start.pending
      return reply.redirect(start.url, 303)
    },
  )

  app.get(
    '/login/sso/callback',
    {
      config: { access: 'public', rateLimit: { max: 60, timeWindow: '1 minute' } },
      schema: {
        querystring: query(fields(['code', 'state', 'iss', 'error', 'error_description', 'session_state'], MAX_PARAM)),
      },
    },
    async (request, reply) => {
      const pending = request.session.ssoPending
      request.session.ssoPending = undefined
      const fresh = pending && Date.now() - new Date(pending.at).getTime() < SSO_PENDING_MINUTES * 60_000
      const sso = pending && fresh ? await ssoOf(app.db, pending.companyId) : undefined
      // Nothing waiting (the page reloaded, or reached from Back): back to sign in, saying why.
      if (!pending || !sso) {
        reply.flash({
          kind: 'error',
          text: 'That single sign-on had ended or was used already. Start again from your company’s sign-in link.',
        })
        return reply.redirect('/login', 303)
      }
      const url = new URL(request.url, redirectUri)
      const result = await finishSignIn(app.db, sso, pending, url, app.config.production, request.ip)
      if (!result.ok) return failed(reply, 403)
      // The provider is the company's way of signing in, its own second factor included.
      return establishSession(app, request, reply, result.user, '', true)
    },
  )

  const ADMIN = { access: { permission: 'system_administrator' } } as const
  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const sso = await ssoOf(app.db, user.companyId)
    const admins = await activeAdministrators(app.db, user.companyId)
    const typed = request.method === 'POST' ? (request.body as Record<string, unknown>) : undefined
    return reply.page('auth/sso-settings', {
      title: 'Single sign-on',
      values: {
        issuer: typed ? text(typed, 'issuer') : (sso?.issuer ?? ''),
        client_id: typed ? text(typed, 'client_id') : (sso?.client_id ?? ''),
        sso_only: typed ? typed.sso_only === '1' : Boolean(sso?.sso_only),
        break_glass: typed ? text(typed, 'break_glass') : (sso?.break_glass_user_id ?? ''),
      },
      configured: Boolean(sso),
      admins: admins.map((a) => ({ value: a.id, label: a.name })),
      redirectUri,
      signInUrl: `${app.config.publicUrl}/login/sso/${user.companyId}`,
      errors,
    })
  }

  app.get('/settings/sso', { config: ADMIN }, settingsPage)

  app.post(
    '/settings/sso',
    {
      config: { ...ADMIN, form: settingsPage },
      schema: { body: formBody(fields(['issuer', 'client_id', 'client_secret', 'sso_only', 'break_glass'], 500)) },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const body = request.body as Record<string, unknown>
      const issuer = text(body, 'issuer')
      const clientId = text(body, 'client_id')
      const secret = text(body, 'client_secret')
      const ssoOnly = body.sso_only === '1'
      const breakGlass = text(body, 'break_glass')
      const errors = new FormErrors()
      let url: URL | undefined
      try {
        url = new URL(issuer)
      } catch {}
      if (!url || !['https:', 'http:'].includes(url.protocol))
        errors.add('issuer', 'Enter the issuer URL of your provider, like https://login.example.com')
      else if (url.protocol === 'http:' && app.config.production)
        errors.add('issuer', 'The issuer URL must start with https://')
      if (!clientId) errors.add('client_id', 'Enter the client ID your provider gave KYC Desk')
      const before = await ssoOf(app.db, user.companyId)
      if (!secret && !before) errors.add('client_secret', 'Enter the client secret your provider gave KYC Desk')
      const admin = (await activeAdministrators(app.db, user.companyId)).some((a) => a.id === breakGlass)
      if (ssoOnly && !admin) errors.add('break_glass', 'Choose the administrator who may still sign in with a password')
      RuleError.throwIf(errors)
      const row = {
        company_id: user.companyId,
        issuer: url?.href.replace(/\/$/, '') ?? issuer,
        client_id: clientId,
        client_secret: secret || before?.client_secret,
        sso_only: ssoOnly,
        break_glass_user_id: admin ? breakGlass : null,
        updated_at: app.db.fn.now(),
        updated_by: user.id,
      }
      await app.db.transaction(async (trx) => {
        await trx('company_sso').insert(row).onConflict('company_id').merge()
        await writeAudit(trx, {
          companyId: user.companyId,
          actorUserId: user.id,
          action: 'settings.sso_changed',
          targetType: 'company',
          targetId: user.companyId,
          before: before
            ? {
                issuer: before.issuer,
                client_id: before.client_id,
                sso_only: before.sso_only,
                break_glass: before.break_glass_user_id,
              }
            : undefined,
          after: {
            issuer: row.issuer,
            client_id: row.client_id,
            sso_only: row.sso_only,
            break_glass: row.break_glass_user_id,
            secret_changed: Boolean(secret),
          },
          ip: request.ip,
        })
      })
      reply.flash({ kind: 'success', text: 'Single sign-on is saved.' })
      return reply.redirect('/settings/sso', 303)
    },
  )
}
