import type { Knex } from 'knex'
import { hasAccessSql } from '../access/client-access.js'
import { countUpTo, type Db, hotReadByShape } from '../db/knex.js'
import { isCalendarDate, isUuid } from '../http/params.js'
import { ANY_WAITING_SQL } from '../risk/risk-state.js'
import type { CurrentUser } from '../types.js'
import { nameSearch, trigramFrequencies } from './name-search.js'
import type { DeliveryChannel, EntityKind, EntityStatus, VolumeBand } from './reference.js'

export const ENTITIES_PAGE_SIZE = 50
/**
 * A search's or a filtered list's count is exact up to this; beyond it the list says "more than". Counting
 * reads the rows it counts: at 1,000 a search of 2,000 matches ran at two thirds of the plain list's
 * requests/s, at 500 at four fifths (`npm run bench`, interleaved rounds).
 */
export const COUNT_LIMIT = 500

export interface EntityListFilters {
  q: string
  kind: EntityKind | ''
  status: EntityStatus | ''
  owner: string
  /** The current risk classification ('none': not assessed), the review day, an out-of-date assessment. */
  risk: RiskFilter | ''
  review: ReviewFilter | ''
  outOfDate: boolean
  /** Where the client is: an individual's country of residence, an organisation's of incorporation ('none': not known). */
  country: string
  /** Created from and to these days (YYYY-MM-DD, UTC), as the Reports' date range. */
  from: string
  to: string
  sort: EntitySort
  /** Keyset cursors: the page after / before this position. */
  after?: Cursor
  before?: Cursor
}

export const ENTITY_SORTS = ['name', 'changed', 'review', 'risk'] as const
export type EntitySort = (typeof ENTITY_SORTS)[number]
export const RISK_FILTERS = ['high', 'medium', 'low', 'none'] as const
export type RiskFilter = (typeof RISK_FILTERS)[number]
export const REVIEW_FILTERS = ['overdue', 'due', 'within_90_days'] as const
export type ReviewFilter = (typeof REVIEW_FILTERS)[number]

/**
 * Each order's key: text compared in the database's collation (its name, lower-cased, breaks ties within
 * a review day or a classification), or the last change's time. Review: soonest first, unassessed last;
 * risk: High, Medium, Low, then unassessed.
 */
const SORT_KEYS: Record<EntitySort, string> = {
  name: 'lower(e.name)',
  changed: 'e.updated_at',
  review: `coalesce(to_char(er.review_due_on, 'YYYY-MM-DD'), '9999-12-31') || ' ' || lower(e.name)`,
  risk: `(CASE er.classification WHEN 'high' THEN '1' WHEN 'medium' THEN '2' WHEN 'low' THEN '3' ELSE '4' END) || ' ' || lower(e.name)`,
}

export interface Cursor {
  key: string
  id: string
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.key, c.id])).toString('base64url')
}
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/

/**
 * A key of the "last changed" order as the list writes it: a real day (not 30 February, not year 0, which
 * JavaScript accepts and PostgreSQL refuses) and a real time of day.
 */
function isChangeKey(key: string): boolean {
  if (!TIMESTAMP.test(key) || !isCalendarDate(key.slice(0, 10))) return false
  const at = new Date(`${key}Z`)
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 19) === key.slice(0, 19)
}

/**
 * A cursor from the query, or undefined when it is not one this list wrote: its id must be a UUID and, for
 * the "last changed" order, its key a timestamp, or the database would refuse the page's query.
 */
export function decodeCursor(value: unknown, sort: EntityListFilters['sort']): Cursor | undefined {
  if (typeof value !== 'string' || value.length > 500) return undefined
  try {
    const [key, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
    if (typeof key !== 'string' || key.length > 400 || key.includes('\u0000') || !isUuid(id)) return undefined
    if (sort === 'changed' && !isChangeKey(key)) return undefined
    return { key, id }
  } catch {
    return undefined
  }
}

/** Which rows of the whole list a page shows ("51–100 of 3,214"); `moreThan`: the total is "more than" it. */
export interface ListRange {
  from: number
  to: number
  total: number
  moreThan: boolean
}

export interface EntityListRow {
  id: string
  /** Without access only the name is shown ("No access"); the other columns are blanked in SQL. */
  has_access: boolean
  name: string
  kind: EntityKind
  status: EntityStatus
  owner_name: string
  updated_at: Date
  sort_key: string
  /**
   * The client's risk state, when the reader has access and it was assessed: the classification that
   * applies, the next review, and whether the rules recommend something else now.
   */
  classification: 'low' | 'medium' | 'high' | null
  review_due_on: string | null
  out_of_date: boolean | null
  /** The same on every row: the list's count (see ListRange) and the count of rows before the cursor. */
  total: number | null
  risk_waiting: boolean
  preceding: number
}

/**
 * The client list's filters (all but the name search) on a query over `entities as e` that has the client's
 * risk state joined as `er` when a risk filter is set. The list and the Reports (src/reports/) both filter
 * with this, so a report's count is the count of the list it links to.
 */
export function filterClients(
  db: Db | Knex.Transaction,
  q: Knex.QueryBuilder,
  f: Pick<EntityListFilters, 'kind' | 'status' | 'owner' | 'risk' | 'review' | 'outOfDate' | 'country' | 'from' | 'to'>,
): Knex.QueryBuilder {
  if (f.kind) q.where('e.kind', f.kind)
  if (f.status) q.where('e.status', f.status)
  if (f.owner) q.where('e.owner_user_id', f.owner)
  if (f.risk === 'none') q.whereNull('er.entity_id')
  else if (f.risk) q.where('er.classification', f.risk)
  const today = `(now() AT TIME ZONE 'UTC')::date`
  if (f.review === 'overdue') q.whereRaw(`er.review_due_on < ${today}`)
  else if (f.review === 'due') q.whereRaw(`er.review_due_on >= ${today} AND er.review_due_on <= ${today} + 90`)
  else if (f.review) q.whereRaw(`er.review_due_on <= ${today} + 90`)
  if (f.outOfDate) q.where('er.out_of_date', true)
  if (f.country === 'none') q.whereRaw('coalesce(e.country_of_residence, e.country_of_incorporation) IS NULL')
  else if (f.country) q.whereRaw('coalesce(e.country_of_residence, e.country_of_incorporation) = ?', [f.country])
  if (f.from) q.where('e.created_at', '>=', db.raw("?::date::timestamp AT TIME ZONE 'UTC'", [f.from]))
  if (f.to) q.where('e.created_at', '<', db.raw("(?::date + 1)::timestamp AT TIME ZONE 'UTC'", [f.to]))
  return q
}

/**
 * One page of client relationships, keyset-paginated over the index of its sort order, so its cost
 * follows the page size and not the number of clients. Every client's name is listed, with a has_access
 * flag from the access rule in the same query; columns the reader may not see are blanked in SQL. A
 * filter or sort that would reveal more than names (type, status, owner, last change) lists only
 * accessible clients. Returns the rows, whether more lie beyond, and which rows of the list they are.
 */
export async function listEntities(
  db: Db,
  user: CurrentUser,
  f: EntityListFilters,
): Promise<{
  rows: EntityListRow[]
  hasBefore: boolean
  hasAfter: boolean
  range: ListRange
  /** Some client's risk state waits for a recheck (see src/risk/risk-state.ts). */
  riskWaiting: boolean
}> {
  const byName = f.sort === 'name'
  // A key compared as text (every order but the last change's time).
  const textKey = f.sort !== 'changed'
  // By last change, newest first; the others ascending. "Before" pages are read backwards, then reversed.
  const ascending = textKey !== Boolean(f.before)
  const direction = ascending ? 'asc' : 'desc'
  const sortExpr = SORT_KEYS[f.sort]
  const byRisk = Boolean(f.risk || f.review || f.outOfDate || f.sort === 'review' || f.sort === 'risk')
  // Only names are listed for clients without access, so unless a filter or sort would reveal more, the
  // page is read by index first and the access rule evaluated for its 51 rows only.
  const revealing = Boolean(f.kind || f.status || f.owner || f.country || f.from || f.to || byRisk || !byName)
  const cursor = f.before ?? f.after
  // The whole list's count is kept (client_counts); a search's or a filter's is counted, up to a limit.
  const countLimited = Boolean(f.q || revealing)
  const search = f.q ? nameSearch(f.q, trigramFrequencies(db).current()) : undefined
  // A plain name search reads its page from one trigram's rows alone (index-only, in name order, stopping
  // after a page) and then only that page's clients; with a filter too, they say which clients match.
  const byTrigram = search?.by === 'trigram'
  const pageFromTrigrams = byTrigram && !revealing
  // The values bound into the statement; which of them it has, and its text, follow from `f` and the user.
  const params = {
    companyId: user.companyId,
    userId: user.id,
    like: search?.by === 'scan' ? search.pattern : undefined,
    trigram: search?.by === 'trigram' ? search.trigram : undefined,
    offset: search?.by === 'trigram' ? search.offset : undefined,
    term: search?.by === 'trigram' ? search.term : undefined,
    kind: f.kind || undefined,
    status: f.status || undefined,
    owner: f.owner || undefined,
    risk: f.risk || undefined,
    cursorKey: cursor ? (textKey ? cursor.key : `${cursor.key}Z`) : undefined,
    cursorId: cursor?.id,
  }
  const build = (p: typeof params) => {
    const access = hasAccessSql(db, { ...user, id: p.userId })
    const op = (textKey ? !f.before : Boolean(f.before)) ? '>' : '<'
    // The rows before the cursor in list order: for a page before it, those the page is read from (the
    // page's own rows among them); for a page after it, the others, and the cursor's row.
    const precedingOp = f.before ? op : op === '>' ? '<=' : '>='
    // The clients whose name contains the term: of their rows with the term's trigram, the one at the
    // term's first occurrence, so each client once.
    const trigrams = () =>
      db('entity_name_trigrams as t')
        .where('t.company_id', p.companyId)
        .where('t.trigram', p.trigram as string)
        // strpos is 0 where the term is not found: pos − offset is a position only past the offset.
        .whereRaw('strpos(t.sort_key, ?) = t.pos - ? AND t.pos > ?', [
          p.term as string,
          p.offset as number,
          p.offset as number,
        ])
    // The matching rows, without a cursor, an order or a limit: the page's source and what is counted.
    // `key` and `id` are their list order's columns there.
    let matching: Knex.QueryBuilder
    let key: string
    let id: string
    if (pageFromTrigrams) {
      matching = trigrams()
      key = 't.sort_key'
      id = 't.entity_id'
    } else {
      matching = db('entities as e').where('e.company_id', p.companyId).whereNull('e.deleted_at')
      if (revealing) matching.where(access)
      if (search?.by === 'scan') matching.whereRaw('lower(e.name) LIKE ?', [p.like as string])
      if (byTrigram) matching.whereIn('e.id', trigrams().select('t.entity_id'))
      // The client's risk state (entity_risk, one row per assessed client).
      if (byRisk) matching.leftJoin('entity_risk as er', 'er.entity_id', 'e.id')
      filterClients(db, matching, f)
      key = sortExpr
      id = 'e.id'
    }
    const cursorValue = () => (textKey ? p.cursorKey : db.raw('?::timestamptz', [p.cursorKey as string]))
    const fromCursor = (q: Knex.QueryBuilder, comparison: string) =>
      q.whereRaw(`(${key}, ${id}) ${comparison} (?, ?)`, [cursorValue() as string, p.cursorId as string])

    let page = matching
      .clone()
      .orderByRaw(`${key} ${direction}, ${id} ${direction}`)
      .limit(ENTITIES_PAGE_SIZE + 1)
    if (cursor) fromCursor(page, op)
    if (pageFromTrigrams) {
      page = db
        .from(page.select('t.sort_key', 't.entity_id').as('m'))
        .join('entities as e', 'e.id', 'm.entity_id')
        .whereNull('e.deleted_at')
        .select('e.id', 'e.name', 'e.kind', 'e.status', 'e.owner_user_id', 'e.updated_at', 'm.sort_key')
    } else {
      page
        .select('e.id', 'e.name', 'e.kind', 'e.status', 'e.owner_user_id', 'e.updated_at')
        .select(
          db.raw(
            textKey
              ? `${sortExpr} AS sort_key`
              : `to_char(e.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS sort_key`,
          ),
        )
    }
    // "1–50 of 3,214": the whole list's count is kept by a trigger (client_counts); a search's or a
    // filter's is counted up to COUNT_LIMIT + 1 rows, so that its cost stays bounded. Where the page
    // starts follows from the count of the rows before the cursor.
    const total = countLimited
      ? countUpTo(db, matching.clone(), COUNT_LIMIT)
      : db('client_counts').where('company_id', p.companyId).select('live')
    const preceding = cursor ? fromCursor(matching.clone(), precedingOp).count('* as n') : undefined

    return (
      db
        .withMaterialized('page', page)
        .from(db.raw('page AS e'))
        .crossJoin(db.raw('LATERAL (SELECT ? AS has_access OFFSET 0) AS acc', [revealing ? db.raw('true') : access]))
        // The client's risk state, for readers with access: one index probe a row.
        .joinRaw('LEFT JOIN entity_risk AS risk ON risk.entity_id = e.id AND acc.has_access')
        .select(
          'risk.classification',
          db.raw(`to_char(risk.review_due_on, 'YYYY-MM-DD') AS review_due_on`),
          'risk.out_of_date',
          'e.id',
          'e.name',
          'acc.has_access',
          'e.sort_key',
          db.raw('CASE WHEN acc.has_access THEN e.kind END AS kind'),
          db.raw('CASE WHEN acc.has_access THEN e.status END AS status'),
          // One index lookup per listed row (a join would hash every user of the company).
          db.raw(
            'CASE WHEN acc.has_access THEN (SELECT o.name FROM users o WHERE o.id = e.owner_user_id) END AS owner_name',
          ),
          db.raw('CASE WHEN acc.has_access THEN e.updated_at END AS updated_at'),
          // Whether any client's risk state waits for a recheck (the route rechecks, then reads again).
          db.raw(`${ANY_WAITING_SQL} AS risk_waiting`, [p.companyId, p.companyId]),
          db.raw('(?)::int AS total', [total]),
          db.raw(preceding ? '(?)::int AS preceding' : '0 AS preceding', preceding ? [preceding] : []),
        )
        .orderBy([
          { column: 'e.sort_key', order: direction },
          { column: 'e.id', order: direction },
        ])
    )
  }
  // The plain list and a plain name search are hot reads (prepared and planned once, pipelined, their SQL
  // built once per shape): the best plan of each is the same for any values (the name order; the term's
  // trigram's rows in name order). A filter, or a search of one or two characters, is not: whether an owner's or a
  // status's rows or the name order serve it best depends on how rare its value is, which only a plan made
  // for that value can weigh.
  let fetched: EntityListRow[]
  if (revealing || search?.by === 'scan') fetched = await build(params)
  else {
    const shape = `entities.${pageFromTrigrams ? 'search' : 'list'} ${direction} ${cursor ? 'from' : 'first'} ${hasAccessSql(db, user).toSQL().sql}`
    fetched = await hotReadByShape(db, shape, params, build)
  }
  const more = fetched.length > ENTITIES_PAGE_SIZE
  const rows = fetched.slice(0, ENTITIES_PAGE_SIZE)
  if (f.before) rows.reverse()
  const counts = fetched[0]
  const preceding = counts?.preceding ?? 0
  const from = f.before ? preceding - rows.length + 1 : preceding + 1
  return {
    rows,
    riskWaiting: Boolean(counts?.risk_waiting),
    hasBefore: f.before ? more : Boolean(f.after),
    hasAfter: f.before ? true : more,
    range: {
      from,
      to: from + rows.length - 1,
      // Only a search's or a filter's count stops at COUNT_LIMIT + 1; the whole list's is kept exact.
      total: countLimited ? Math.min(counts?.total ?? 0, COUNT_LIMIT) : (counts?.total ?? 0),
      moreThan: countLimited && (counts?.total ?? 0) > COUNT_LIMIT,
    },
  }
}

/** The columns written for an entity (by its form): the fields of the other kind are always empty. */
export interface EntityValues {
  kind: EntityKind
  name: string
  date_of_birth: string | null
  nationality: string | null
  country_of_residence: string | null
  registration_number: string | null
  country_of_incorporation: string | null
  legal_form: string | null
  owner_user_id: string
  status: EntityStatus
  notes: string
  /** What the risk rules read beyond the rest (src/risk/). */
  delivery_channel: DeliveryChannel | null
  volume_band: VolumeBand | null
  cash_intensive: boolean
  pep: boolean
}

export interface Entity extends EntityValues {
  id: string
  /** A confirmed true match of a closed screening search (src/screening/): facts the risk rules read. */
  screening_sanctions_match: boolean
  screening_pep_match: boolean
  company_id: string
  owner_name: string
  created_at: Date
  updated_at: Date
  deleted_at: Date | null
  /** The last change's time to the microsecond: what an edit form was rendered from (optimistic locking). */
  version: string
}

const ENTITY_COLUMNS = [
  'e.id',
  'e.company_id',
  'e.kind',
  'e.name',
  'e.nationality',
  'e.country_of_residence',
  'e.registration_number',
  'e.country_of_incorporation',
  'e.legal_form',
  'e.owner_user_id',
  'o.name as owner_name',
  'e.status',
  'e.notes',
  'e.delivery_channel',
  'e.volume_band',
  'e.cash_intensive',
  'e.pep',
  'e.screening_sanctions_match',
  'e.screening_pep_match',
  'e.created_at',
  'e.updated_at',
  'e.deleted_at',
]

/**
 * Selects an Entity from a query over `entities as e`: its columns, its owner's name and its version. One
 * place for the shape, used by the lookups below and by the guard's client context (src/access/).
 */
export function selectEntity(db: Db | Knex.Transaction, query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query
    .join('users as o', 'o.id', 'e.owner_user_id')
    .select(
      ...ENTITY_COLUMNS,
      db.raw("to_char(e.date_of_birth, 'YYYY-MM-DD') AS date_of_birth"),
      db.raw(`to_char(e.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS version`),
    )
}

function entityOfCompany(db: Db | Knex.Transaction, companyId: string, id: string, deleted: boolean, lock = false) {
  const query = selectEntity(
    db,
    db('entities as e')
      .where({ 'e.company_id': companyId, 'e.id': id })
      .modify((q) => (deleted ? q.whereNotNull('e.deleted_at') : q.whereNull('e.deleted_at'))),
  )
  return (lock ? query.forUpdate('e') : query).first()
}

/** A live entity of the company, its row locked until the transaction ends (read-modify-write). */
export async function lockEntity(trx: Knex.Transaction, companyId: string, id: string): Promise<Entity | undefined> {
  return entityOfCompany(trx, companyId, id, false, true)
}

/** A live entity of the company (the guard has already admitted the user to it). */
export async function findEntity(
  db: Db | Knex.Transaction,
  companyId: string,
  id: string,
): Promise<Entity | undefined> {
  return entityOfCompany(db, companyId, id, false)
}

/** A soft-deleted entity of the company (in the recycle bin). */
export async function findDeletedEntity(
  db: Db | Knex.Transaction,
  companyId: string,
  id: string,
): Promise<Entity | undefined> {
  return entityOfCompany(db, companyId, id, true)
}

export async function activeUsersOf(db: Db, companyId: string): Promise<{ id: string; name: string }[]> {
  return db('users').where({ company_id: companyId, active: true }).select('id', 'name').orderByRaw('lower(name)')
}

export interface HistoryRow {
  action: string
  actor_name: string | null
  before: unknown
  after: unknown
  created_at: Date
}

/** The entity's history: the audit rows about it, newest first. */
export async function entityHistory(db: Db, companyId: string, entityId: string, limit = 100): Promise<HistoryRow[]> {
  return db('audit_log as a')
    .leftJoin('users as u', 'u.id', 'a.actor_user_id')
    .where({ 'a.company_id': companyId, 'a.target_type': 'entity', 'a.target_id': entityId })
    .select('a.action', 'u.name as actor_name', 'a.before', 'a.after', 'a.created_at')
    .orderBy('a.id', 'desc')
    .limit(limit)
}
