import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { deliverDueEmails, type MailTransport } from './outbox.js'
import { smtpTransport } from './smtp.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Delivers due outbox messages now (the job outbox.deliver calls it); 0 when no SMTP is configured. */
    deliverMail(): Promise<number>
    /** Whether there is a mail transport (SMTP_URL, or one a test gave); without one, mail stays in the outbox. */
    hasMailTransport: boolean
  }
}

/**
 * Outbox delivery: with SMTP_URL set (or a transport given), `app.deliverMail()` delivers due messages once;
 * the job queue's outbox.deliver job calls it (src/jobs/definitions.ts). Without a transport, messages stay in
 * the outbox and administrators read them at Settings > Outgoing email.
 */
export default fp<{ transport?: MailTransport }>(
  async (app: FastifyInstance, opts) => {
    const transport = opts.transport ?? (app.config.smtpUrl ? smtpTransport(app.config.smtpUrl) : undefined)
    // One delivery at a time in this process; a second call while one runs waits for the same one.
    let running: Promise<number> | undefined
    app.decorate('hasMailTransport', Boolean(transport))
    app.decorate('deliverMail', async () => {
      if (!transport) return 0
      running ??= deliverDueEmails(app.db, transport, app.config.mailFrom).finally(() => {
        running = undefined
      })
      return running
    })
    app.addHook('onClose', async () => {
      await running?.catch(() => undefined)
    })
  },
  { name: 'mail-worker', dependencies: ['config', 'db'] },
)
