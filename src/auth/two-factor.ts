import { randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import { generateSecret, generateURI, verify } from 'otplib'
import QRCode from 'qrcode'
import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { isolate } from '../forms/names.js'
import { secretHash } from '../identity/secrets.js'
import { enqueueEmail } from '../mail/outbox.js'
import { delaySeconds } from './throttle.js'

/**
 * Two-factor sign-in with TOTP (RFC 6238; issue 17), through otplib: 6 digits, 30-second steps, SHA-1, as
 * every authenticator app reads them. A code is accepted once: the step it was made for must be newer than
 * the account's last accepted step, and the update that records it is conditional on that, so of two racing
 * requests with one code only one signs in. Ten recovery codes per account, each accepted once, stored as
 * SHA-256. Failures are counted per account: after TWO_FACTOR_THROTTLE.free of them in 15 minutes, each
 * further one doubles the wait before the next try.
 */
export const RECOVERY_CODES = 10
export const TWO_FACTOR_THROTTLE = { free: 5, capSeconds: 15 * 60, windowMinutes: 15 } as const
/** One step either side of now, for clocks a little apart. */
const EPOCH_TOLERANCE_SECONDS = 30

export interface TotpState {
  secret: string
  confirmed: boolean
  lastTimeStep: number
}

export async function totpOf(db: Db | Knex.Transaction, userId: string): Promise<TotpState | undefined> {
  const row = await db('user_totp').where({ user_id: userId }).first('secret', 'confirmed_at', 'last_time_step')
  if (!row) return undefined
  return { secret: row.secret, confirmed: row.confirmed_at !== null, lastTimeStep: Number(row.last_time_step) }
}

/** Whether the account signs in with a second factor. */
export async function hasTwoFactor(db: Db, userId: string): Promise<boolean> {
  return Boolean((await totpOf(db, userId))?.confirmed)
}

/** The secret an enrolment shows: the account's unconfirmed one, or a new one (160 random bits). */
export async function enrolmentSecret(db: Db, user: { id: string; companyId: string }): Promise<string> {
  const secret = generateSecret()
  await db('user_totp')
    .insert({ user_id: user.id, company_id: user.companyId, secret })
    .onConflict(['user_id', 'company_id'])
    .ignore()
  const state = await totpOf(db, user.id)
  return state?.secret ?? secret
}

/** The otpauth:// URI of a secret and the QR code of it, as SVG made on the server (no script needed). */
export async function enrolmentPicture(secret: string, account: { email: string; companyName: string }) {
  const uri = generateURI({ issuer: `KYC Desk (${account.companyName})`, label: account.email, secret })
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return { uri, svg }
}

/** The step a code is valid for, newer than `after`, or undefined when the code is not right now. */
async function acceptedStep(secret: string, code: string, after: number): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined
  try {
    const result = await verify({
      secret,
      token: code,
      epochTolerance: EPOCH_TOLERANCE_SECONDS,
      ...(after > 0 ? { afterTimeStep: after } : {}),
    })
    return result.valid && 'timeStep' in result ? result.timeStep : undefined
  } catch {
    // otplib refuses an afterTimeStep past the steps it would check: no code can be new enough.
    return undefined
  }
}

/** Records the use of a step, if no one recorded it or a newer one first. */
async function claimStep(trx: Db | Knex.Transaction, userId: string, step: number): Promise<boolean> {
  const claimed = await trx('user_totp')
    .where({ user_id: userId })
    .where('last_time_step', '<', step)
    .update({ last_time_step: step })
  return claimed === 1
}

/** How many of the account's recovery codes are still unused. */
export async function recoveryCodesLeft(db: Db, userId: string): Promise<number> {
  const row = await db('user_recovery_codes').where({ user_id: userId }).whereNull('used_at').count({ n: '*' }).first()
  return Number(row?.n ?? 0)
}

/** A new set of recovery codes (shown once, stored hashed): ten groups of 5 + 5 letters and digits. */
export async function newRecoveryCodes(trx: Knex.Transaction, user: { id: string; companyId: string }) {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const raw = randomBytes(10).toString('base64url').replace(/[-_]/g, '').toLowerCase().padEnd(10, '0').slice(0, 10)
    return `${raw.slice(0, 5)}-${raw.slice(5)}`
  })
  await trx('user_recovery_codes').where({ user_id: user.id }).delete()
  await trx('user_recovery_codes').insert(
    codes.map((code) => ({ company_id: user.companyId, user_id: user.id, code_hash: secretHash(code) })),
  )
  return codes
}

/**
 * Confirms an enrolment with a code of the new secret: the second factor is on from now, and the ten recovery
 * codes are returned (to show once). Undefined when the code is not right.
 */
export async function confirmEnrolment(
  db: Db,
  user: { id: string; companyId: string },
  code: string,
  ip: string,
): Promise<string[] | undefined> {
  const state = await totpOf(db, user.id)
  if (!state || state.confirmed) return undefined
  const step = await acceptedStep(state.secret, code.replace(/\s/g, ''), state.lastTimeStep)
  if (step === undefined) return undefined
  return db.transaction(async (trx) => {
    if (!(await claimStep(trx, user.id, step))) return undefined
    const confirmed = await trx('user_totp')
      .where({ user_id: user.id })
      .whereNull('confirmed_at')
      .update({ confirmed_at: trx.fn.now() })
    if (confirmed !== 1) return undefined
    const codes = await newRecoveryCodes(trx, user)
    await writeAudit(trx, {
      companyId: user.companyId,
      actorUserId: user.id,
      action: 'auth.two_factor_enabled',
      targetType: 'user',
      targetId: user.id,
      ip,
    })
    return codes
  })
}

/** Whole seconds the account must wait before its next code; 0 when it may try now. */
export async function secondFactorWait(db: Db | Knex.Transaction, userId: string): Promise<number> {
  const { rows } = await db.raw<{ rows: { n: number; last: Date | null; now: Date }[] }>(
    `SELECT count(*)::int AS n, max(created_at) AS last, now() AS now FROM second_factor_attempts
     WHERE user_id = ? AND NOT succeeded AND created_at > now() - make_interval(mins => ?)
       AND created_at > coalesce((SELECT max(created_at) FROM second_factor_attempts
                                  WHERE user_id = ? AND succeeded), '-infinity')`,
    [userId, TWO_FACTOR_THROTTLE.windowMinutes, userId],
  )
  const r = rows[0]
  if (!r?.last) return 0
  const until = new Date(r.last).getTime() + delaySeconds(r.n, TWO_FACTOR_THROTTLE) * 1000
  return Math.max(0, Math.ceil((until - new Date(r.now).getTime()) / 1000))
}

export type SecondFactorResult = { ok: true; by: 'code' | 'recovery_code' } | { ok: false; waitSeconds: number }

/**
 * Checks a code typed at sign-in: six digits from the authenticator app, or a recovery code. Each is accepted
 * once. Every attempt is recorded for throttling; a failure is audited.
 */
export async function checkSecondFactor(
  db: Db,
  user: { id: string; company_id: string },
  typed: string,
  ip: string,
): Promise<SecondFactorResult> {
  // One check at a time per account: the wait, the check and its record are read and written in order, so
  // that many requests at once cannot all find no wait.
  return db.transaction(async (trx) => {
    await trx('user_totp').where({ user_id: user.id }).forUpdate().first('user_id')
    return checkLocked(trx, user, typed, ip)
  })
}

async function checkLocked(
  db: Knex.Transaction,
  user: { id: string; company_id: string },
  typed: string,
  ip: string,
): Promise<SecondFactorResult> {
  const wait = await secondFactorWait(db, user.id)
  if (wait > 0) return { ok: false, waitSeconds: wait }
  const code = typed.replace(/\s/g, '').toLowerCase()
  const state = await totpOf(db, user.id)
  let by: 'code' | 'recovery_code' | undefined
  if (state?.confirmed && /^\d{6}$/.test(code)) {
    const step = await acceptedStep(state.secret, code, state.lastTimeStep)
    if (step !== undefined && (await claimStep(db, user.id, step))) by = 'code'
  } else if (state?.confirmed && /^[a-z0-9]{5}-?[a-z0-9]{5}$/.test(code)) {
    const hash = secretHash(code.includes('-') ? code : `${code.slice(0, 5)}-${code.slice(5)}`)
    const used = await db('user_recovery_codes')
      .where({ user_id: user.id, code_hash: hash })
      .whereNull('used_at')
      .update({ used_at: db.fn.now() })
    if (used === 1) by = 'recovery_code'
  }
  await db('second_factor_attempts').insert({
    company_id: user.company_id,
    user_id: user.id,
    ip,
    succeeded: by !== undefined,
  })
  if (by === 'recovery_code') {
    await writeAudit(db, {
      companyId: user.company_id,
      actorUserId: user.id,
      action: 'auth.recovery_code_used',
      targetType: 'user',
      targetId: user.id,
      ip,
    })
  }
  if (by) return { ok: true, by }
  await writeAudit(db, {
    companyId: user.company_id,
    actorUserId: user.id,
    action: 'auth.second_factor_failed',
    targetType: 'user',
    targetId: user.id,
    ip,
  })
  return { ok: false, waitSeconds: 0 }
}

/**
 * An administrator removes a user's second factor (they lost their phone and their recovery codes): the
 * secret and the codes go, the user is told by email, and it is audited. The user enrols again at their next
 * sign-in if the company requires it. Returns whether there was one to remove.
 */
export async function resetSecondFactor(
  db: Db,
  actor: { userId: string; companyId: string; ip: string },
  target: { id: string; name: string; email: string },
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const removed = await trx('user_totp').where({ user_id: target.id, company_id: actor.companyId }).delete()
    await trx('user_recovery_codes').where({ user_id: target.id, company_id: actor.companyId }).delete()
    if (removed === 0) return false
    await writeAudit(trx, {
      companyId: actor.companyId,
      actorUserId: actor.userId,
      action: 'user.two_factor_reset',
      targetType: 'user',
      targetId: target.id,
      ip: actor.ip,
    })
    await enqueueEmail(trx, {
      companyId: actor.companyId,
      to: target.email,
      subject: 'Your KYC Desk two-factor sign-in was reset',
      text: [
        `Hello ${isolate(target.name)},`,
        '',
        'An administrator removed the authenticator app and the recovery codes of your KYC Desk account.',
        'Sign in with your password; you will be asked to set up two-factor sign-in again where it is required.',
        'If you did not ask for this, tell your administrator at once.',
      ].join('\n'),
    })
    return true
  })
}
