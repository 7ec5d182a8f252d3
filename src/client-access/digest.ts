import { accessibleClientsPredicate, accessSubject } from '../access/client-access.js'
import type { Db } from '../db/knex.js'
import { isolate } from '../forms/names.js'
import { enqueueEmail } from '../mail/outbox.js'

const STALE_RUN_MINUTES = 15

/**
 * Claims the digest of every company whose local time has reached its digest hour today and whose
 * digest for that local day has not run. The claim is a row in digest_runs: the first process to
 * insert it does the work; a claim left unfinished for 15 minutes (a crashed process) may be taken again.
 */
async function claimDueCompanies(db: Db, now: Date): Promise<{ company_id: string; day: string; time_zone: string }[]> {
  const result = await db.raw(
    `WITH due AS (
       SELECT c.id AS company_id, (?::timestamptz AT TIME ZONE c.time_zone)::date AS day, c.time_zone
       FROM companies c
       WHERE extract(hour FROM ?::timestamptz AT TIME ZONE c.time_zone) >= c.digest_hour
     ), fresh AS (
       INSERT INTO digest_runs (company_id, day, started_at)
       SELECT company_id, day, ?::timestamptz FROM due
       ON CONFLICT (company_id, day) DO NOTHING
       RETURNING company_id, day
     ), retried AS (
       UPDATE digest_runs r SET started_at = ?::timestamptz
       FROM due
       WHERE r.company_id = due.company_id AND r.day = due.day AND r.finished_at IS NULL
         AND r.started_at < ?::timestamptz - make_interval(mins => ?)
       RETURNING r.company_id, r.day
     )
     SELECT x.company_id, to_char(x.day, 'YYYY-MM-DD') AS day, c.time_zone
     FROM (SELECT * FROM fresh UNION SELECT * FROM retried) x JOIN companies c ON c.id = x.company_id`,
    [now, now, now, now, now, STALE_RUN_MINUTES],
  )
  return result.rows
}

export interface DigestLine {
  id: string
  name: string
  events: number
  actions: string[]
}

/** One user's digest: activity of the last day on clients they have access to and did not opt out of. */
export async function digestFor(db: Db, userId: string, since: Date, until: Date): Promise<DigestLine[]> {
  const user = await accessSubject(db, userId)
  if (!user) return []
  return db('entities as e')
    .modify(accessibleClientsPredicate(db, user))
    .join('audit_log as a', (j) =>
      j
        .on('a.company_id', 'e.company_id')
        .andOn('a.target_id', db.raw('e.id::text'))
        .andOnVal('a.target_type', 'entity'),
    )
    .where('a.created_at', '>=', since)
    .andWhere('a.created_at', '<', until)
    .whereNotExists(db('digest_opt_outs as o').whereRaw('o.entity_id = e.id').andWhere('o.user_id', userId))
    .groupBy('e.id', 'e.name')
    .select(
      'e.id',
      'e.name',
      db.raw('count(*)::int AS events'),
      db.raw('array_agg(DISTINCT a.action ORDER BY a.action) AS actions'),
    )
    .orderByRaw('lower(e.name)')
}

/**
 * Sends the digests that are due: one email per active user with activity, queued in the outbox with
 * the key digest:<user>:<day>, so a retried or doubled run never queues a second one. The job queue's
 * digest.check job calls it every minute, in whichever server process takes the job (src/jobs/definitions.ts).
 */
export async function runDueDigests(db: Db, publicUrl: string, now = new Date()): Promise<number> {
  let queued = 0
  for (const run of await claimDueCompanies(db, now)) {
    const since = new Date(now.getTime() - 24 * 60 * 60 * 1000)
    const users: { id: string; name: string; email: string }[] = await db('users')
      .where({ company_id: run.company_id, active: true })
      .select('id', 'name', 'email')
    for (const user of users) {
      const lines = await digestFor(db, user.id, since, now)
      if (lines.length === 0) continue
      const text = [
        `Hello ${isolate(user.name)},`,
        '',
        `What happened on your client relationships in the day before ${run.day}:`,
        '',
        ...lines.map(
          (l) =>
            `- ${isolate(l.name)}: ${l.events} ${l.events === 1 ? 'change' : 'changes'} (${l.actions.join(', ')}) ${publicUrl}/entities/${l.id}`,
        ),
        '',
        'To leave a client out of this digest, untick “Receive daily digest” in its Sharing options.',
      ].join('\n')
      const added = await enqueueEmail(db, {
        companyId: run.company_id,
        to: user.email,
        subject: `Daily digest for ${run.day}`,
        text,
        dedupeKey: `digest:${user.id}:${run.day}`,
      })
      if (added) queued++
    }
    await db('digest_runs').where({ company_id: run.company_id, day: run.day }).update({ finished_at: db.fn.now() })
  }
  return queued
}
