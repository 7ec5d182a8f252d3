import type { Knex } from 'knex'
import { type AuditActor, auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'

export interface OutgoingEmail {
  companyId: string
  to: string
  subject: string
  text: string
  /** Makes the message idempotent: a second message with the same key is not queued. */
  dedupeKey?: string
  /**
   * Secrets in the text (a link's token) that are removed from the stored text once the message is sent:
   * until then the outbox is the one place they exist.
   */
  redact?: readonly string[]
}

/** What a sent message's stored text says where a secret was. */
export const REDACTED = '[removed once sent]'

/** A message's text with its secrets replaced. */
export function redacted(text: string, secrets: readonly string[], by = REDACTED): string {
  return secrets.reduce((out, secret) => (secret ? out.replaceAll(secret, by) : out), text)
}

/**
 * Queues an email inside the caller's transaction: it exists exactly when the change that causes it
 * does. Returns false when a message with the same dedupe key was already queued.
 */
export async function enqueueEmail(trx: Knex | Knex.Transaction, email: OutgoingEmail): Promise<boolean> {
  const rows = await trx('outbox_emails')
    .insert({
      company_id: email.companyId,
      to_address: email.to,
      subject: email.subject,
      body_text: email.text,
      dedupe_key: email.dedupeKey ?? null,
      redact: email.redact ?? [],
    })
    .onConflict(['dedupe_key', 'company_id'])
    .ignore()
    .returning('id')
  return rows.length > 0
}

export interface MailTransport {
  send(message: { from: string; to: string; subject: string; text: string; messageId: string }): Promise<void>
}

export const DELIVERY = { maxAttempts: 8, batchSize: 10, baseBackoffSeconds: 30 } as const

/** Seconds to wait before attempt n+1 after n failures: 30 s, 1 min, 2 min, … capped at 1 hour. */
export function backoffSeconds(attempts: number): number {
  return Math.min(DELIVERY.baseBackoffSeconds * 2 ** Math.max(0, attempts - 1), 3600)
}

/**
 * Delivers due messages once. Each message is locked (FOR UPDATE SKIP LOCKED) for the time of its
 * sending, so across any number of processes a message is sent by one of them and marked sent once.
 * Returns how many were sent.
 */
export async function deliverDueEmails(db: Db, transport: MailTransport, from: string): Promise<number> {
  let sent = 0
  for (let i = 0; i < DELIVERY.batchSize; i++) {
    const done = await db.transaction(async (trx) => {
      const message = await trx('outbox_emails')
        .where('status', 'pending')
        .andWhere('next_attempt_at', '<=', trx.fn.now())
        .orderBy('id')
        .forUpdate()
        .skipLocked()
        .first()
      if (!message) return 'none' as const
      try {
        await transport.send({
          from,
          to: message.to_address,
          subject: message.subject,
          text: message.body_text,
          messageId: `<outbox-${message.id}@kyc-desk>`,
        })
        const redact: string[] = message.redact ?? []
        await trx('outbox_emails')
          .where({ id: message.id })
          .update({
            status: 'sent',
            sent_at: trx.fn.now(),
            attempts: message.attempts + 1,
            last_error: null,
            body_text: redacted(message.body_text as string, redact),
            redact: [],
          })
        return 'sent' as const
      } catch (error) {
        const attempts = message.attempts + 1
        await trx('outbox_emails')
          .where({ id: message.id })
          .update({
            attempts,
            last_error: String((error as Error).message ?? error).slice(0, 500),
            status: attempts >= DELIVERY.maxAttempts ? 'failed' : 'pending',
            next_attempt_at: trx.raw('now() + make_interval(secs => ?)', [backoffSeconds(attempts)]),
          })
        return 'failed' as const
      }
    })
    if (done === 'none') break
    if (done === 'sent') sent++
  }
  return sent
}

export type RetryOutcome =
  | { retried: true; subject: string }
  | { retried: false; status: 'pending' | 'sent' }
  | undefined

/**
 * Puts a failed message of the actor's company back in the queue as if new (pending, no attempts, due
 * now), with an audit row in the same transaction. The one UPDATE only matches a row that is still
 * 'failed', so of two clicks at the same time only one acts; the self-join reads the attempts from
 * before the update. Returns undefined when the company has no such message.
 */
export async function retryFailedEmail(db: Db, actor: AuditActor, id: string): Promise<RetryOutcome> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: { subject: string; attempts: number }[] }>(
      `UPDATE outbox_emails AS m SET status = 'pending', attempts = 0, next_attempt_at = now()
         FROM outbox_emails AS old
        WHERE old.id = m.id AND m.id = ? AND m.company_id = ? AND m.status = 'failed'
       RETURNING m.subject, old.attempts`,
      [id, actor.user.companyId],
    )
    const done = rows[0]
    if (done) {
      await auditTarget(
        trx,
        actor,
        'email',
        id,
        'mail.retry_requested',
        { status: 'failed', attempts: done.attempts },
        { status: 'pending' },
      )
      return { retried: true, subject: done.subject }
    }
    const found = await trx('outbox_emails').where({ id, company_id: actor.user.companyId }).first('status')
    return found ? { retried: false, status: found.status } : undefined
  })
}
