import type { FastifyInstance } from 'fastify'
import { FormErrors } from '../forms/form-errors.js'
import { isCalendarDate, isUuid, pageNumber, signedInUser, withQuery } from '../http/params.js'
import { fields, query } from '../http/schemas.js'
import { type AuditFilters, auditActions, companyUsers, listAudit } from './queries.js'

/** The audit trail, read-only: no route changes or deletes audit rows (the table refuses it anyway). */
export default async function auditRoutes(app: FastifyInstance) {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/settings/audit',
    {
      config: { access: { permission: 'system_administrator' } },
      schema: { querystring: query(fields(['actor', 'target', 'action', 'from', 'to', 'page'], 200)) },
    },
    async (request, reply) => {
      const { companyId } = signedInUser(request)
      const q = request.query
      const filters: AuditFilters = {
        actor: isUuid(q.actor) ? q.actor : '',
        target: isUuid(q.target) ? q.target : '',
        action: typeof q.action === 'string' ? q.action.slice(0, 100) : '',
        from: isCalendarDate(q.from) ? q.from : '',
        to: isCalendarDate(q.to) ? q.to : '',
        page: pageNumber(q.page),
      }
      // A day typed in another form is said, not silently dropped (the filter then leaves it out).
      const errors = new FormErrors()
      for (const field of ['from', 'to'] as const) {
        const typed = (q[field] ?? '').trim()
        if (typed && !isCalendarDate(typed)) errors.add(field, 'Enter the day as year-month-day, like 2026-11-24')
      }
      const [{ rows, hasMore }, actions, users] = await Promise.all([
        listAudit(app.db, companyId, filters),
        auditActions(app.db, companyId),
        companyUsers(app.db, companyId),
      ])
      const query = { ...filters, page: undefined }
      return reply.page('audit/index', {
        title: 'Audit trail',
        filters,
        errors,
        typed: { from: q.from ?? '', to: q.to ?? '' },
        rows,
        actions,
        users,
        prevUrl: filters.page > 1 ? withQuery('/settings/audit', query, { page: filters.page - 1 }) : undefined,
        nextUrl: hasMore ? withQuery('/settings/audit', query, { page: filters.page + 1 }) : undefined,
      })
    },
  )
}
