import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import type { ListEntry } from './lists/types.js'
import { NameIndex } from './match/name-index.js'
import type { PotentialMatch, ScreeningQuery } from './match/types.js'
import type { ProfileSnapshot } from './profiles.js'

type Conn = Db | Knex.Transaction

/**
 * The built-in screening provider: the company's imported lists, matched in memory by the name index
 * (src/screening/match/). SPEC section 4 asks for a provider interface, so that a commercial provider can
 * take its place; this is the one provider KYC Desk has.
 */
export interface ScreeningProvider {
  /** The version of each of the company's lists that a search now reads. */
  listVersions(companyId: string): Promise<Record<string, number>>
  /** The potential matches of one query under a profile, best first, with the versions read. */
  search(companyId: string, query: ScreeningQuery, profile: ProfileSnapshot): Promise<ProviderResult>
}

/** A potential match with the stored row of the entry it is about (so a search can name the version it read). */
export interface StoredMatch extends PotentialMatch {
  entryRow: number
  entryHash: string
}

export interface ProviderResult {
  listVersions: Record<string, number>
  matches: StoredMatch[]
}

/** The index of a company's current entries, and which row and digest each entry has. */
export interface CompanyIndex {
  signature: string
  listVersions: Record<string, number>
  index: NameIndex
  rows: Map<string, { row: number; hash: string }>
}

const rowKey = (list: string, entryId: string) => `${list}\u0000${entryId}`

/** The version of each of the company's lists now (a list with no version yet is absent). */
export async function currentListVersions(db: Conn, companyId: string): Promise<Record<string, number>> {
  const rows: { list: string; version: number }[] = await db('screening_list_versions')
    .where({ company_id: companyId })
    .groupBy('list')
    .select('list', db.raw('max(version)::int AS version'))
  return Object.fromEntries(rows.sort((a, b) => a.list.localeCompare(b.list)).map((r) => [r.list, r.version]))
}

/** Indexes by company, rebuilt when a list's version changes; a few companies' kept (each is tens of MB). */
const built = new Map<string, Promise<CompanyIndex>>()
const KEPT = 4

async function buildIndex(db: Conn, companyId: string, listVersions: Record<string, number>): Promise<CompanyIndex> {
  const rows: { id: number; list: string; content_hash: string; data: ListEntry }[] = await db('screening_entries')
    .where({ company_id: companyId })
    .whereNull('to_version')
    .select('id', 'list', 'content_hash', 'data')
  const map = new Map<string, { row: number; hash: string }>()
  for (const r of rows) map.set(rowKey(r.list, r.data.entryId), { row: r.id, hash: r.content_hash })
  return {
    signature: JSON.stringify(listVersions),
    listVersions,
    index: new NameIndex(rows.map((r) => ({ ...r.data, list: r.list }))),
    rows: map,
  }
}

/**
 * The company's index for its lists as they are now: built once per set of versions and kept, so a search
 * costs one small query (the versions) and the matching itself.
 */
export async function companyIndex(db: Conn, companyId: string): Promise<CompanyIndex> {
  const listVersions = await currentListVersions(db, companyId)
  const signature = JSON.stringify(listVersions)
  const cached = built.get(companyId)
  if (cached) {
    const index = await cached.catch(() => undefined)
    if (index?.signature === signature) return index
  }
  const building = buildIndex(db, companyId, listVersions)
  built.delete(companyId)
  built.set(companyId, building)
  if (built.size > KEPT) built.delete(built.keys().next().value as string)
  building.catch(() => built.delete(companyId))
  return building
}

/** Matches a query against an index under a profile: the profile's lists (none named: all), its options. */
export function matchWith(index: CompanyIndex, query: ScreeningQuery, profile: ProfileSnapshot): StoredMatch[] {
  const lists = profile.lists.length > 0 ? profile.lists : undefined
  return index.index
    .search(query, {
      threshold: profile.threshold,
      useBirthDate: profile.useBirthDate,
      useCountry: profile.useCountry,
      lists,
    })
    .flatMap((m) => {
      const stored = index.rows.get(rowKey(m.list, m.entryId))
      return stored ? [{ ...m, entryRow: stored.row, entryHash: stored.hash }] : []
    })
}

/** The versions a profile's search reads: of its lists, or of every list. */
export function versionsRead(index: CompanyIndex, profile: ProfileSnapshot): Record<string, number> {
  if (profile.lists.length === 0) return index.listVersions
  return Object.fromEntries(Object.entries(index.listVersions).filter(([list]) => profile.lists.includes(list)))
}

/** The built-in provider over the app's database. */
export function builtInProvider(db: Db): ScreeningProvider {
  return {
    listVersions: (companyId) => currentListVersions(db, companyId),
    async search(companyId, query, profile) {
      const index = await companyIndex(db, companyId)
      return { listVersions: versionsRead(index, profile), matches: matchWith(index, query, profile) }
    },
  }
}

/** What a client is screened as: its name, kind, date of birth and a country. */
export interface ScreenedClient {
  name: string
  kind: 'individual' | 'organisation'
  date_of_birth: string | null
  nationality: string | null
  country_of_residence: string | null
  country_of_incorporation: string | null
}

export function queryOf(client: ScreenedClient): ScreeningQuery {
  const country = client.nationality ?? client.country_of_residence ?? client.country_of_incorporation
  return {
    name: client.name,
    schema: client.kind,
    ...(client.date_of_birth ? { birthDate: client.date_of_birth } : {}),
    ...(country ? { country } : {}),
  }
}

/** A digest of what a client is screened as: a false match stays quiet while it is unchanged. */
export function subjectHash(query: ScreeningQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([query.name, query.schema, query.birthDate ?? null, query.country ?? null]))
    .digest('hex')
}
