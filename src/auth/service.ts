import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { findUserByEmail, type UserRow } from '../users/queries.js'
import { verifyPassword } from './passwords.js'

/** Attempts allowed in the window before login is refused for that account, or from that address. */
export const THROTTLE = { windowMinutes: 15, perAccount: 10, perAddress: 50 } as const

export type LoginResult = { ok: true; user: UserRow } | { ok: false; reason: 'invalid' | 'throttled' }

async function isThrottled(db: Db, email: string, ip: string): Promise<boolean> {
  const row = await db('login_attempts')
    .whereRaw('created_at > now() - make_interval(mins => ?)', [THROTTLE.windowMinutes])
    .andWhere('succeeded', false)
    .select(
      db.raw('count(*) FILTER (WHERE lower(email) = lower(?)) AS by_account', [email]),
      db.raw('count(*) FILTER (WHERE ip = ?) AS by_address', [ip]),
    )
    .first()
  return row.by_account >= THROTTLE.perAccount || row.by_address >= THROTTLE.perAddress
}

/**
 * Checks an email and password. Every attempt is recorded for throttling; attempts on a known account
 * also go to that company's audit trail. The caller shows one generic message for every failure.
 */
export async function attemptLogin(db: Db, email: string, password: string, ip: string): Promise<LoginResult> {
  if (await isThrottled(db, email, ip)) return { ok: false, reason: 'throttled' }
  const user = await findUserByEmail(db, email)
  const passwordOk = await verifyPassword(user?.password_hash ?? null, password)
  const ok = Boolean(user?.active && passwordOk)
  await db.transaction(async (trx) => {
    await trx('login_attempts').insert({ email, ip, succeeded: ok })
    if (user) {
      await writeAudit(trx, {
        companyId: user.company_id,
        actorUserId: user.id,
        action: ok ? 'auth.login' : 'auth.login_failed',
        targetType: 'user',
        targetId: user.id,
        after: ok ? undefined : { reason: user.active ? 'wrong password' : 'user deactivated' },
        ip,
      })
    }
  })
  return ok && user ? { ok: true, user } : { ok: false, reason: 'invalid' }
}
