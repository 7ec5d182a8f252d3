import { countUpTo, type Db } from '../db/knex.js'

export interface AuditFilters {
  actor: string
  target: string
  action: string
  from: string
  to: string
  page: number
}

export const AUDIT_PAGE_SIZE = 50

export interface AuditRow {
  id: number
  action: string
  actor_name: string | null
  target_type: string | null
  target_id: string | null
  target_name: string | null
  before: unknown
  after: unknown
  ip: string | null
  created_at: Date
}

/** The trail's count is exact up to this; beyond it the page says "more than". */
export const AUDIT_COUNT_LIMIT = 10_000

/**
 * One page of the company's audit trail, newest first, filtered in SQL, and how many entries the filters
 * match (counted up to AUDIT_COUNT_LIMIT + 1, so that a long trail costs a bounded count). Dates are whole
 * days (UTC).
 */
export async function listAudit(
  db: Db,
  companyId: string,
  f: AuditFilters,
): Promise<{ rows: AuditRow[]; hasMore: boolean; total: number; moreThan: boolean }> {
  const [rows, counted] = await Promise.all([
    auditQuery(db, companyId, f)
      .select(AUDIT_COLUMNS(db))
      .orderBy('a.id', 'desc')
      .limit(AUDIT_PAGE_SIZE + 1)
      .offset((f.page - 1) * AUDIT_PAGE_SIZE),
    countUpTo(db, auditEntries(db, companyId, f), AUDIT_COUNT_LIMIT).first(),
  ])
  const n = (counted as { n: number } | undefined)?.n ?? 0
  return {
    rows: rows.slice(0, AUDIT_PAGE_SIZE),
    hasMore: rows.length > AUDIT_PAGE_SIZE,
    total: Math.min(n, AUDIT_COUNT_LIMIT),
    moreThan: n > AUDIT_COUNT_LIMIT,
  }
}

/** What a row of the audit trail shows: the entry, who did it, and the name of what it concerns. */
const AUDIT_COLUMNS = (db: Db) => [
  'a.id',
  'a.action',
  'actor.name as actor_name',
  'a.target_type',
  'a.target_id',
  // The name of what it concerns now, or, once it is gone, as the entry itself recorded it.
  db.raw("COALESCE(target.name, te.name, tg.name, ts.name, a.after->>'name', a.before->>'name') AS target_name"),
  'a.before',
  'a.after',
  'a.ip',
  'a.created_at',
]

/** Every entry of the company that the filters let through, newest first: for the CSV export. */
export function auditForExport(db: Db, companyId: string, f: Omit<AuditFilters, 'page'>) {
  return auditQuery(db, companyId, { ...f, page: 1 })
    .select(AUDIT_COLUMNS(db))
    .orderBy('a.id', 'desc')
}

function auditQuery(db: Db, companyId: string, f: AuditFilters) {
  const target = (type: string) => db.raw('CASE WHEN a.target_type = ? THEN a.target_id::uuid END', [type])
  return auditEntries(db, companyId, f)
    .leftJoin('users as actor', 'actor.id', 'a.actor_user_id')
    .leftJoin('users as target', (j) => j.on('target.id', '=', target('user')))
    .leftJoin('entities as te', (j) => j.on('te.id', '=', target('entity')))
    .leftJoin('groups as tg', (j) => j.on('tg.id', '=', target('group')))
    .leftJoin('services as ts', (j) => j.on('ts.id', '=', target('service')))
}

/** The company's entries that the filters let through (the filters are on the entries' own columns). */
function auditEntries(db: Db, companyId: string, f: Omit<AuditFilters, 'page'>) {
  const q = db('audit_log as a').where('a.company_id', companyId)
  if (f.actor) q.andWhere('a.actor_user_id', f.actor)
  if (f.target) q.andWhere({ 'a.target_type': 'user', 'a.target_id': f.target })
  if (f.action) q.andWhere('a.action', f.action)
  // Whole UTC days, as the page shows times, whatever the database session's time zone.
  if (f.from) q.andWhereRaw("a.created_at >= (?::date::timestamp AT TIME ZONE 'UTC')", [f.from])
  if (f.to) q.andWhereRaw("a.created_at < ((?::date + 1)::timestamp AT TIME ZONE 'UTC')", [f.to])
  return q
}

/** The names of these users of the company, by id (for the ids an entry's stored values hold). */
export async function userNames(db: Db, companyId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db('users').where('company_id', companyId).whereIn('id', ids).select('id', 'name')
  return new Map(rows.map((r: { id: string; name: string }) => [r.id, r.name]))
}

export async function auditActions(db: Db, companyId: string): Promise<string[]> {
  const rows = await db('audit_log').where({ company_id: companyId }).distinct('action').orderBy('action')
  return rows.map((r: { action: string }) => r.action)
}

export async function companyUsers(db: Db, companyId: string): Promise<{ id: string; name: string }[]> {
  return db('users').where({ company_id: companyId }).select('id', 'name').orderByRaw('lower(name)')
}
