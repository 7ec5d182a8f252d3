import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { findUsersByEmail, type UserRow } from '../identity/user-row.js'
import { verifyPassword } from './passwords.js'
import { secondsToWait } from './throttle.js'

export type LoginResult =
  /** One or more active accounts of this address whose password matched (one per company). */
  | { ok: true; accounts: UserRow[] }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; waitSeconds: number }

/**
 * Checks an email and password against every account of that address (an address is unique within a
 * company, not across companies). The passwords are verified side by side, so the time taken does not
 * say how many companies know the address. Every attempt is recorded for throttling; a failure is
 * audited in the companies of the accounts tried, a success only when the account is chosen (logIn).
 * The caller shows one generic message for every failure.
 */
export async function attemptLogin(db: Db, email: string, password: string, ip: string): Promise<LoginResult> {
  const waitSeconds = await secondsToWait(db, email, ip)
  if (waitSeconds > 0) {
    // A throttled attempt counts as a failure of this address: hammering lengthens one's own wait.
    await db('login_attempts').insert({ email, ip, succeeded: false, throttled: true })
    return { ok: false, reason: 'throttled', waitSeconds }
  }
  const users = await findUsersByEmail(db, email)
  const checked = await Promise.all(
    (users.length > 0 ? users : [undefined]).map(async (user) => ({
      user,
      passwordOk: await verifyPassword(user?.password_hash ?? null, password),
    })),
  )
  // A company that signs in by single sign-on only takes no password, but its break-glass administrator's.
  const accounts = checked
    .filter((c) => c.user?.active && c.passwordOk && !c.user.password_off)
    .map((c) => c.user as UserRow)
  await db.transaction(async (trx) => {
    await trx('login_attempts').insert({ email, ip, succeeded: accounts.length > 0 })
    if (accounts.length > 0) return
    for (const { user } of checked) {
      if (!user) continue
      await writeAudit(trx, {
        companyId: user.company_id,
        actorUserId: user.id,
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user.id,
        after: {
          reason: !user.active ? 'user deactivated' : user.password_off ? 'single sign-on only' : 'wrong password',
        },
        ip,
      })
    }
  })
  return accounts.length > 0 ? { ok: true, accounts } : { ok: false, reason: 'invalid' }
}

/** Records the sign-in of the account chosen (the only one, or the company picked). */
export async function auditLogin(db: Db, user: UserRow, ip: string): Promise<void> {
  await writeAudit(db, {
    companyId: user.company_id,
    actorUserId: user.id,
    action: 'auth.login',
    targetType: 'user',
    targetId: user.id,
    ip,
  })
}
