import type { FastifyInstance } from 'fastify'
import { pageNumber, signedInUser, withQuery } from '../http/params.js'

const PAGE_SIZE = 25

/** Settings > Outgoing email: what was (or would be) sent, so the embedded default shows it too. */
export default async function outboxRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { page?: string } }>(
    '/settings/outgoing-email',
    { config: { access: { permission: 'system_administrator' } } },
    async (request, reply) => {
      const page = pageNumber(request.query.page)
      const rows = await app
        .db('outbox_emails')
        .where({ company_id: signedInUser(request).companyId })
        .select('id', 'to_address', 'subject', 'body_text', 'status', 'attempts', 'last_error', 'created_at', 'sent_at')
        .orderBy('id', 'desc')
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
      return reply.page('mail/outbox', {
        title: 'Outgoing email',
        rows: rows.slice(0, PAGE_SIZE),
        smtpConfigured: Boolean(app.config.smtpUrl),
        prevUrl: page > 1 ? withQuery('/settings/outgoing-email', {}, { page: page - 1 }) : undefined,
        nextUrl: rows.length > PAGE_SIZE ? withQuery('/settings/outgoing-email', {}, { page: page + 1 }) : undefined,
      })
    },
  )
}
