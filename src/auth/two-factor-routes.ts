import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { secondFactorRequired } from '../access/two-factor.js'
import { writeAudit } from '../audit/audit.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { signedInUser } from '../http/params.js'
import { fields, formBody } from '../http/schemas.js'
import { findUserById } from '../identity/user-row.js'
import type { Flash } from '../types.js'
import { routeUser } from '../users/target.js'
import { establishSession } from './routes.js'
import {
  checkSecondFactor,
  confirmEnrolment,
  enrolmentPicture,
  enrolmentSecret,
  RECOVERY_CODES,
  recoveryCodesLeft,
  resetSecondFactor,
  totpOf,
} from './two-factor.js'

/** How long the code page stays open after the password was right. */
const PENDING_MINUTES = 5

/**
 * Two-factor sign-in (issue 17): the code asked after the password, enrolment from the profile (a QR code drawn
 * on the server and the secret as text, confirmed with a code; ten recovery codes shown once), and an
 * administrator's reset of a user's second factor.
 */
export default async function twoFactorRoutes(app: FastifyInstance) {
  /** The account waiting for its second factor, while the wait is open. */
  const pendingUser = async (request: FastifyRequest) => {
    const pending = request.session.pendingSecondFactor
    if (!pending || Date.now() - new Date(pending.at).getTime() > PENDING_MINUTES * 60_000) return undefined
    const user = await findUserById(app.db, pending.userId)
    return user?.active ? { user, next: pending.next } : undefined
  }

  const codePage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    // Without a sign-in waiting for its code, the page leads back to sign in; a refused form is still answered
    // with its problems (the next try leads back).
    if (!errors.any && !(await pendingUser(request))) return reply.redirect('/login', 303)
    return reply.page('auth/code', { title: 'Two-factor sign-in', needsCsrf: true, errors })
  }

  app.get('/login/code', { config: { access: 'public' } }, codePage)

  app.post(
    '/login/code',
    {
      config: { access: 'public', form: codePage, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody(fields(['code'], 200)) },
    },
    async (request, reply) => {
      const pending = await pendingUser(request)
      if (!pending) return reply.redirect('/login', 303)
      const code = text(request.body, 'code')
      if (!code) throw new RuleError('code', 'Enter the code from your authenticator app, or a recovery code')
      const result = await checkSecondFactor(app.db, pending.user, code, request.ip)
      if (!result.ok && result.waitSeconds > 0) {
        reply.code(429).header('Retry-After', String(result.waitSeconds))
        return codePage(
          request,
          reply,
          new FormErrors().add('code', `Too many wrong codes. Wait ${result.waitSeconds} seconds, then try again.`),
        )
      }
      if (!result.ok) throw new RuleError('code', 'That code is not right, or was used already')
      let flash: Flash | undefined
      if (result.by === 'recovery_code') {
        const left = await recoveryCodesLeft(app.db, pending.user.id)
        flash = {
          kind: 'info',
          text: `You signed in with a recovery code; ${left} of ${RECOVERY_CODES} are left. Each works once.`,
        }
      }
      return establishSession(app, request, reply, pending.user, pending.next, true, flash)
    },
  )

  /** The profile's two-factor page: the state, or the enrolment (QR code, secret, code to confirm). */
  const profilePage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const state = await totpOf(app.db, user.id)
    if (state?.confirmed) {
      return reply.page('auth/two-factor', {
        title: 'Two-factor sign-in',
        on: true,
        codesLeft: await recoveryCodesLeft(app.db, user.id),
        errors,
      })
    }
    const secret = await enrolmentSecret(app.db, user)
    const picture = await enrolmentPicture(secret, { email: user.email, companyName: user.companyName })
    reply.header('Cache-Control', 'no-store')
    return reply.page('auth/two-factor', {
      title: 'Two-factor sign-in',
      on: false,
      required: secondFactorRequired(user),
      qrSvg: picture.svg,
      // In groups of four, as authenticator apps show a secret typed in by hand.
      secretText: secret.replace(/(.{4})/g, '$1 ').trim(),
      needsCsrf: true,
      errors,
    })
  }

  const SET_UP = { access: 'authenticated', beforeSecondFactor: true } as const

  app.get('/profile/two-factor', { config: SET_UP }, profilePage)

  app.post(
    '/profile/two-factor',
    {
      config: { ...SET_UP, form: profilePage, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: { body: formBody(fields(['code'], 200)) },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const code = text(request.body, 'code')
      if (!code) throw new RuleError('code', 'Enter the 6-digit code your authenticator app shows')
      const codes = await confirmEnrolment(app.db, user, code, request.ip)
      if (!codes)
        throw new RuleError('code', 'That code is not right. Check the time on your phone, then try the newest code')
      request.session.recoveryCodes = codes
      return reply.redirect('/profile/two-factor/recovery-codes', 303)
    },
  )

  // The recovery codes just made, once: reloading the page shows them no more.
  app.get('/profile/two-factor/recovery-codes', { config: SET_UP }, async (request, reply) => {
    const codes = request.session.recoveryCodes
    if (!codes) return reply.redirect('/profile/two-factor', 303)
    request.session.recoveryCodes = undefined
    reply.header('Cache-Control', 'no-store')
    return reply.page('auth/recovery-codes', { title: 'Your recovery codes', codes })
  })

  const REQUIRED_CHOICES = [
    { value: 'off', label: 'Not required', note: 'each user chooses' },
    { value: 'administrators', label: 'Required for System Administrators' },
    { value: 'everyone', label: 'Required for everyone' },
  ] as const
  const ADMIN = { access: { permission: 'system_administrator' } } as const

  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const without = await app
      .db('users as u')
      .where({ 'u.company_id': user.companyId, 'u.active': true })
      .whereNotExists(app.db('user_totp as t').whereRaw('t.user_id = u.id').whereNotNull('t.confirmed_at'))
      .count({ n: '*' })
      .first()
    return reply.page('auth/sign-in-settings', {
      title: 'Sign-in security',
      choices: REQUIRED_CHOICES,
      value: text(request.body, 'two_factor_required') || user.twoFactor.companyRequires,
      withoutSecondFactor: Number(without?.n),
      errors,
    })
  }

  app.get('/settings/sign-in', { config: ADMIN }, settingsPage)

  app.post(
    '/settings/sign-in',
    { config: { ...ADMIN, form: settingsPage }, schema: { body: formBody(fields(['two_factor_required'], 40)) } },
    async (request, reply) => {
      const user = signedInUser(request)
      const chosen = REQUIRED_CHOICES.find((c) => c.value === text(request.body, 'two_factor_required'))
      if (!chosen) throw new RuleError('two_factor_required', 'Choose who must use two-factor sign-in')
      await app.db.transaction(async (trx) => {
        const before = await trx('companies')
          .where({ id: user.companyId })
          .forNoKeyUpdate()
          .first('two_factor_required')
        if (before?.two_factor_required === chosen.value) return
        await trx('companies').where({ id: user.companyId }).update({ two_factor_required: chosen.value })
        await writeAudit(trx, {
          companyId: user.companyId,
          actorUserId: user.id,
          action: 'settings.two_factor_changed',
          targetType: 'company',
          targetId: user.companyId,
          before: { two_factor_required: before?.two_factor_required },
          after: { two_factor_required: chosen.value },
          ip: request.ip,
        })
      })
      reply.flash({ kind: 'success', text: `Two-factor sign-in: ${chosen.label.toLowerCase()}.` })
      return reply.redirect('/settings/sign-in', 303)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/two-factor/reset',
    { config: { access: { permission: 'system_administrator' } } },
    async (request, reply) => {
      const actor = signedInUser(request)
      const target = await routeUser(request)
      const removed = await resetSecondFactor(
        app.db,
        { userId: actor.id, companyId: actor.companyId, ip: request.ip },
        target,
      )
      reply.flash(
        removed
          ? {
              kind: 'success',
              text: `${isolate(target.name)}’s two-factor sign-in was reset; they were told by email.`,
            }
          : { kind: 'info', text: `${isolate(target.name)} has no two-factor sign-in to reset.` },
      )
      return reply.redirect(`/settings/users/${target.id}`, 303)
    },
  )
}
