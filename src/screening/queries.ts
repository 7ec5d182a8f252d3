import type { Knex } from 'knex'
import { hasAccessSql } from '../access/client-access.js'
import { containsPattern, type Db, hotRead } from '../db/knex.js'
import type { CurrentUser } from '../types.js'
import type { MatchExplanation, ScreeningQuery } from './match/types.js'
import type { ProfileSnapshot } from './profiles.js'
import type { SearchKind, SearchStatus } from './searches.js'

type Conn = Db | Knex.Transaction

export interface SearchRow {
  id: string
  kind: SearchKind
  entity_id: string | null
  entity_name: string | null
  query: ScreeningQuery
  profile: ProfileSnapshot
  list_versions: Record<string, number>
  match_count: number
  top_score: string | null
  status: SearchStatus
  created_by: string | null
  created_by_name: string | null
  created_at: Date
  checked_by: string | null
  checked_by_name: string | null
  checked_at: Date | null
  approved_by_name: string | null
  approved_at: Date | null
  sent_back_by_name: string | null
  sent_back_reason: string | null
  closed_at: Date | null
  /** The newer search of the client that replaced this open one. */
  superseded_by: string | null
}

export interface MatchRow {
  id: string
  list: string
  entry_id: string
  name: string
  topics: string[]
  score: string
  explanation: MatchExplanation
  decision: 'true_match' | 'false_match' | null
  rationale: string | null
  decided_by_name: string | null
  decided_at: Date | null
  /** The entry as the search read it. */
  entry: { schema: string; birthDates: string[]; countries: string[]; programs: string[]; remarks?: string }
}

/** The columns of a search, with the names of the people in its review and of its client. */
function searchColumns(db: Conn) {
  return [
    's.id',
    's.kind',
    's.entity_id',
    'e.name as entity_name',
    's.query',
    's.profile',
    's.list_versions',
    's.match_count',
    's.top_score',
    's.status',
    's.created_by',
    'cu.name as created_by_name',
    's.created_at',
    's.checked_by',
    'ch.name as checked_by_name',
    's.checked_at',
    'ap.name as approved_by_name',
    's.approved_at',
    'sb.name as sent_back_by_name',
    's.sent_back_reason',
    's.closed_at',
    's.superseded_by',
  ].map((c) => db.ref(c))
}

function withPeople(db: Conn) {
  return db('screening_searches as s')
    .leftJoin('entities as e', 'e.id', 's.entity_id')
    .leftJoin('users as cu', 'cu.id', 's.created_by')
    .leftJoin('users as ch', 'ch.id', 's.checked_by')
    .leftJoin('users as ap', 'ap.id', 's.approved_by')
    .leftJoin('users as sb', 'sb.id', 's.sent_back_by')
}

/** One search of the company: of this client, or (entityId null) a one-time search. */
export async function searchOf(
  db: Conn,
  companyId: string,
  searchId: string,
  entityId: string | null,
): Promise<SearchRow | undefined> {
  return withPeople(db)
    .where('s.company_id', companyId)
    .where('s.id', searchId)
    .modify((q) => (entityId ? q.where('s.entity_id', entityId) : q.where('s.kind', 'one_time')))
    .first(searchColumns(db))
}

/** A search's potential matches, best first, each with the entry as the search read it. */
export function matchesOf(db: Conn, searchId: string): Promise<MatchRow[]> {
  return db('screening_matches as m')
    .join('screening_entries as x', 'x.id', 'm.entry_row')
    .leftJoin('users as d', 'd.id', 'm.decided_by')
    .where('m.search_id', searchId)
    .orderBy([{ column: 'm.score', order: 'desc' }, { column: 'm.name' }])
    .select(
      'm.id',
      'm.list',
      'm.entry_id',
      'm.name',
      'm.topics',
      'm.score',
      'm.explanation',
      'm.decision',
      'm.rationale',
      'd.name as decided_by_name',
      'm.decided_at',
      db.raw(
        `jsonb_build_object('schema', x.schema, 'birthDates', x.data->'birthDates', 'countries', x.data->'countries',
          'programs', x.data->'programs', 'remarks', x.data->'remarks') AS entry`,
      ),
    )
}

/** A client's searches, newest first (on the read lane: the client page reads it on every view). */
export function searchesOfClient(db: Db, companyId: string, entityId: string, limit = 20): Promise<SearchRow[]> {
  return hotRead<SearchRow[]>(
    db,
    withPeople(db)
      .where({ 's.company_id': companyId, 's.entity_id': entityId })
      .orderBy([
        { column: 's.created_at', order: 'desc' },
        { column: 's.id', order: 'desc' },
      ])
      .limit(limit)
      .select(searchColumns(db)),
  )
}

/** When the client was last screened (by the nightly run or a manual search), if ever. */
export async function lastScreened(db: Db, entityId: string): Promise<Date | null> {
  const row = await hotRead<{ screened_at: Date } | undefined>(
    db,
    db('entity_screening').where({ entity_id: entityId }).first('screened_at'),
  )
  return row?.screened_at ?? null
}

export const SEARCH_TABS = ['open', 'awaiting_approval', 'closed'] as const
export type SearchTab = (typeof SEARCH_TABS)[number]

export interface SearchFilters {
  tab: SearchTab
  kind?: 'automated' | 'manual'
  /** Only searches whose client's name contains this. */
  client?: string
  page: number
}

/**
 * The Searches page: the company's client searches in one state, of clients the reader has access to
 * (the client access rule as one predicate of the same statement), newest first.
 */
export function searchesPage(db: Db, user: CurrentUser, f: SearchFilters, size: number): Promise<SearchRow[]> {
  const statuses = f.tab === 'closed' ? ['closed', 'clear', 'superseded'] : [f.tab]
  return withPeople(db)
    .where('s.company_id', user.companyId)
    .whereNot('s.kind', 'one_time')
    .whereIn('s.status', statuses)
    .whereNull('e.deleted_at')
    .where(hasAccessSql(db, user, 'e'))
    .modify((q) => {
      if (f.kind) q.where('s.kind', f.kind)
      if (f.client) q.whereILike('e.name', containsPattern(f.client))
    })
    .orderBy([
      { column: 's.created_at', order: 'desc' },
      { column: 's.id', order: 'desc' },
    ])
    .offset((f.page - 1) * size)
    .limit(size + 1)
    .select(searchColumns(db))
}

/**
 * How many of the company's client searches in a state wait for the reader: of clients they have access to,
 * and, awaiting approval, not checked by themselves (they cannot approve those).
 */
export async function waitingFor(db: Db, user: CurrentUser, status: 'open' | 'awaiting_approval'): Promise<number> {
  const row = await db('screening_searches as s')
    .join('entities as e', 'e.id', 's.entity_id')
    .where({ 's.company_id': user.companyId, 's.status': status })
    .whereNull('e.deleted_at')
    .where(hasAccessSql(db, user, 'e'))
    .modify((q) => {
      if (status === 'awaiting_approval') q.whereNot('s.checked_by', user.id)
    })
    .count<{ n: string }>('* as n')
    .first()
  return Number(row?.n ?? 0)
}

/** The one-time searches of the company, newest first. */
export function oneTimeSearches(db: Db, companyId: string, page: number, size: number): Promise<SearchRow[]> {
  return withPeople(db)
    .where({ 's.company_id': companyId, 's.kind': 'one_time' })
    .orderBy([
      { column: 's.created_at', order: 'desc' },
      { column: 's.id', order: 'desc' },
    ])
    .offset((page - 1) * size)
    .limit(size + 1)
    .select(searchColumns(db))
}

export interface SearchLogFilters {
  kind: '' | SearchKind
  /** created_by: a user's id. */
  user: string
  /** The name searched contains this. */
  name: string
  from: string
  to: string
  page: number
}

/**
 * The search log: every search of the company (automated, manual, one-time), newest first, filtered; of
 * clients the reader has access to (one-time searches have no client). For the page (a page of `size`, one
 * more to tell whether there is a next) and the CSV export (`size` rows before a given time and id).
 */
export function searchLog(db: Db, user: CurrentUser, f: SearchLogFilters) {
  return withPeople(db)
    .where('s.company_id', user.companyId)
    .where((w) => w.whereNull('s.entity_id').orWhere(hasAccessSql(db, user, 'e')))
    .modify((q) => {
      if (f.kind) q.where('s.kind', f.kind)
      if (f.user) q.where('s.created_by', f.user)
      if (f.name) q.whereRaw(`s.query->>'name' ILIKE ?`, [containsPattern(f.name)])
      if (f.from) q.where('s.created_at', '>=', db.raw(`?::date AT TIME ZONE 'UTC'`, [f.from]))
      if (f.to) q.where('s.created_at', '<', db.raw(`(?::date + 1) AT TIME ZONE 'UTC'`, [f.to]))
    })
    .orderBy([
      { column: 's.created_at', order: 'desc' },
      { column: 's.id', order: 'desc' },
    ])
    .select(searchColumns(db))
}
