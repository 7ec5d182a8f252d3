import { accessibleClientsPredicate } from '../access/client-access.js'
import { containsPattern, type Db } from '../db/knex.js'
import { type EntityListFilters, filterClients } from '../entities/queries.js'
import { countryName, statusLabel } from '../entities/reference.js'
import type { CurrentUser } from '../types.js'

/** Rows read per query while exporting: memory holds one batch, whatever the list's length. */
export const EXPORT_BATCH = 1000

export const CLIENT_COLUMNS = [
  'Name',
  'Type',
  'Relationship status',
  'Owner',
  'Country',
  'Risk classification',
  'Next review',
  'Assessment out of date',
  'Created',
  'Last change',
] as const

/**
 * The client list as filtered, row by row, for a CSV download: the clients the reader may open (the list's
 * access rule and filters, the name search as "contains"), in name order, read by keyset in batches of
 * EXPORT_BATCH so that 100,000 rows never sit in memory.
 */
export async function* clientRows(
  db: Db,
  user: CurrentUser,
  f: Omit<EntityListFilters, 'sort' | 'after' | 'before'>,
): AsyncGenerator<unknown[]> {
  let after: { key: string; id: string } | undefined
  for (;;) {
    const q = db('entities as e')
      .modify(accessibleClientsPredicate(db, user, 'e'))
      .leftJoin('entity_risk as er', 'er.entity_id', 'e.id')
      .join('users as o', 'o.id', 'e.owner_user_id')
    filterClients(db, q, f)
    if (f.q) q.whereRaw('lower(e.name) LIKE ?', [containsPattern(f.q.toLowerCase())])
    if (after) q.whereRaw('(lower(e.name), e.id) > (?, ?)', [after.key, after.id])
    const rows: Record<string, unknown>[] = await q
      .orderByRaw('lower(e.name), e.id')
      .limit(EXPORT_BATCH)
      .select(
        'e.id',
        db.raw('lower(e.name) AS sort_key'),
        'e.name',
        'e.kind',
        'e.status',
        'o.name as owner',
        db.raw('coalesce(e.country_of_residence, e.country_of_incorporation) AS country'),
        'er.classification',
        db.raw(`to_char(er.review_due_on, 'YYYY-MM-DD') AS review_due_on`),
        'er.out_of_date',
        db.raw(`to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS created`),
        db.raw(`to_char(e.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS updated`),
      )
    for (const r of rows) {
      yield [
        r.name,
        r.kind === 'individual' ? 'Individual' : 'Non-individual',
        statusLabel(String(r.status)),
        r.owner,
        r.country ? countryName(String(r.country)) : '',
        r.classification ?? 'not assessed',
        r.review_due_on ?? '',
        r.classification ? (r.out_of_date ? 'yes' : 'no') : '',
        r.created,
        r.updated,
      ]
    }
    const last = rows.at(-1)
    if (rows.length < EXPORT_BATCH || !last) return
    after = { key: String(last.sort_key), id: String(last.id) }
  }
}
