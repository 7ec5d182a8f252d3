import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import { writeAudit } from '../../audit/audit.js'
import type { Db } from '../../db/knex.js'
import { RuleError } from '../../forms/rule-error.js'
import type { ListEntry, ListFormat, ParsedList } from './types.js'

/** The lists KYC Desk ships and knows by name; an OpenSanctions file is imported under a key of its own. */
export const LIST_NAMES: Record<string, string> = {
  'ofac-sdn': 'OFAC Specially Designated Nationals (SDN)',
  un: 'UN Security Council Consolidated List',
}

/** A list's name as pages say it. */
export function listName(list: string): string {
  return LIST_NAMES[list] ?? `OpenSanctions: ${list}`
}

/** What a key of a list may be: lower-case letters, digits and hyphens (the column's CHECK says the same). */
export const LIST_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/

/** The key a parsed list is stored under: OFAC and UN have theirs; an OpenSanctions file's is chosen. */
export function listKeyOf(format: ListFormat, chosen?: string): string {
  if (format === 'ofac-sdn' || format === 'un') return format
  return chosen || 'opensanctions'
}

/** What a version records as its source: the names of the files its list was read from. */
export function sourceOf(parsed: ParsedList): string {
  return (parsed.files ?? []).map((f) => f.split(/[\\/]/).pop()).join(', ') || 'not stated'
}

const count = (n: number) => n.toLocaleString('en-GB')

/** What an import did, in a sentence (the page's message, the command line's output). */
export function importSentence(r: ImportResult): string {
  return r.status === 'unchanged'
    ? `${listName(r.list)}: unchanged (the same ${count(r.entryCount)} entries as version ${r.version}), nothing recorded`
    : `${listName(r.list)}: version ${r.version}, ${count(r.entryCount)} entries (${count(r.added)} added, ${count(r.changed)} changed, ${count(r.removed)} removed)`
}

/** Who imports: a signed-in administrator, or the command line (no user). */
export interface ImportActor {
  companyId: string
  userId: string | null
  ip?: string | null
}

export interface ImportResult {
  list: string
  /** imported: a new version; unchanged: the file's entries are the latest version's, so nothing was written. */
  status: 'imported' | 'unchanged'
  version: number
  entryCount: number
  added: number
  changed: number
  removed: number
}

/** The entry as stored: its fields in one fixed order, so that equal entries have equal digests. */
function canonical(entry: ListEntry): ListEntry {
  return {
    entryId: entry.entryId,
    schema: entry.schema,
    topics: entry.topics,
    name: entry.name,
    names: entry.names.map((n) => ({
      name: n.name,
      quality: n.quality,
      ...(n.originalScript ? { originalScript: true } : {}),
    })),
    birthDates: entry.birthDates,
    countries: entry.countries,
    programs: entry.programs,
    ...(entry.remarks ? { remarks: entry.remarks } : {}),
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

interface PreparedEntry {
  entryId: string
  json: string
  hash: string
  schema: string
  name: string
}

function prepare(entries: readonly ListEntry[]): { prepared: PreparedEntry[]; contentHash: string } {
  const byId = new Map<string, PreparedEntry>()
  for (const entry of entries) {
    const json = JSON.stringify(canonical(entry))
    // A list that names one entry twice keeps the last, as its own later row would override the earlier.
    byId.set(entry.entryId, {
      entryId: entry.entryId,
      json,
      hash: sha256(json),
      schema: entry.schema,
      name: entry.name,
    })
  }
  const prepared = [...byId.values()].sort((a, b) => (a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0))
  return { prepared, contentHash: sha256(prepared.map((p) => `${p.entryId}:${p.hash}`).join('\n')) }
}

/** One transaction's lock on one company's list, so two imports of it run one after the other. */
async function lockList(trx: Knex.Transaction, companyId: string, list: string): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 14))', [`screening-list:${companyId}:${list}`])
}

/**
 * Imports a parsed list into a company as the list's next version, in one transaction: the version row,
 * the entries that are new or changed (each a row from this version on), the end of the rows of entries that
 * changed or left, and an audit row. A list whose entries are exactly the latest version's records nothing.
 * Anything that fails rolls the whole import back, so the version before stays the one in force.
 */
export async function importList(
  db: Db | Knex.Transaction,
  actor: ImportActor,
  parsed: ParsedList,
  options: { source: string; list?: string },
): Promise<ImportResult> {
  const list = listKeyOf(parsed.format, options.list)
  if (!LIST_KEY_PATTERN.test(list))
    throw new RuleError('list', `"${list}" is not a list name: use lower-case letters, digits and hyphens`)
  if (parsed.format === 'opensanctions' && list in LIST_NAMES)
    throw new RuleError('list', `“${list}” is the name of ${listName(list)}: give the OpenSanctions list another name`)
  const { prepared, contentHash } = prepare(parsed.entries)
  return db.transaction(async (trx) => {
    await lockList(trx, actor.companyId, list)
    const latest: { version: number; content_hash: string; entry_count: number; format: string } | undefined =
      await trx('screening_list_versions')
        .where({ company_id: actor.companyId, list })
        .orderBy('version', 'desc')
        .first('version', 'content_hash', 'entry_count', 'format')
    if (latest && latest.format !== parsed.format)
      throw new RuleError(
        'list',
        `The list “${list}” was imported from another kind of file: give this one another name`,
      )
    if (latest?.content_hash === contentHash)
      return {
        list,
        status: 'unchanged',
        version: latest.version,
        entryCount: latest.entry_count,
        added: 0,
        changed: 0,
        removed: 0,
      }
    const current = new Map<string, string>(
      (
        await trx('screening_entries')
          .where({ company_id: actor.companyId, list })
          .whereNull('to_version')
          .select<{ entry_id: string; content_hash: string }[]>('entry_id', 'content_hash')
      ).map((row) => [row.entry_id, row.content_hash]),
    )
    const fresh = prepared.filter((p) => current.get(p.entryId) !== p.hash)
    const added = fresh.filter((p) => !current.has(p.entryId)).length
    const changed = fresh.length - added
    const present = new Set(prepared.map((p) => p.entryId))
    const gone = [...current.keys()].filter((id) => !present.has(id))
    const version = (latest?.version ?? 0) + 1
    await trx('screening_list_versions').insert({
      company_id: actor.companyId,
      list,
      format: parsed.format,
      version,
      source: options.source.slice(0, 500),
      file_date: parsed.fileDate ?? null,
      content_hash: contentHash,
      entry_count: prepared.length,
      added,
      changed,
      removed: gone.length,
      imported_by: actor.userId,
    })
    const ended = [...gone, ...fresh.filter((p) => current.has(p.entryId)).map((p) => p.entryId)]
    if (ended.length > 0)
      await trx.raw(
        `UPDATE screening_entries SET to_version = ?
         WHERE company_id = ? AND list = ? AND to_version IS NULL AND entry_id = ANY(?::text[])`,
        [version, actor.companyId, list, ended],
      )
    // One statement per few thousand rows: unnest turns the columns into rows on the server.
    for (let i = 0; i < fresh.length; i += 5000) {
      const chunk = fresh.slice(i, i + 5000)
      await trx.raw(
        `INSERT INTO screening_entries (company_id, list, entry_id, from_version, schema, name, data, content_hash)
         SELECT ?, ?, e.entry_id, ?, e.schema, e.name, e.data::jsonb, e.hash
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS e(entry_id, schema, name, data, hash)`,
        [
          actor.companyId,
          list,
          version,
          chunk.map((p) => p.entryId),
          chunk.map((p) => p.schema),
          chunk.map((p) => p.name),
          chunk.map((p) => p.json),
          chunk.map((p) => p.hash),
        ],
      )
    }
    await writeAudit(trx, {
      companyId: actor.companyId,
      actorUserId: actor.userId,
      action: 'screening.list_imported',
      targetType: 'company',
      targetId: actor.companyId,
      before: latest ? { list: listName(list), version: latest.version, entries: latest.entry_count } : undefined,
      after: {
        list: listName(list),
        version,
        source: options.source,
        file_date: parsed.fileDate ?? 'not stated',
        entries: prepared.length,
        added,
        changed,
        removed: gone.length,
      },
      ip: actor.ip ?? null,
    })
    return { list, status: 'imported', version, entryCount: prepared.length, added, changed, removed: gone.length }
  })
}

export interface ListVersionRow {
  id: string
  list: string
  format: ListFormat
  version: number
  source: string
  file_date: string | null
  entry_count: number
  added: number
  changed: number
  removed: number
  imported_by_name: string | null
  imported_at: Date
}

/** Every version of the company's lists, newest first within each list. */
export async function listVersions(db: Db, companyId: string): Promise<ListVersionRow[]> {
  return db('screening_list_versions as v')
    .leftJoin('users as u', 'u.id', 'v.imported_by')
    .where('v.company_id', companyId)
    .orderBy([{ column: 'v.list' }, { column: 'v.version', order: 'desc' }])
    .select(
      'v.id',
      'v.list',
      'v.format',
      'v.version',
      'v.source',
      db.raw(`to_char(v.file_date, 'YYYY-MM-DD') AS file_date`),
      'v.entry_count',
      'v.added',
      'v.changed',
      'v.removed',
      'u.name as imported_by_name',
      'v.imported_at',
    )
}
