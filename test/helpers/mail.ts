import type { Db } from '../../src/db/knex.js'
import { DELIVERY, enqueueEmail } from '../../src/mail/outbox.js'

/**
 * A message queued as the app queues one (enqueueEmail), then left as delivery would leave it: still pending
 * after `attempts` failed tries, failed (its attempts used up, the server refused), or sent once. Returns the
 * row as stored.
 */
export async function anEmail(
  db: Db,
  opts: { company: { id: string }; to: string; subject: string; text: string } & (
    | { status: 'pending'; attempts: number }
    | { status: 'failed' | 'sent' }
  ),
) {
  await enqueueEmail(db, { companyId: opts.company.id, to: opts.to, subject: opts.subject, text: opts.text })
  const state =
    opts.status === 'pending'
      ? { attempts: opts.attempts }
      : opts.status === 'failed'
        ? { status: 'failed', attempts: DELIVERY.maxAttempts, last_error: 'connection refused' }
        : { status: 'sent', sent_at: db.fn.now(), attempts: 1 }
  const [row] = await db('outbox_emails').where({ subject: opts.subject }).update(state).returning('*')
  return row
}
