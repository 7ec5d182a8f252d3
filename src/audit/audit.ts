import type { Knex } from 'knex'

export interface AuditEntry {
  companyId: string
  actorUserId: string | null
  action: string
  targetType?: string
  targetId?: string
  before?: unknown
  after?: unknown
  ip?: string | null
}

/**
 * Writes one audit row with the caller's connection or transaction, so the row exists exactly when
 * the change it describes does. The table is append-only (a trigger refuses UPDATE and DELETE).
 */
export async function writeAudit(db: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    company_id: entry.companyId,
    actor_user_id: entry.actorUserId,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
    ip: entry.ip ?? null,
  })
}

/** Who acts in a request: the signed-in user and their address. */
export interface AuditActor {
  user: { id: string; companyId: string }
  ip: string
}

/** One audit row about a target of one type (entity, group, …), by the acting user, in the caller's transaction. */
export function auditTarget(
  db: Knex | Knex.Transaction,
  actor: AuditActor,
  targetType: string,
  targetId: string,
  action: string,
  before?: unknown,
  after?: unknown,
): Promise<void> {
  return writeAudit(db, {
    companyId: actor.user.companyId,
    actorUserId: actor.user.id,
    action,
    targetType,
    targetId,
    before,
    after,
    ip: actor.ip,
  })
}
