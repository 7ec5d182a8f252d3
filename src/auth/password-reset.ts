import type { Knex } from 'knex'
import { passwordOffSql } from '../access/sign-in.js'
import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { isolate } from '../forms/names.js'
import { newSecret, secretHash } from '../identity/secrets.js'
import { deleteSessionsOfUser } from '../identity/session-store.js'
import { enqueueEmail } from '../mail/outbox.js'
import { hashPassword } from './passwords.js'

/**
 * Forgotten passwords (issue 17). Asking for a link writes one row whether or not the address has an account
 * (requestReset), so the answer and its time say nothing about the address; the job auth.password_resets
 * (sendResetLinks) emails a link to each active account of the address, one per company. A link works once,
 * for RESET.linkMinutes; only its hash is kept. Setting the new password ends every session of the account.
 */
export const RESET = {
  linkMinutes: 60,
  /** Links sent for one address per hour; requests beyond are answered the same and sent nothing. */
  perAddress: 3,
  /** Requests from one client (IP address) per hour; beyond, the page says to wait. */
  perClient: 20,
} as const

/**
 * Records a request for a link. Returns false when the client has asked too often (the page says so, for any
 * address alike); a request over the address's limit is recorded as throttled and answered as any other.
 */
export async function requestReset(db: Db, email: string, ip: string): Promise<boolean> {
  // Requests for one address, and from one client, are counted one at a time (many at once would all find
  // the limit not reached).
  return db.transaction(async (trx) => {
    await trx.raw(
      'SELECT pg_advisory_xact_lock(hashtextextended(?, 17)), pg_advisory_xact_lock(hashtextextended(?, 18))',
      [email.toLowerCase(), ip],
    )
    return recordRequest(trx, email, ip)
  })
}

async function recordRequest(trx: Knex.Transaction, email: string, ip: string): Promise<boolean> {
  const { rows } = await trx.raw<{ rows: { client_over: boolean }[] }>(
    `WITH recent AS (
       SELECT count(*) FILTER (WHERE lower(email) = lower(:email)) AS address_n,
              count(*) FILTER (WHERE ip = :ip) AS client_n
       FROM password_reset_requests
       WHERE (lower(email) = lower(:email) OR ip = :ip) AND created_at > now() - interval '1 hour'
     )
     INSERT INTO password_reset_requests (email, ip, throttled)
     SELECT :email, :ip, address_n >= :perAddress OR client_n >= :perClient FROM recent
     RETURNING (SELECT client_n >= :perClient FROM recent) AS client_over`,
    { email, ip, perAddress: RESET.perAddress, perClient: RESET.perClient },
  )
  return !rows[0]?.client_over
}

/** Emails a link for each request waiting, to each active account of its address; returns the links sent. */
export async function sendResetLinks(db: Db, publicUrl: string): Promise<number> {
  let sent = 0
  for (;;) {
    const batch = await db.transaction(async (trx) => {
      const requests: { id: string; email: string; ip: string; throttled: boolean }[] = await trx(
        'password_reset_requests',
      )
        .whereNull('handled_at')
        .orderBy('id')
        .limit(50)
        .forUpdate()
        .skipLocked()
        .select('id', 'email', 'ip', 'throttled')
      for (const request of requests) {
        if (!request.throttled) sent += await sendLinks(trx, request, publicUrl)
      }
      if (requests.length > 0) {
        await trx('password_reset_requests')
          .whereIn(
            'id',
            requests.map((r) => r.id),
          )
          .update({ handled_at: trx.fn.now() })
      }
      return requests.length
    })
    if (batch < 50) return sent
  }
}

async function sendLinks(trx: Knex.Transaction, request: { email: string; ip: string }, publicUrl: string) {
  const accounts: { id: string; company_id: string; name: string; email: string; company_name: string }[] = await trx(
    'users as u',
  )
    .join('companies as c', 'c.id', 'u.company_id')
    .whereRaw('lower(u.email) = lower(?)', [request.email])
    .where('u.active', true)
    // An account whose password does not sign it in (single sign-on only) gets no link.
    .whereNot(passwordOffSql(trx, 'u'))
    .select('u.id', 'u.company_id', 'u.name', 'u.email', 'c.name as company_name')
  for (const account of accounts) {
    const token = newSecret()
    // A new link replaces any earlier one of the account.
    await trx('password_resets').where({ user_id: account.id }).whereNull('used_at').delete()
    await trx('password_resets').insert({
      company_id: account.company_id,
      user_id: account.id,
      token_hash: secretHash(token),
      expires_at: trx.raw('now() + make_interval(mins => ?)', [RESET.linkMinutes]),
    })
    await enqueueEmail(trx, {
      companyId: account.company_id,
      to: account.email,
      subject: `Choose a new KYC Desk password (${isolate(account.company_name)})`,
      text: [
        `Hello ${isolate(account.name)},`,
        '',
        `Someone asked to reset the password of your KYC Desk account at ${isolate(account.company_name)}.`,
        `Choose a new one here within ${RESET.linkMinutes} minutes (the link works once):`,
        '',
        `${publicUrl}/login/reset/${token}`,
        '',
        'If it was not you, ignore this email: your password stays as it is.',
      ].join('\n'),
      redact: [token],
    })
    await writeAudit(trx, {
      companyId: account.company_id,
      actorUserId: account.id,
      action: 'auth.password_reset_requested',
      targetType: 'user',
      targetId: account.id,
      ip: request.ip,
    })
  }
  return accounts.length
}

export interface OpenReset {
  id: string
  user_id: string
  company_id: string
  name: string
  email: string
}

/** The open (unused, unexpired) link of a token, for an active account; or undefined. */
export async function findOpenReset(db: Db | Knex.Transaction, token: string): Promise<OpenReset | undefined> {
  return db('password_resets as r')
    .join('users as u', 'u.id', 'r.user_id')
    .where('r.token_hash', secretHash(token))
    .whereNull('r.used_at')
    .where('r.expires_at', '>', db.fn.now())
    .where('u.active', true)
    .select('r.id', 'r.user_id', 'r.company_id', 'u.name', 'u.email')
    .first()
}

/**
 * Sets the new password and uses up the link, once (a second use, or a racing one, finds it used); ends every
 * session of the account and tells its owner by email. Returns the account, or undefined for a dead link.
 */
export async function completeReset(
  db: Db,
  token: string,
  password: string,
  ip: string,
): Promise<OpenReset | undefined> {
  const passwordHash = await hashPassword(password)
  return db.transaction(async (trx) => {
    const reset = await findOpenReset(trx, token)
    if (!reset) return undefined
    const used = await trx('password_resets')
      .where({ id: reset.id })
      .whereNull('used_at')
      .update({ used_at: trx.fn.now() })
    if (used !== 1) return undefined
    await trx('users').where({ id: reset.user_id }).update({ password_hash: passwordHash, updated_at: trx.fn.now() })
    const ended = await deleteSessionsOfUser(trx, reset.user_id)
    await writeAudit(trx, {
      companyId: reset.company_id,
      actorUserId: reset.user_id,
      action: 'auth.password_reset',
      targetType: 'user',
      targetId: reset.user_id,
      after: { sessions_ended: ended },
      ip,
    })
    await passwordChangedEmail(trx, reset)
    return reset
  })
}

/** Tells the owner of an account that its password was changed (by a reset link or on their profile). */
export async function passwordChangedEmail(
  trx: Knex.Transaction,
  account: { company_id: string; name: string; email: string },
): Promise<void> {
  await enqueueEmail(trx, {
    companyId: account.company_id,
    to: account.email,
    subject: 'Your KYC Desk password was changed',
    text: [
      `Hello ${isolate(account.name)},`,
      '',
      'The password of your KYC Desk account was just changed, and every other session of the account ended.',
      'If you did not do this, tell your administrator at once.',
    ].join('\n'),
  })
}
