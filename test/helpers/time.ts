/**
 * Fixtures that move rows in time: what a test would otherwise have to wait for. Times are a Date or an
 * expression of the database's clock (`db.raw("now() - interval '2 hours'")`).
 */
import type { Knex } from 'knex'
import type { Db } from '../../src/db/knex.js'

/** Every message waiting in the outbox is due now (its retry backoff is over). */
export async function outboxDueNow(db: Db) {
  await db('outbox_emails').update({ next_attempt_at: db.fn.now() })
}

/** Every digest run claimed is left unfinished, as a process that crashed at `startedAt` leaves its claim. */
export async function crashedDigestRuns(db: Db, startedAt: Date | Knex.Raw) {
  await db('digest_runs').update({ finished_at: null, started_at: startedAt })
}

/** The user's sessions, as if created or last seen at these times. */
export async function ageSessions(
  db: Db,
  user: { id: string },
  times: { createdAt?: Date | Knex.Raw; lastSeenAt?: Date | Knex.Raw },
) {
  await db('sessions')
    .where({ user_id: user.id })
    .update({
      ...(times.createdAt === undefined ? {} : { created_at: times.createdAt }),
      ...(times.lastSeenAt === undefined ? {} : { last_seen_at: times.lastSeenAt }),
    })
}

/** The user's invitations expire at `at`. */
export async function expireInvitations(db: Db, user: { id: string }, at: Date | Knex.Raw) {
  await db('user_invitations').where({ user_id: user.id }).update({ expires_at: at })
}

/**
 * The audit rows about these targets, as if written at `at`. The audit log is append-only: its trigger is
 * lifted for this one update, as only a test may.
 */
export async function backdateAudit(db: Db, targets: { id: string }[], at: Date) {
  await db.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete')
  await db('audit_log')
    .whereIn(
      'target_id',
      targets.map((target) => target.id),
    )
    .update({ created_at: at })
  await db.raw('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete')
}

/** Every sign-in attempt recorded so far, moved `interval` earlier (a PostgreSQL interval: '1 minute'). */
export async function earlierLoginAttempts(db: Db, interval: string) {
  await db('login_attempts').update({ created_at: db.raw('created_at - ?::interval', [interval]) })
}
