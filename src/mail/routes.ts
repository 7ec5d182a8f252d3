import type { FastifyInstance } from 'fastify'
import { NotFoundError, pageNumber, signedInUser, withQuery } from '../http/params.js'
import { one, query } from '../http/schemas.js'
import { redacted, retryFailedEmail } from './outbox.js'

const PAGE_SIZE = 25
/** Ids are bigint identities; 18 digits always fit, so a longer id is unknown rather than a database error. */
const EMAIL_ID = /^[1-9][0-9]{0,17}$/

/** Settings > Outgoing email: what was (or would be) sent, so the embedded default shows it too. */
export default async function outboxRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { page?: string } }>(
    '/settings/outgoing-email',
    { config: { access: { permission: 'system_administrator' } }, schema: { querystring: query({ page: one(20) }) } },
    async (request, reply) => {
      const page = pageNumber(request.query.page)
      const rows = await app
        .db('outbox_emails')
        .where({ company_id: signedInUser(request).companyId })
        .select(
          'id',
          'to_address',
          'subject',
          'body_text',
          'redact',
          'status',
          'attempts',
          'last_error',
          'created_at',
          'sent_at',
        )
        .orderBy('id', 'desc')
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
      // With a mail server, a message's secrets (a portal or invitation link) are for its recipient alone. Without
      // one (the demo, a development machine) nothing is ever sent, and this page is the only way to them.
      const smtpConfigured = Boolean(app.config.smtpUrl)
      return reply.page('mail/outbox', {
        title: 'Outgoing email',
        rows: rows.slice(0, PAGE_SIZE).map((row) => ({
          ...row,
          body_text: smtpConfigured
            ? redacted(row.body_text, row.redact, '[hidden: for the recipient only]')
            : row.body_text,
        })),
        smtpConfigured,
        prevUrl: page > 1 ? withQuery('/settings/outgoing-email', {}, { page: page - 1 }) : undefined,
        nextUrl: rows.length > PAGE_SIZE ? withQuery('/settings/outgoing-email', {}, { page: page + 1 }) : undefined,
      })
    },
  )

  // A message that failed its last attempt goes back in the queue, for instance once the SMTP server
  // is fixed.
  app.post<{ Params: { id: string } }>(
    '/settings/outgoing-email/:id/retry',
    { config: { access: { permission: 'system_administrator' } } },
    async (request, reply) => {
      const { id } = request.params
      const outcome = EMAIL_ID.test(id)
        ? await retryFailedEmail(app.db, { user: signedInUser(request), ip: request.ip }, id)
        : undefined
      if (!outcome) throw new NotFoundError('email')
      reply.flash(
        outcome.retried
          ? { kind: 'success', text: `“${outcome.subject}” will be sent again.` }
          : { kind: 'error', text: `That email was not sent again: it is ${outcome.status}, not failed.` },
      )
      return reply.redirect('/settings/outgoing-email', 303)
    },
  )
}
