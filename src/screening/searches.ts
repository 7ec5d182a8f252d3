import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import type { ScreeningQuery } from './match/types.js'
import type { ProfileSnapshot } from './profiles.js'
import { type CompanyIndex, matchWith, type StoredMatch, subjectHash, versionsRead } from './provider.js'

type Conn = Db | Knex.Transaction

export type SearchKind = 'automated' | 'manual' | 'one_time'
export type SearchStatus = 'clear' | 'open' | 'awaiting_approval' | 'closed' | 'superseded'

/** One match of a client's outcome: what the nightly run compares, and what a dismissal is checked against. */
export interface OutcomeMatch {
  list: string
  entryId: string
  entryHash: string
  score: number
}

/** The outcome as one comparable string: which entries, as which versions of them. */
export function outcomeKey(outcome: readonly OutcomeMatch[]): string {
  return outcome
    .map((m) => `${m.list}:${m.entryId}:${m.entryHash}`)
    .sort()
    .join('\n')
}

/** A false match kept quiet: for this client as screened (subject_hash) and this entry as listed (entry_hash). */
export interface Dismissal {
  list: string
  entry_id: string
  entry_hash: string
  subject_hash: string
}

/** Drops the matches a dismissal still covers: neither the client's name data nor the entry has changed. */
export function withoutDismissed(
  matches: readonly StoredMatch[],
  dismissals: readonly Dismissal[],
  subject: string,
): StoredMatch[] {
  if (dismissals.length === 0) return [...matches]
  const quiet = new Set(
    dismissals
      .filter((d) => d.subject_hash === subject)
      .map((d) => `${d.list}\u0000${d.entry_id}\u0000${d.entry_hash}`),
  )
  return matches.filter((m) => !quiet.has(`${m.list}\u0000${m.entryId}\u0000${m.entryHash}`))
}

export interface SearchToRecord {
  companyId: string
  kind: SearchKind
  entityId: string | null
  query: ScreeningQuery
  profile: ProfileSnapshot
  listVersions: Record<string, number>
  matches: readonly StoredMatch[]
  createdBy: string | null
}

const score3 = (n: number) => Math.round(n * 1000) / 1000

/** A search's status when recorded: "clear" with no match (nothing to review), a one-time search closed (it is looked at, not reviewed), any other open. */
function statusOf(s: Pick<SearchToRecord, 'kind' | 'matches'>): SearchStatus {
  return s.matches.length === 0 ? 'clear' : s.kind === 'one_time' ? 'closed' : 'open'
}

/** The screening_searches row of a search to record (its id chosen here, so its matches can name it). */
export function searchRowOf(id: string, s: SearchToRecord) {
  const status = statusOf(s)
  return {
    id,
    company_id: s.companyId,
    kind: s.kind,
    entity_id: s.entityId,
    query: JSON.stringify(s.query),
    profile_id: s.profile.id,
    profile: JSON.stringify(s.profile),
    list_versions: JSON.stringify(s.listVersions),
    match_count: s.matches.length,
    top_score: s.matches[0] ? score3(s.matches[0].score) : null,
    status,
    created_by: s.createdBy,
    closed_at: status === 'open' ? null : new Date(),
  }
}

/** The screening_matches rows of a search's matches. */
export function matchRowsOf(companyId: string, searchId: string, matches: readonly StoredMatch[]) {
  return matches.map((m) => ({
    company_id: companyId,
    search_id: searchId,
    list: m.list,
    entry_id: m.entryId,
    entry_row: m.entryRow,
    entry_hash: m.entryHash,
    name: m.name,
    topics: m.topics,
    score: score3(m.score),
    explanation: JSON.stringify(m.explanation),
  }))
}

/** Writes one search and its matches in the caller's transaction; a client's older open search is superseded. */
export async function recordSearch(trx: Knex.Transaction, s: SearchToRecord): Promise<string> {
  const searchId = randomUUID()
  await trx('screening_searches').insert(searchRowOf(searchId, s))
  if (s.matches.length > 0) await trx('screening_matches').insert(matchRowsOf(s.companyId, searchId, s.matches))
  if (s.entityId) await supersedeOlder(trx, s.companyId, s.profile, [{ entityId: s.entityId, searchId }])
  return searchId
}

/**
 * Each client's open searches other than its newest one become "superseded" by it, when they were made with
 * the same matching settings (lists, threshold, date of birth and country): the newest then holds the matches
 * as they are now. A search made under other settings (a manual search with a narrower profile, say) may
 * hold matches the newest cannot see, and stays open. A search under review (awaiting approval) is left to
 * its review; one whose review is being recorded right now holds its row lock, and is left alone once the
 * review commits.
 */
export async function supersedeOlder(
  trx: Knex.Transaction,
  companyId: string,
  profile: ProfileSnapshot,
  newest: readonly { entityId: string; searchId: string }[],
): Promise<void> {
  if (newest.length === 0) return
  await trx.raw(
    `UPDATE screening_searches s SET status = 'superseded', superseded_by = n.search_id, closed_at = now()
     FROM unnest(?::uuid[], ?::uuid[]) AS n(entity_id, search_id)
     WHERE s.company_id = ? AND s.entity_id = n.entity_id AND s.id <> n.search_id AND s.status = 'open'
       AND s.profile->'lists' = ?::jsonb AND (s.profile->>'threshold')::numeric = ?
       AND (s.profile->>'useBirthDate')::boolean = ? AND (s.profile->>'useCountry')::boolean = ?`,
    [
      newest.map((n) => n.entityId),
      newest.map((n) => n.searchId),
      companyId,
      JSON.stringify(profile.lists),
      profile.threshold,
      profile.useBirthDate,
      profile.useCountry,
    ],
  )
}

/** The client's outcome as kept for the nightly run to compare against. */
export function outcomeOf(matches: readonly StoredMatch[]): OutcomeMatch[] {
  return matches.map((m) => ({ list: m.list, entryId: m.entryId, entryHash: m.entryHash, score: score3(m.score) }))
}

/** Keeps a client's screening state after a search: what it was screened as, and what was found. */
export async function keepScreeningState(
  trx: Knex.Transaction,
  state: { companyId: string; entityId: string; subjectHash: string; outcome: OutcomeMatch[]; searchId: string | null },
): Promise<void> {
  await trx.raw(
    `INSERT INTO entity_screening (entity_id, company_id, subject_hash, outcome, last_search_id, screened_at)
     VALUES (?, ?, ?, ?::jsonb, ?, now())
     ON CONFLICT (entity_id, company_id) DO UPDATE SET subject_hash = EXCLUDED.subject_hash, outcome = EXCLUDED.outcome,
       last_search_id = coalesce(EXCLUDED.last_search_id, entity_screening.last_search_id), screened_at = now()`,
    [state.entityId, state.companyId, state.subjectHash, JSON.stringify(state.outcome), state.searchId],
  )
}

/** The false matches kept quiet for a client. */
export function dismissalsOf(db: Conn, companyId: string, entityId: string): Promise<Dismissal[]> {
  return db('screening_dismissals')
    .where({ company_id: companyId, entity_id: entityId })
    .select('list', 'entry_id', 'entry_hash', 'subject_hash')
}

/**
 * Screens one client now (a manual search, or the nightly run's full search of a changed client): its
 * matches under the profile, without those a dismissal covers, recorded as a search, and its state kept.
 */
export async function screenClient(
  trx: Knex.Transaction,
  index: CompanyIndex,
  s: {
    companyId: string
    entityId: string
    query: ScreeningQuery
    profile: ProfileSnapshot
    kind: 'automated' | 'manual'
    createdBy: string | null
    /**
     * Whether the profile matches as the company's default does: only then is the client's screening state
     * (what the nightly run compares with) taken from this search.
     */
    asNightly: boolean
  },
): Promise<{ searchId: string; matches: StoredMatch[] }> {
  const subject = subjectHash(s.query)
  const matches = withoutDismissed(
    matchWith(index, s.query, s.profile),
    await dismissalsOf(trx, s.companyId, s.entityId),
    subject,
  )
  const searchId = await recordSearch(trx, {
    companyId: s.companyId,
    kind: s.kind,
    entityId: s.entityId,
    query: s.query,
    profile: s.profile,
    listVersions: versionsRead(index, s.profile),
    matches,
    createdBy: s.createdBy,
  })
  if (s.asNightly)
    await keepScreeningState(trx, {
      companyId: s.companyId,
      entityId: s.entityId,
      subjectHash: subject,
      outcome: outcomeOf(matches),
      searchId,
    })
  return { searchId, matches }
}

/** An audit row about a search: on its client, or on the company for a one-time search. */
export function searchAudit(
  trx: Knex.Transaction,
  actor: { user: { id: string; companyId: string }; ip: string },
  search: { id: string; entity_id: string | null },
  action: string,
  before?: unknown,
  after?: unknown,
): Promise<void> {
  return search.entity_id
    ? auditTarget(trx, actor, 'entity', search.entity_id, action, before, { search: search.id, ...(after as object) })
    : auditTarget(trx, actor, 'screening_search', search.id, action, before, after)
}
