import { createHash, randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import type { ListEntry } from './lists/types.js'
import { NameIndex } from './match/name-index.js'
import { defaultProfile, matchingKey, type ProfileSnapshot, snapshotOf } from './profiles.js'
import {
  type CompanyIndex,
  companyIndex,
  matchWith,
  queryOf,
  type ScreenedClient,
  subjectHash,
  versionsRead,
} from './provider.js'
import {
  type Dismissal,
  matchRowsOf,
  type OutcomeMatch,
  outcomeKey,
  outcomeOf,
  searchRowOf,
  supersedeOlder,
  withoutDismissed,
} from './searches.js'

/** Clients read, screened and written per transaction. */
const BATCH = 2000

/**
 * A full garbage collection every this many clients, when the process allows it (node --expose-gc, as
 * `npm start`, the Dockerfile and the benchmark run it): each batch's rows and matches outlive the young
 * generation while they are written, so without it the old generation fills with them between V8's own
 * collections. Measured by npm run bench:screening on 100,000 clients, one run each: a peak of 418 MB in
 * 16.8 s without, 264 MB in 24.1 s with.
 */
const COLLECT_EVERY = 10_000
const collectGarbage = (globalThis as { gc?: () => void }).gc

/** What the last nightly run screened every client against, so the next one screens only what changed. */
interface RunMark {
  list_versions: Record<string, number>
  profile_hash: string
}

/** A digest of what the profile's matching depends on, kept with the run mark. */
function profileHash(profile: ProfileSnapshot): string {
  return createHash('sha256').update(matchingKey(profile)).digest('hex')
}

/**
 * What changed in the lists since the last run: the entries new or changed since (as an index of their
 * own, small), and the keys of entries that changed or left (a client matched to one is screened again).
 */
async function listChanges(db: Db, companyId: string, since: Record<string, number>, index: CompanyIndex) {
  const changed: (ListEntry & { list: string })[] = []
  const ended = new Set<string>()
  for (const [list, now] of Object.entries(index.listVersions)) {
    const before = since[list] ?? 0
    if (now === before) continue
    const fresh: { data: ListEntry }[] = await db('screening_entries')
      .where({ company_id: companyId, list })
      .whereNull('to_version')
      .where('from_version', '>', before)
      .select('data')
    for (const r of fresh) changed.push({ ...r.data, list })
    const gone: string[] = await db('screening_entries')
      .where({ company_id: companyId, list })
      .where('to_version', '>', before)
      .pluck('entry_id')
    for (const id of gone) ended.add(`${list}\u0000${id}`)
  }
  // Lists that were dropped altogether end every entry they had.
  for (const list of Object.keys(since)) if (!(list in index.listVersions)) ended.add(`${list}\u0000*`)
  return { changed, ended }
}

interface ClientRow extends ScreenedClient {
  id: string
  subject_hash: string | null
  outcome: OutcomeMatch[] | null
}

export interface NightlyResult {
  screened: number
  searches: number
  full: boolean
}

/**
 * The nightly screening of one company's live clients (not in the recycle bin) under its default profile,
 * incremental: a client whose name data changed (or that was never screened) is screened against every list;
 * every other client only against the entries new or changed since the last run, and again in full if such
 * an entry, or an entry it matched that changed or left, concerns it. A search is recorded only when a
 * client's outcome changed (its first screening included); false matches stay quiet as dismissed. No
 * credit is spent. Returns how many clients were screened and how many searches recorded.
 */
export async function screenCompany(db: Db, companyId: string, signal?: AbortSignal): Promise<NightlyResult> {
  const index = await companyIndex(db, companyId)
  if (Object.keys(index.listVersions).length === 0) return { screened: 0, searches: 0, full: false }
  const profile = snapshotOf(await defaultProfile(db, companyId))
  const hash = profileHash(profile)
  const mark: RunMark | undefined = await db('screening_runs').where({ company_id: companyId }).first()
  const full = !mark || mark.profile_hash !== hash
  const { changed, ended } = full
    ? { changed: [], ended: new Set<string>() }
    : await listChanges(db, companyId, mark.list_versions, index)
  const delta: CompanyIndex = { ...index, index: new NameIndex(changed) }
  const anyListChange = changed.length > 0 || ended.size > 0
  let after = ''
  let screened = 0
  let searches = 0
  let sinceCollected = 0
  for (;;) {
    if (signal?.aborted) return { screened, searches, full }
    if (sinceCollected >= COLLECT_EVERY && collectGarbage) {
      collectGarbage()
      sinceCollected = 0
    }
    const clients: ClientRow[] = await db('entities as e')
      .leftJoin('entity_screening as st', 'st.entity_id', 'e.id')
      .where('e.company_id', companyId)
      .whereNull('e.deleted_at')
      .where('e.id', '>', after || '00000000-0000-0000-0000-000000000000')
      .orderBy('e.id')
      .limit(BATCH)
      .select(
        'e.id',
        'e.name',
        'e.kind',
        db.raw(`to_char(e.date_of_birth, 'YYYY-MM-DD') AS date_of_birth`),
        'e.nationality',
        'e.country_of_residence',
        'e.country_of_incorporation',
        'st.subject_hash',
        'st.outcome',
      )
    if (clients.length === 0) break
    after = (clients[clients.length - 1] as ClientRow).id
    sinceCollected += clients.length
    const result = await screenBatch(db, companyId, clients, { index, delta, profile, full, anyListChange, ended })
    screened += result.screened
    searches += result.searches
    if (clients.length < BATCH) break
  }
  await db.raw(
    `INSERT INTO screening_runs (company_id, list_versions, profile_hash, finished_at) VALUES (?, ?::jsonb, ?, now())
     ON CONFLICT (company_id) DO UPDATE SET list_versions = EXCLUDED.list_versions,
       profile_hash = EXCLUDED.profile_hash, finished_at = now()`,
    [companyId, JSON.stringify(index.listVersions), hash],
  )
  return { screened, searches, full }
}

interface BatchContext {
  index: CompanyIndex
  delta: CompanyIndex
  profile: ProfileSnapshot
  full: boolean
  anyListChange: boolean
  ended: ReadonlySet<string>
}

/** Whether a client must be screened in full tonight, and the subject it is screened as. */
function needsFullSearch(client: ClientRow, subject: string, c: BatchContext): boolean {
  if (c.full || !client.outcome || client.subject_hash !== subject) return true
  if (!c.anyListChange) return false
  if (client.outcome.some((m) => c.ended.has(`${m.list}\u0000${m.entryId}`) || c.ended.has(`${m.list}\u0000*`)))
    return true
  return matchWith(c.delta, queryOf(client), c.profile).length > 0
}

async function screenBatch(
  db: Db,
  companyId: string,
  clients: readonly ClientRow[],
  c: BatchContext,
): Promise<{ screened: number; searches: number }> {
  const work: { client: ClientRow; subject: string }[] = []
  for (const client of clients) {
    const subject = subjectHash(queryOf(client))
    if (needsFullSearch(client, subject, c)) work.push({ client, subject })
  }
  if (work.length === 0) return { screened: 0, searches: 0 }
  return db.transaction(async (trx) => {
    const dismissals = await dismissalsOfMany(
      trx,
      companyId,
      work.map((w) => w.client.id),
    )
    const searchRows: Record<string, unknown>[] = []
    const matchRows: Record<string, unknown>[] = []
    const states: { id: string; subject: string; outcome: OutcomeMatch[]; search: string | null }[] = []
    for (const { client, subject } of work) {
      const query = queryOf(client)
      const matches = withoutDismissed(matchWith(c.index, query, c.profile), dismissals.get(client.id) ?? [], subject)
      const outcome = outcomeOf(matches)
      const same = client.outcome !== null && outcomeKey(outcome) === outcomeKey(client.outcome)
      const searchId = same ? null : randomUUID()
      if (searchId) {
        searchRows.push(
          searchRowOf(searchId, {
            companyId,
            kind: 'automated',
            entityId: client.id,
            query,
            profile: c.profile,
            listVersions: versionsRead(c.index, c.profile),
            matches,
            createdBy: null,
          }),
        )
        matchRows.push(...matchRowsOf(companyId, searchId, matches))
      }
      states.push({ id: client.id, subject, outcome, search: searchId })
    }
    for (let i = 0; i < searchRows.length; i += 1000)
      await trx('screening_searches').insert(searchRows.slice(i, i + 1000))
    for (let i = 0; i < matchRows.length; i += 1000) await trx('screening_matches').insert(matchRows.slice(i, i + 1000))
    await supersedeOlder(
      trx,
      companyId,
      c.profile,
      states.flatMap((s) => (s.search ? [{ entityId: s.id, searchId: s.search }] : [])),
    )
    await trx.raw(
      `INSERT INTO entity_screening (entity_id, company_id, subject_hash, outcome, last_search_id, screened_at)
       SELECT u.id, ?, u.subject, u.outcome::jsonb, u.search, now()
       FROM unnest(?::uuid[], ?::text[], ?::text[], ?::uuid[]) AS u(id, subject, outcome, search)
       ON CONFLICT (entity_id, company_id) DO UPDATE SET subject_hash = EXCLUDED.subject_hash, outcome = EXCLUDED.outcome,
         last_search_id = coalesce(EXCLUDED.last_search_id, entity_screening.last_search_id), screened_at = now()`,
      [
        companyId,
        states.map((s) => s.id),
        states.map((s) => s.subject),
        states.map((s) => JSON.stringify(s.outcome)),
        // NULL where no search was recorded (knex's types know arrays of one type only).
        states.map((s) => s.search) as string[],
      ],
    )
    return { screened: work.length, searches: searchRows.length }
  })
}

async function dismissalsOfMany(
  trx: Knex.Transaction,
  companyId: string,
  entityIds: readonly string[],
): Promise<Map<string, Dismissal[]>> {
  const rows: (Dismissal & { entity_id: string })[] = await trx('screening_dismissals')
    .where({ company_id: companyId })
    .whereIn('entity_id', entityIds)
    .select('entity_id', 'list', 'entry_id', 'entry_hash', 'subject_hash')
  const byEntity = new Map<string, Dismissal[]>()
  for (const r of rows) byEntity.set(r.entity_id, [...(byEntity.get(r.entity_id) ?? []), r])
  return byEntity
}

/**
 * The nightly run of every company that has lists (the screening.nightly job). A company whose run fails
 * does not stop the others; the job then fails with the first error, so the queue retries it (a retry
 * screens only what is still to do: each company's run is incremental).
 */
export async function screenAllCompanies(db: Db, signal?: AbortSignal): Promise<NightlyResult & { companies: number }> {
  const companies: string[] = await db('screening_list_versions').distinct('company_id').pluck('company_id')
  let screened = 0
  let searches = 0
  const failures: Error[] = []
  for (const companyId of companies) {
    if (signal?.aborted) break
    try {
      const r = await screenCompany(db, companyId, signal)
      screened += r.screened
      searches += r.searches
    } catch (error) {
      failures.push(error instanceof Error ? error : new Error(String(error)))
    }
  }
  if (failures.length > 0)
    throw new Error(
      `Screening failed for ${failures.length} of ${companies.length} companies (the others were screened): ${failures[0]?.message}`,
    )
  return { companies: companies.length, screened, searches, full: false }
}
