import type { FastifyInstance, FastifyRequest } from 'fastify'
import { PORTAL_REQUEST_PERMISSIONS } from '../access/portal.js'
import { SEARCH_REVIEW_PERMISSIONS } from '../access/screening.js'
import { auditTarget } from '../audit/audit.js'
import { activeUsersOf, REVIEW_FILTERS, RISK_FILTERS } from '../entities/queries.js'
import { isCountryCode, isKind, isStatus, STATUSES } from '../entities/reference.js'
import { requestActor } from '../http/actor.js'
import { sendCsv } from '../http/csv.js'
import { isCalendarDate, isUuid, NotFoundError, oneOf, signedInUser } from '../http/params.js'
import { fields, MAX_PARAM, query } from '../http/schemas.js'
import { stateSql } from '../portal/requests.js'
import { anyRiskWaiting, recheckWaiting } from '../risk/risk-state.js'
import { screeningSettings } from '../screening/settings.js'
import { barChart } from './chart.js'
import { CLIENT_COLUMNS, clientRows } from './export.js'
import { REPORT_KEYS, type ReportFilters, type ReportKey, report } from './queries.js'

const REPORTS = { access: { permission: 'view_reports' } } as const
const FILTER_FIELDS = ['owner', 'status', 'risk', 'from', 'to'] as const
/** Rows a report's page shows (its CSV has every row), and bars its chart draws (then one for the rest). */
const PAGE_ROWS = 50
const CHART_ROWS = 12

/** What each report is, for the Reports page's list. */
const REPORT_WORDS: Record<ReportKey, { title: string; about: string }> = {
  risk: { title: 'Clients by risk classification', about: 'High, medium, low, not assessed.' },
  status: {
    title: 'Clients by relationship status',
    about: 'Prospects, serviced clients, one-off services, former clients.',
  },
  'type-country': { title: 'Clients by type and country', about: 'Individuals and organisations, by country.' },
  searches: { title: 'Open screening searches by state and age', about: 'Awaiting check or approval, by how long.' },
  reviews: {
    title: 'Risk assessments due, overdue and out of date',
    about: 'Reviews to do, and assessments the rules no longer agree with.',
  },
  'self-service': { title: 'Self-service requests by state', about: 'Portal requests, from sent to approved.' },
  owners: { title: 'Clients per owner', about: 'How the clients are spread over their owners.' },
  activity: { title: 'Activity over time', about: 'Audit trail events about the clients, per week.' },
}

/** The report filters of a query string: each value the list would take, or nothing. */
function filtersOf(q: Record<string, string | undefined>): ReportFilters {
  return {
    owner: isUuid(q.owner) ? q.owner : '',
    status: isStatus(q.status) ? q.status : '',
    risk: oneOf(RISK_FILTERS, q.risk) ?? '',
    from: isCalendarDate(q.from) ? q.from : '',
    to: isCalendarDate(q.to) ? q.to : '',
  }
}

function reportKey(request: FastifyRequest): ReportKey {
  const key = oneOf(REPORT_KEYS, (request.params as { report: string }).report)
  if (!key) throw new NotFoundError('report')
  return key
}

function filterWords(f: ReportFilters): Record<string, string> {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v))
}

/**
 * The Reports tab (View Reports): each report a table and a chart beside it, over the clients the reader may
 * open (src/reports/queries.ts), filtered by owner, status, classification and a date range, each row linking
 * to the list it counts; CSV of every report and of the client list as filtered, each export audited.
 */
export default async function reportRoutes(app: FastifyInstance) {
  app.get('/reports', { config: REPORTS }, async (_request, reply) =>
    reply.page('reports/index', {
      title: 'Reports',
      reports: REPORT_KEYS.map((key) => ({ key, ...REPORT_WORDS[key] })),
    }),
  )

  // As the client list does: clients whose risk state waits for a recheck after a change are rechecked
  // first, so the figures (classification, out of date) are those the list will show.
  const recheckFirst = async (companyId: string) => {
    if (await anyRiskWaiting(app.db, companyId)) await recheckWaiting(app.db, companyId)
  }

  const reportOf = async (request: FastifyRequest, key: ReportKey, f: ReportFilters) => {
    const user = signedInUser(request)
    await recheckFirst(user.companyId)
    const settings = await screeningSettings(app.db, user.companyId)
    const result = await report(app.db, user, key, f, { fourEyes: settings.fourEyes, portalStateSql: stateSql('r') })
    // A row links to its page only for who may open it (Searches, Self-service requests need their permissions).
    const linked =
      key === 'searches' ? SEARCH_REVIEW_PERMISSIONS : key === 'self-service' ? PORTAL_REQUEST_PERMISSIONS : undefined
    if (linked && !linked.some((p) => user.permissions.has(p))) {
      return { ...result, rows: result.rows.map(({ href: _href, ...row }) => row) }
    }
    return result
  }

  app.get<{ Params: { report: string }; Querystring: Record<string, string | undefined> }>(
    '/reports/:report',
    { config: REPORTS, schema: { querystring: query(fields(FILTER_FIELDS, MAX_PARAM)) } },
    async (request, reply) => {
      const user = signedInUser(request)
      const key = reportKey(request)
      const f = filtersOf(request.query)
      const [result, owners] = await Promise.all([reportOf(request, key, f), activeUsersOf(app.db, user.companyId)])
      const params = new URLSearchParams(filterWords(f)).toString()
      // A long report (owners, countries) shows its first rows here; the CSV has them all. Its chart shows
      // the largest and the rest together, so that it stays one readable picture.
      const shown = result.rows.slice(0, PAGE_ROWS)
      const rest = result.rows.slice(PAGE_ROWS)
      const charted = result.rows.slice(0, CHART_ROWS)
      const others = result.rows.slice(CHART_ROWS)
      return reply.page('reports/report', {
        title: result.title,
        report: { ...result, rows: shown },
        more: rest.length > 0 ? { rows: rest.length, value: rest.reduce((sum, r) => sum + r.value, 0) } : undefined,
        total: result.rows.reduce((sum, r) => sum + r.value, 0),
        chart: barChart({
          id: `chart-${key}`,
          title: result.title,
          rows: [
            ...charted.map((r) => ({ label: r.label, value: r.value })),
            ...(others.length > 0
              ? [{ label: `The other ${others.length}`, value: others.reduce((sum, r) => sum + r.value, 0) }]
              : []),
          ],
        }),
        filters: f,
        owners: owners.map((o) => ({ value: o.id, label: o.name })),
        statuses: STATUSES,
        csvUrl: `/reports/${key}/csv${params ? `?${params}` : ''}`,
        listUrl: `/entities${params ? `?${params}` : ''}`,
        listCsvUrl: `/entities.csv${params ? `?${params}` : ''}`,
        reports: REPORT_KEYS.map((k) => ({ key: k, title: REPORT_WORDS[k].title, current: k === key })),
      })
    },
  )

  app.get<{ Params: { report: string }; Querystring: Record<string, string | undefined> }>(
    '/reports/:report/csv',
    { config: REPORTS, schema: { querystring: query(fields(FILTER_FIELDS, MAX_PARAM)) } },
    async (request, reply) => {
      const key = reportKey(request)
      const f = filtersOf(request.query)
      const result = await reportOf(request, key, f)
      await auditTarget(app.db, requestActor(request), 'report', key, 'report.exported', undefined, {
        report: key,
        filters: filterWords(f),
        rows: result.rows.length,
      })
      const columns = [
        result.rowHeader,
        ...(result.columns ?? []),
        result.columns ? 'Total' : (result.valueHeader ?? 'Clients'),
      ]
      async function* rows() {
        for (const r of result.rows) yield [r.label, ...(result.columns ?? []).map((c) => r.cells?.[c] ?? 0), r.value]
      }
      return sendCsv(reply, `report-${key}`, columns, rows())
    },
  )

  // The client list as filtered (the list's own filters and name search), streamed.
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/entities.csv',
    {
      config: REPORTS,
      schema: {
        querystring: query(
          fields(['q', 'kind', 'status', 'owner', 'risk', 'review', 'stale', 'country', 'from', 'to'], MAX_PARAM),
        ),
      },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const q = request.query
      const f = {
        ...filtersOf(q),
        q: (q.q ?? '').trim().slice(0, 200),
        kind: isKind(q.kind) ? q.kind : ('' as const),
        review: oneOf(REVIEW_FILTERS, q.review) ?? ('' as const),
        outOfDate: q.stale === '1',
        country: q.country === 'none' || isCountryCode(q.country) ? (q.country as string) : '',
      } as Parameters<typeof clientRows>[2]
      await recheckFirst(user.companyId)
      await auditTarget(app.db, requestActor(request), 'report', 'clients', 'report.exported', undefined, {
        report: 'clients',
        filters: Object.fromEntries(Object.entries(f).filter(([, v]) => v)),
      })
      return sendCsv(reply, 'clients', CLIENT_COLUMNS, clientRows(app.db, user, f))
    },
  )
}
