import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FormErrors } from '../forms/form-errors.js'
import { sendCsv } from '../http/csv.js'
import { isCalendarDate, isUuid, pageNumber, pageRange, signedInUser, withQuery } from '../http/params.js'
import { fields, query } from '../http/schemas.js'
import { actionLabel, auditSentence, userIdsIn } from './describe.js'
import {
  AUDIT_PAGE_SIZE,
  type AuditFilters,
  type AuditRow,
  auditActions,
  auditForExport,
  companyUsers,
  listAudit,
  userNames,
} from './queries.js'

const ADMIN = { access: { permission: 'system_administrator' } } as const
const FILTERS = query(fields(['actor', 'target', 'action', 'from', 'to', 'page'], 200))

type FilterRequest = FastifyRequest<{ Querystring: Record<string, string | undefined> }>

/** The filters of the query string; what cannot be read is left out (and a day that cannot be read is said). */
function filtersOf(request: FilterRequest): { filters: AuditFilters; errors: FormErrors } {
  const q = request.query
  const errors = new FormErrors()
  for (const field of ['from', 'to'] as const) {
    const typed = (q[field] ?? '').trim()
    if (typed && !isCalendarDate(typed)) errors.add(field, 'Enter the day as year-month-day, like 2026-11-24')
  }
  const filters: AuditFilters = {
    actor: isUuid(q.actor) ? q.actor : '',
    target: isUuid(q.target) ? q.target : '',
    action: typeof q.action === 'string' ? q.action.slice(0, 100) : '',
    from: isCalendarDate(q.from) ? q.from : '',
    to: isCalendarDate(q.to) ? q.to : '',
    page: pageNumber(q.page),
  }
  return { filters, errors }
}

/** Rows of the trail with their sentence, the names of the users their stored values hold looked up at once. */
async function described(app: FastifyInstance, companyId: string, rows: AuditRow[]) {
  const names = await userNames(app.db, companyId, userIdsIn(rows))
  return rows.map((row) => ({
    ...row,
    sentence: auditSentence({ ...row, target: row.target_name }, names),
  }))
}

/** The audit trail, read-only: no route changes or deletes audit rows (the table refuses it anyway). */
export default async function auditRoutes(app: FastifyInstance) {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/settings/audit',
    { config: ADMIN, schema: { querystring: FILTERS } },
    async (request, reply) => {
      const { companyId } = signedInUser(request)
      const { filters, errors } = filtersOf(request)
      const [{ rows, hasMore, total, moreThan }, actions, users] = await Promise.all([
        listAudit(app.db, companyId, filters),
        auditActions(app.db, companyId),
        companyUsers(app.db, companyId),
      ])
      const query = { ...filters, page: undefined }
      return reply.page('audit/index', {
        title: 'Audit trail',
        filters,
        errors,
        typed: { from: request.query.from ?? '', to: request.query.to ?? '' },
        rows: await described(app, companyId, rows),
        range: {
          ...pageRange(filters.page, AUDIT_PAGE_SIZE, rows.length, total, moreThan),
          one: 'entry',
          many: 'entries',
        },
        actions: actions.map((action) => ({ value: action, label: actionLabel(action) })),
        users,
        csvUrl: withQuery('/settings/audit.csv', query, {}),
        prevUrl: filters.page > 1 ? withQuery('/settings/audit', query, { page: filters.page - 1 }) : undefined,
        nextUrl: hasMore ? withQuery('/settings/audit', query, { page: filters.page + 1 }) : undefined,
      })
    },
  )

  /**
   * The trail as CSV, filtered as on the page, every matching entry (read a thousand at a time and streamed):
   * the sentence and the exact stored values side by side. Cells that a spreadsheet would take for a formula
   * (starting with = + - @) are prefixed with an apostrophe.
   */
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/settings/audit.csv',
    { config: ADMIN, schema: { querystring: FILTERS } },
    async (request, reply) => {
      const { companyId } = signedInUser(request)
      const { filters } = filtersOf(request)
      async function* entries() {
        let before: number | undefined
        for (;;) {
          const q = auditForExport(app.db, companyId, filters).limit(1000)
          if (before !== undefined) q.where('a.id', '<', before)
          const rows: AuditRow[] = await q
          if (rows.length === 0) return
          for (const row of await described(app, companyId, rows)) {
            yield [
              row.created_at.toISOString(),
              row.actor_name ?? 'The system',
              actionLabel(row.action),
              row.sentence,
              row.action,
              row.target_type ?? '',
              row.target_id ?? '',
              row.target_name ?? '',
              row.before === null ? '' : JSON.stringify(row.before),
              row.after === null ? '' : JSON.stringify(row.after),
              row.ip ?? '',
            ]
          }
          before = rows.at(-1)?.id
        }
      }
      return sendCsv(
        reply,
        'audit-trail',
        [
          'Time (UTC)',
          'Who',
          'Action',
          'What happened',
          'Action key',
          'Concerning (type)',
          'Concerning (id)',
          'Concerning',
          'Before (stored)',
          'After (stored)',
          'Address',
        ],
        entries(),
      )
    },
  )
}
