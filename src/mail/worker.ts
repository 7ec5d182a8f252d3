import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { deliverDueEmails, type MailTransport } from './outbox.js'
import { smtpTransport } from './smtp.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Delivers due outbox messages now (the worker calls it on a timer); 0 when no SMTP is configured. */
    deliverMail(): Promise<number>
  }
}

/**
 * The outbox worker: with SMTP_URL set, delivers due messages every few seconds. Without it, messages
 * stay in the outbox and administrators read them at Settings > Outgoing email.
 */
export default fp<{ transport?: MailTransport; intervalMs?: number }>(
  async (app: FastifyInstance, opts) => {
    const transport = opts.transport ?? (app.config.smtpUrl ? smtpTransport(app.config.smtpUrl) : undefined)
    let running: Promise<number> | undefined
    app.decorate('deliverMail', async () => {
      if (!transport) return 0
      running ??= deliverDueEmails(app.db, transport, app.config.mailFrom).finally(() => {
        running = undefined
      })
      return running
    })
    if (!transport || opts.intervalMs === 0) return
    const timer = setInterval(() => {
      app.deliverMail().catch((err) => app.log.error({ err }, 'outbox delivery failed'))
    }, opts.intervalMs ?? 5000)
    timer.unref()
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await running
    })
  },
  { name: 'mail-worker', dependencies: ['config', 'db'] },
)
