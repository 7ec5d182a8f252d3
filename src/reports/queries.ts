/**
 * The figures of the Reports tab (SPEC section 4 "Reports"; issue 16). Each report is one aggregate query
 * over the clients the reader may open: the same access predicate as the client list
 * (accessibleClientsPredicate, SPEC section 3), the same filters, so that every figure is a count of the
 * list the report links to.
 */
import type { Knex } from 'knex'
import { accessibleClientsPredicate } from '../access/client-access.js'
import type { Db } from '../db/knex.js'
import { type EntityListFilters, filterClients } from '../entities/queries.js'
import { countryName, STATUSES, statusLabel } from '../entities/reference.js'
import type { CurrentUser } from '../types.js'

/** The filters of every report, as the client list takes them. */
export interface ReportFilters {
  owner: string
  status: string
  /** A classification, or 'none' (not assessed), as the list's `risk` filter. */
  risk: string
  /** Days, as YYYY-MM-DD: clients created, searches run, requests sent, events recorded from and to. */
  from: string
  to: string
}

/** One row of a report: what it counts, how many, and the list it links to. */
export interface ReportRow {
  label: string
  /** Further columns of the row (age bands, a second key), by column name. */
  cells?: Record<string, number>
  value: number
  href?: string
}

export interface Report {
  key: ReportKey
  title: string
  /** What is counted, in a sentence under the title. */
  about: string
  /** The table's first column, and its other columns (with `cells`). */
  rowHeader: string
  columns?: string[]
  /** What the last column counts (clients, unless said). */
  valueHeader?: string
  rows: ReportRow[]
}

export const REPORT_KEYS = [
  'risk',
  'status',
  'type-country',
  'searches',
  'reviews',
  'self-service',
  'owners',
  'activity',
] as const
export type ReportKey = (typeof REPORT_KEYS)[number]

/**
 * The live clients the reader may open, with the report filters, their risk state joined as `er`: the base
 * of every report. The access rule and the filters are the client list's own (accessibleClientsPredicate,
 * filterClients), so each count is the count of the list its row links to.
 */
function clients(db: Db, user: CurrentUser, f: ReportFilters): Knex.QueryBuilder {
  const q = db('entities as e')
    .modify(accessibleClientsPredicate(db, user, 'e', 'set'))
    .leftJoin('entity_risk as er', 'er.entity_id', 'e.id')
  return filterClients(db, q, {
    kind: '',
    status: (f.status as EntityListFilters['status']) || '',
    owner: f.owner,
    risk: (f.risk as EntityListFilters['risk']) || '',
    review: '',
    outOfDate: false,
    country: '',
    from: f.from,
    to: f.to,
  })
}

/** A client list URL with the report's filters and the row's own. */
export function listHref(f: ReportFilters, own: Record<string, string>): string {
  const params = new URLSearchParams()
  const all: Record<string, string> = { owner: f.owner, status: f.status, risk: f.risk, from: f.from, to: f.to, ...own }
  for (const [k, v] of Object.entries(all)) if (v) params.set(k, v)
  const qs = params.toString()
  return qs ? `/entities?${qs}` : '/entities'
}

const n = (v: unknown) => Number(v ?? 0)

const CLASSIFICATIONS = [
  { value: 'high', label: 'High' },
  { value: 'medium', label: 'Medium' },
  { value: 'low', label: 'Low' },
  { value: 'none', label: 'Not assessed' },
] as const

async function byRisk(db: Db, user: CurrentUser, f: ReportFilters): Promise<Report> {
  const rows: { classification: string | null; n: string }[] = await clients(db, user, f)
    .groupBy('er.classification')
    .select('er.classification', db.raw('count(*) AS n'))
  const count = (c: string) => n(rows.find((r) => (r.classification ?? 'none') === c)?.n)
  return {
    key: 'risk',
    title: 'Clients by risk classification',
    about:
      'The classification that applies now: the saved assessment’s, or the recommendation once an override has ended.',
    rowHeader: 'Classification',
    rows: CLASSIFICATIONS.filter((c) => !f.risk || f.risk === c.value).map((c) => ({
      label: c.label,
      value: count(c.value),
      href: listHref(f, { risk: c.value }),
    })),
  }
}

async function byStatus(db: Db, user: CurrentUser, f: ReportFilters): Promise<Report> {
  const rows: { status: string; n: string }[] = await clients(db, user, f)
    .groupBy('e.status')
    .select('e.status', db.raw('count(*) AS n'))
  return {
    key: 'status',
    title: 'Clients by relationship status',
    about: 'Each client relationship by its status.',
    rowHeader: 'Status',
    rows: STATUSES.filter((s) => !f.status || f.status === s.value).map((s) => ({
      label: statusLabel(s.value),
      value: n(rows.find((r) => r.status === s.value)?.n),
      href: listHref(f, { status: s.value }),
    })),
  }
}

async function byTypeAndCountry(db: Db, user: CurrentUser, f: ReportFilters): Promise<Report> {
  const rows: { kind: string; country: string | null; n: string }[] = await clients(db, user, f)
    .groupByRaw('1, 2')
    .select(
      'e.kind',
      db.raw('coalesce(e.country_of_residence, e.country_of_incorporation) AS country'),
      db.raw('count(*) AS n'),
    )
  const kindLabel = (k: string) => (k === 'individual' ? 'Individuals' : 'Organisations')
  return {
    key: 'type-country',
    title: 'Clients by type and country',
    about: 'Individuals by country of residence, organisations by country of incorporation; the most common first.',
    rowHeader: 'Type and country',
    rows: rows
      .map((r) => ({
        label: `${kindLabel(r.kind)}, ${r.country ? countryName(r.country) : 'country not known'}`,
        value: n(r.n),
        href: listHref(f, { kind: r.kind, country: r.country ?? 'none' }),
      }))
      .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label)),
  }
}

const AGES = ['Under 7 days', '7 to 30 days', 'Over 30 days'] as const

async function openSearches(db: Db, user: CurrentUser, f: ReportFilters, fourEyes: boolean): Promise<Report> {
  const rows: { status: string; age: number; n: string }[] = await clients(db, user, { ...f, from: '', to: '' })
    .join('screening_searches as s', function () {
      this.on('s.entity_id', 'e.id').andOn('s.company_id', 'e.company_id')
    })
    .whereIn('s.status', ['open', 'awaiting_approval'])
    .modify((q) => {
      // The date range is the searches' here, not the clients'.
      if (f.from) q.where('s.created_at', '>=', db.raw("?::date::timestamp AT TIME ZONE 'UTC'", [f.from]))
      if (f.to) q.where('s.created_at', '<', db.raw("(?::date + 1)::timestamp AT TIME ZONE 'UTC'", [f.to]))
    })
    .groupByRaw('1, 2')
    .select(
      's.status',
      db.raw(`CASE WHEN s.created_at > now() - interval '7 days' THEN 0
        WHEN s.created_at > now() - interval '30 days' THEN 1 ELSE 2 END AS age`),
      db.raw('count(*) AS n'),
    )
  const states = [
    { status: 'open', label: fourEyes ? 'Awaiting check' : 'Open: to review', tab: 'open' },
    { status: 'awaiting_approval', label: 'Awaiting approval', tab: 'awaiting_approval' },
  ]
  return {
    key: 'searches',
    title: 'Open screening searches by state and age',
    about: fourEyes
      ? 'Searches with potential matches not yet closed: awaiting their first check, or a second person’s approval (four-eyes review is on).'
      : 'Searches with potential matches not yet resolved, and any checked under four-eyes review still awaiting approval.',
    rowHeader: 'State',
    columns: [...AGES],
    rows: states.map((s) => {
      const cells = Object.fromEntries(
        AGES.map((age, i) => [age, n(rows.find((r) => r.status === s.status && Number(r.age) === i)?.n)]),
      )
      return {
        label: s.label,
        cells,
        value: Object.values(cells).reduce((a, b) => a + b, 0),
        href: `/searches?tab=${s.tab}`,
      }
    }),
  }
}

async function reviews(db: Db, user: CurrentUser, f: ReportFilters): Promise<Report> {
  const row = await clients(db, user, f).first(
    db.raw(`count(*) FILTER (WHERE er.review_due_on < (now() AT TIME ZONE 'UTC')::date) AS overdue`),
    db.raw(`count(*) FILTER (WHERE er.review_due_on >= (now() AT TIME ZONE 'UTC')::date
        AND er.review_due_on <= (now() AT TIME ZONE 'UTC')::date + 90) AS due`),
    db.raw('count(*) FILTER (WHERE er.out_of_date) AS out_of_date'),
    db.raw('count(*) FILTER (WHERE er.entity_id IS NULL) AS not_assessed'),
  )
  return {
    key: 'reviews',
    title: 'Risk assessments due, overdue and out of date',
    about:
      'Overdue: the review day has passed. Due: a review within 90 days. Out of date: the rules recommend another classification now. Not assessed: no assessment saved.',
    rowHeader: 'Assessments',
    rows: [
      { label: 'Overdue', value: n(row?.overdue), href: listHref(f, { review: 'overdue' }) },
      { label: 'Due within 90 days', value: n(row?.due), href: listHref(f, { review: 'due' }) },
      { label: 'Out of date', value: n(row?.out_of_date), href: listHref(f, { stale: '1' }) },
      // With a classification chosen, no client of the report is unassessed: the row would link elsewhere.
      ...(f.risk && f.risk !== 'none'
        ? []
        : [{ label: 'Not assessed', value: n(row?.not_assessed), href: listHref(f, { risk: 'none' }) }]),
    ],
  }
}

const REQUEST_STATES = [
  ['sent', 'Sent'],
  ['opened', 'Opened'],
  ['draft', 'Draft saved'],
  ['submitted', 'Submitted'],
  ['updates_requested', 'Updates requested'],
  ['approved', 'Approved'],
  ['expired', 'Expired'],
  ['revoked', 'Revoked'],
] as const

async function selfService(db: Db, user: CurrentUser, f: ReportFilters, stateSql: string): Promise<Report> {
  const rows: { state: string; n: string }[] = await clients(db, user, { ...f, from: '', to: '' })
    .join('portal_requests as r', function () {
      this.on('r.entity_id', 'e.id').andOn('r.company_id', 'e.company_id')
    })
    .modify((q) => {
      if (f.from) q.where('r.created_at', '>=', db.raw("?::date::timestamp AT TIME ZONE 'UTC'", [f.from]))
      if (f.to) q.where('r.created_at', '<', db.raw("(?::date + 1)::timestamp AT TIME ZONE 'UTC'", [f.to]))
    })
    .groupByRaw('1')
    .select(db.raw(`${stateSql} AS state`), db.raw('count(*) AS n'))
  return {
    key: 'self-service',
    title: 'Self-service requests by state',
    about: 'Portal requests sent to clients, by where they stand now.',
    rowHeader: 'State',
    valueHeader: 'Requests',
    rows: REQUEST_STATES.map(([state, label]) => ({
      label,
      value: n(rows.find((r) => r.state === state)?.n),
      href: `/self-service?state=${state}`,
    })),
  }
}

async function perOwner(db: Db, user: CurrentUser, f: ReportFilters): Promise<Report> {
  const rows: { owner: string; name: string; n: string }[] = await db
    .from(
      clients(db, user, f)
        .groupBy('e.owner_user_id')
        .select('e.owner_user_id as owner', db.raw('count(*) AS n'))
        .as('c'),
    )
    .join('users as u', 'u.id', 'c.owner')
    .orderBy([
      { column: 'c.n', order: 'desc' },
      { column: 'u.name', order: 'asc' },
    ])
    .select('c.owner', 'u.name', 'c.n')
  return {
    key: 'owners',
    title: 'Clients per owner',
    about: 'Who owns how many of the clients, the most first.',
    rowHeader: 'Owner',
    rows: rows.map((r) => ({ label: r.name, value: n(r.n), href: listHref(f, { owner: r.owner }) })),
  }
}

/** The weeks the activity report shows when no date range is given. */
export const ACTIVITY_WEEKS = 12

async function activity(db: Db, user: CurrentUser, f: ReportFilters): Promise<Report> {
  // Without a range: this week and the 11 before it, from Monday.
  const from = f.from
    ? db.raw('?::date', [f.from])
    : db.raw(`date_trunc('week', now() AT TIME ZONE 'UTC')::date - ${7 * (ACTIVITY_WEEKS - 1)}`)
  const to = f.to ? db.raw('?::date', [f.to]) : db.raw(`(now() AT TIME ZONE 'UTC')::date`)
  // Events about the clients of the report (the same filters), per week starting Monday, empty weeks too.
  const events = clients(db, user, { ...f, from: '', to: '' })
    .join('audit_log as a', function () {
      this.on('a.company_id', 'e.company_id').andOn('a.target_id', db.raw('e.id::text'))
    })
    .where('a.target_type', 'entity')
    .where('a.created_at', '>=', db.raw("((?)::date)::timestamp AT TIME ZONE 'UTC'", [from]))
    .where('a.created_at', '<', db.raw("((?)::date + 1)::timestamp AT TIME ZONE 'UTC'", [to]))
    .groupByRaw('1')
    .select(db.raw(`date_trunc('week', a.created_at AT TIME ZONE 'UTC')::date AS week`), db.raw('count(*) AS n'))
  const rows: { week: string; n: string }[] = await db
    .from(db.raw(`generate_series(date_trunc('week', (?)::date), (?)::date, interval '1 week') AS w(week)`, [from, to]))
    .leftJoin(events.as('ev'), 'ev.week', db.raw('w.week::date'))
    .orderBy('w.week')
    .select(db.raw(`to_char(w.week, 'YYYY-MM-DD') AS week`), db.raw('coalesce(ev.n, 0) AS n'))
  return {
    key: 'activity',
    title: 'Activity over time',
    about: `Audit trail events about these clients (changes, documents, assessments, searches, shares…), per week from Monday; ${f.from || f.to ? 'in the date range' : `the last ${ACTIVITY_WEEKS} weeks`}.`,
    rowHeader: 'Week from',
    valueHeader: 'Events',
    rows: rows.map((r) => ({ label: r.week, value: n(r.n) })),
  }
}

/** Everything a report needs besides the database: the four-eyes setting and the portal's state SQL. */
export interface ReportContext {
  fourEyes: boolean
  portalStateSql: string
}

/** One report for this reader with these filters. */
export function report(
  db: Db,
  user: CurrentUser,
  key: ReportKey,
  f: ReportFilters,
  ctx: ReportContext,
): Promise<Report> {
  switch (key) {
    case 'risk':
      return byRisk(db, user, f)
    case 'status':
      return byStatus(db, user, f)
    case 'type-country':
      return byTypeAndCountry(db, user, f)
    case 'searches':
      return openSearches(db, user, f, ctx.fourEyes)
    case 'reviews':
      return reviews(db, user, f)
    case 'self-service':
      return selfService(db, user, f, ctx.portalStateSql)
    case 'owners':
      return perOwner(db, user, f)
    case 'activity':
      return activity(db, user, f)
  }
}
