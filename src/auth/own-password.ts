import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { RuleError } from '../forms/rule-error.js'
import { endSessionsOfUser } from '../identity/session-store.js'
import type { CurrentUser } from '../types.js'
import { passwordChangedEmail } from './password-reset.js'
import { hashPassword, verifyPassword } from './passwords.js'

/**
 * A signed-in user changes their own password (issue 17): the current one is required, the new one follows
 * the same rules as everywhere (passwordProblem, checked by the route), every other session of the account
 * ends, and its owner is told by email. Refuses (RuleError on `current_password`) a wrong current password.
 */
export async function changeOwnPassword(
  db: Db,
  user: CurrentUser,
  currentSessionId: string,
  current: string,
  password: string,
  ip: string,
): Promise<{ ended: number; validAfter: Date }> {
  const row = await db('users').where({ id: user.id, company_id: user.companyId }).first('password_hash')
  if (!(await verifyPassword(row?.password_hash ?? null, current))) {
    await writeAudit(db, {
      companyId: user.companyId,
      actorUserId: user.id,
      action: 'auth.password_change_refused',
      targetType: 'user',
      targetId: user.id,
      ip,
    })
    throw new RuleError('current_password', 'Your current password is not right', { status: 422 })
  }
  const passwordHash = await hashPassword(password)
  return db.transaction(async (trx) => {
    await trx('users').where({ id: user.id }).update({ password_hash: passwordHash, updated_at: trx.fn.now() })
    const { ended, validAfter } = await endSessionsOfUser(trx, user.id, currentSessionId)
    await writeAudit(trx, {
      companyId: user.companyId,
      actorUserId: user.id,
      action: 'auth.password_changed',
      targetType: 'user',
      targetId: user.id,
      after: { other_sessions_ended: ended },
      ip,
    })
    await passwordChangedEmail(trx, { company_id: user.companyId, name: user.name, email: user.email })
    return { ended, validAfter }
  })
}
