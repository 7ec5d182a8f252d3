/**
 * The figures of the Reports tab (SPEC section 4 "Reports"; issue 16). Each report is one aggregate query
 * over the clients the reader may open: the same access predicate as the client list
 * (accessibleClientsPredicate, SPEC section 3), the same filters, so that every figure is a count of the
 * list the report links to.
 */
import type { Knex } from 'knex'
import { countingParts } from '../access/client-access.js'
import type { Db } from '../db/knex.js'
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

/** A kept tally of the clients' facts (migrations/20261205000001_report_tallies.ts). */
type Tally = 'client_tallies' | 'client_review_tallies' | 'client_owner_tallies' | 'client_activity_days'

/** The report filters over the facts of the live clients, `f` (client_report_facts): the client list's. */
function factFilters(db: Db, q: Knex.QueryBuilder, f: ReportFilters): Knex.QueryBuilder {
  if (f.owner) q.where('f.owner_user_id', f.owner)
  if (f.status) q.where('f.status', f.status)
  if (f.risk) q.where('f.classification', f.risk)
  if (f.from) q.where('f.created_at', '>=', db.raw("?::date::timestamp AT TIME ZONE 'UTC'", [f.from]))
  if (f.to) q.where('f.created_at', '<', db.raw("(?::date + 1)::timestamp AT TIME ZONE 'UTC'", [f.to]))
  return q
}

/**
 * Counts of the clients the reader may open, with the report filters, grouped by `keys`: one query summing
 * the parts of the access rule (countingParts, SPEC section 3). A part the tallies can count (every client
 * of the company, or those shared with the whole company) is read from `tally` unless a filter the tally does
 * not hold is set (owner and created from/to never; status and classification unless `tallyHasStatusAndRisk`);
 * the rest, and every part when filtered so, is counted over the clients' facts. `shape` adds to either
 * source (`t`, the tally, or `f`, the facts) the key columns, named as `keys`, and any join or condition.
 */
function counted(
  db: Db,
  user: CurrentUser,
  f: ReportFilters,
  spec: {
    tally: Tally
    tallyHasStatusAndRisk: boolean
    keys: string[]
    shape: (q: Knex.QueryBuilder, source: 't' | 'f') => Knex.QueryBuilder
  },
): Knex.QueryBuilder {
  const tallied = !f.owner && !f.from && !f.to && (spec.tallyHasStatusAndRisk || (!f.status && !f.risk))
  const parts = countingParts(db, user, 'f').map((part) => {
    if (tallied && part.tally) {
      const q = db(`${spec.tally} as t`).where('t.company_id', user.companyId)
      if (part.tally === 'shared') q.where('t.shared', true)
      if (f.status) q.where('t.status', f.status)
      if (f.risk) q.where('t.classification', f.risk)
      return spec.shape(q, 't').select('t.n')
    }
    const q = db('client_report_facts as f').where('f.company_id', user.companyId).where(part.where)
    return spec.shape(factFilters(db, q, f), 'f').select(db.raw('1 AS n'))
  })
  const [first, ...rest] = parts
  const counts = first
    ? first.unionAll(rest, true)
    : db.select(...spec.keys.map((k) => db.raw('NULL AS ??', [k])), db.raw('0 AS n')).whereRaw('false')
  // A tally's row may have come down to 0 (its clients moved on): no clients, no group.
  return db
    .from(counts.as('c'))
    .groupBy(spec.keys.map((k) => `c.${k}`))
    .havingRaw('sum(c.n) <> 0')
    .select(...spec.keys.map((k) => `c.${k}`), db.raw('sum(c.n) AS n'))
}

/**
 * A report driven by other rows about clients (searches, portal requests), aliased `alias`: each joined to its
 * client's facts `f`, with the access rule (its counting parts, any of them) and the report filters (all but
 * the date range, which is the rows'). The facts are looked up per row (LATERAL … OFFSET 0 keeps PostgreSQL
 * from hashing 100,000 clients' facts to join a few thousand rows).
 */
function aboutClients(db: Db, user: CurrentUser, f: ReportFilters, table: string, alias: string) {
  const q = db(`${table} as ${alias}`)
    .joinRaw(
      `CROSS JOIN LATERAL (SELECT * FROM client_report_facts f
         WHERE f.id = ${alias}.entity_id AND f.company_id = ${alias}.company_id OFFSET 0) f`,
    )
    .where(`${alias}.company_id`, user.companyId)
    .where((w) => {
      for (const part of countingParts(db, user, 'f')) w.orWhere(part.where)
    })
  factFilters(db, q, { ...f, from: '', to: '' })
  if (f.from) q.where(`${alias}.created_at`, '>=', db.raw("?::date::timestamp AT TIME ZONE 'UTC'", [f.from]))
  if (f.to) q.where(`${alias}.created_at`, '<', db.raw("(?::date + 1)::timestamp AT TIME ZONE 'UTC'", [f.to]))
  return q
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
  const rows: { classification: string; n: string }[] = await counted(db, user, f, {
    tally: 'client_tallies',
    tallyHasStatusAndRisk: true,
    keys: ['classification'],
    shape: (q, from) => q.select(`${from}.classification`),
  })
  const count = (c: string) => n(rows.find((r) => r.classification === c)?.n)
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
  const rows: { status: string; n: string }[] = await counted(db, user, f, {
    tally: 'client_tallies',
    tallyHasStatusAndRisk: true,
    keys: ['status'],
    shape: (q, from) => q.select(`${from}.status`),
  })
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
  const rows: { kind: string; country: string; n: string }[] = await counted(db, user, f, {
    tally: 'client_tallies',
    tallyHasStatusAndRisk: true,
    keys: ['kind', 'country'],
    shape: (q, from) => q.select(`${from}.kind`, `${from}.country`),
  })
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
        href: listHref(f, { kind: r.kind, country: r.country || 'none' }),
      }))
      .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label)),
  }
}

const AGES = ['Under 7 days', '7 to 30 days', 'Over 30 days'] as const

async function openSearches(db: Db, user: CurrentUser, f: ReportFilters, fourEyes: boolean): Promise<Report> {
  // Driven by the open searches (an index of their own), each joined to its client: few rows, whoever reads.
  const rows: { status: string; age: number; n: string }[] = await aboutClients(db, user, f, 'screening_searches', 's')
    .whereIn('s.status', ['open', 'awaiting_approval'])
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
  const today = `(now() AT TIME ZONE 'UTC')::date`
  const [days, states] = await Promise.all([
    counted(db, user, f, {
      tally: 'client_review_tallies',
      tallyHasStatusAndRisk: true,
      keys: ['overdue'],
      shape: (q, from) =>
        q
          .whereRaw(`${from}.review_due_on <= ${today} + 90`)
          .select(db.raw(`${from}.review_due_on < ${today} AS overdue`)),
    }) as Promise<{ overdue: boolean; n: string }[]>,
    counted(db, user, f, {
      tally: 'client_tallies',
      tallyHasStatusAndRisk: true,
      keys: ['out_of_date', 'assessed'],
      shape: (q, from) => q.select(`${from}.out_of_date`, db.raw(`${from}.classification <> 'none' AS assessed`)),
    }) as Promise<{ out_of_date: boolean; assessed: boolean; n: string }[]>,
  ])
  const sum = (rows: { n: string }[]) => rows.reduce((total, r) => total + n(r.n), 0)
  const row = {
    overdue: sum(days.filter((r) => r.overdue)),
    due: sum(days.filter((r) => !r.overdue)),
    out_of_date: sum(states.filter((r) => r.out_of_date)),
    not_assessed: sum(states.filter((r) => !r.assessed)),
  }
  return {
    key: 'reviews',
    title: 'Risk assessments due, overdue and out of date',
    about:
      'Overdue: the review day has passed. Due: a review within 90 days. Out of date: the rules recommend another classification now. Not assessed: no assessment saved.',
    rowHeader: 'Assessments',
    rows: [
      { label: 'Overdue', value: row.overdue, href: listHref(f, { review: 'overdue' }) },
      { label: 'Due within 90 days', value: row.due, href: listHref(f, { review: 'due' }) },
      { label: 'Out of date', value: row.out_of_date, href: listHref(f, { stale: '1' }) },
      // With a classification chosen, no client of the report is unassessed: the row would link elsewhere.
      ...(f.risk && f.risk !== 'none'
        ? []
        : [{ label: 'Not assessed', value: row.not_assessed, href: listHref(f, { risk: 'none' }) }]),
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
  // Driven by the company's portal requests, each joined to its client.
  const rows: { state: string; n: string }[] = await aboutClients(db, user, f, 'portal_requests', 'r')
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
  const owners = counted(db, user, f, {
    tally: 'client_owner_tallies',
    tallyHasStatusAndRisk: false,
    keys: ['owner_user_id'],
    shape: (q, from) => q.select(`${from}.owner_user_id`),
  })
  const rows: { owner: string; name: string; n: string }[] = await db
    .from(owners.as('c'))
    .join('users as u', 'u.id', 'c.owner_user_id')
    .orderBy([
      { column: 'c.n', order: 'desc' },
      { column: 'u.name', order: 'asc' },
    ])
    .select('c.owner_user_id as owner', 'u.name', 'c.n')
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
  // Events about the clients of the report (the same filters but the range, which is the events'), per UTC day.
  const days = counted(
    db,
    user,
    { ...f, from: '', to: '' },
    {
      tally: 'client_activity_days',
      tallyHasStatusAndRisk: false,
      keys: ['day'],
      shape: (q, source) => {
        if (source === 't') return q.whereBetween('t.day', [from, to]).select('t.day')
        return q
          .join('audit_log as a', function () {
            this.on('a.company_id', 'f.company_id')
              .andOn('a.target_type', db.raw('?', ['entity']))
              .andOn('a.target_id', db.raw('f.id::text'))
          })
          .where('a.created_at', '>=', db.raw("((?)::date)::timestamp AT TIME ZONE 'UTC'", [from]))
          .where('a.created_at', '<', db.raw("((?)::date + 1)::timestamp AT TIME ZONE 'UTC'", [to]))
          .select(db.raw(`(a.created_at AT TIME ZONE 'UTC')::date AS day`))
      },
    },
  )
  // Per week from Monday, empty weeks too.
  const rows: { week: string; n: string }[] = await db
    .from(db.raw(`generate_series(date_trunc('week', (?)::date), (?)::date, interval '1 week') AS w(week)`, [from, to]))
    .leftJoin(days.as('d'), function () {
      this.on('d.day', '>=', db.raw('w.week::date')).andOn('d.day', '<', db.raw("(w.week + interval '1 week')::date"))
    })
    .groupBy('w.week')
    .orderBy('w.week')
    .select(db.raw(`to_char(w.week, 'YYYY-MM-DD') AS week`), db.raw('coalesce(sum(d.n), 0) AS n'))
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
