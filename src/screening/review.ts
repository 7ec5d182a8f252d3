import type { Knex } from 'knex'
import { reviewStepFor } from '../access/screening.js'
import type { Db } from '../db/knex.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'
import { subjectHash } from './provider.js'
import { type SearchStatus, searchAudit } from './searches.js'

/** What a review form sends: a decision and rationale per match (resolve, check), or the approver's verdict. */
export interface ReviewInput {
  /** The step the form was shown for; a form for another step than the search is at now is refused. */
  step: string
  decisions: Record<string, { decision: string; rationale: string }>
  /** approve: 'approve' or 'send_back'. */
  verdict?: string
  reason?: string
}

interface LockedSearch {
  id: string
  company_id: string
  entity_id: string | null
  status: SearchStatus
  checked_by: string | null
}

const RATIONALE_MAX = 2000

/** The decisions for every match of the search, checked: each needs true or false and a rationale. */
function checkedDecisions(
  input: ReviewInput,
  matchIds: readonly string[],
): { id: string; decision: 'true_match' | 'false_match'; rationale: string }[] {
  const errors = new FormErrors()
  const decided = matchIds.map((id) => {
    const d = input.decisions[id]
    const decision = d?.decision
    const rationale = d?.rationale ?? ''
    if (decision !== 'true_match' && decision !== 'false_match')
      errors.add(`decision-${id}`, 'Say whether this is a true match or a false match')
    if (!rationale) errors.add(`rationale-${id}`, 'Give the reason for this decision (for the record regulators read)')
    else if (rationale.length > RATIONALE_MAX)
      errors.add(`rationale-${id}`, `The reason must be ${RATIONALE_MAX.toLocaleString('en-GB')} characters or fewer`)
    return { id, decision: decision as 'true_match' | 'false_match', rationale }
  })
  RuleError.throwIf(errors)
  return decided
}

/**
 * Records a review of a search: the one function that does, so that its rule holds for every way in. Under
 * the search's row lock it asks who may take which step (src/access/screening.ts reviewStepFor) and refuses
 * anyone else; the same user never checks and approves one search (and the table's CHECK refuses it too,
 * whatever reaches it). Closing a client's search keeps its false matches quiet (screening_dismissals) and
 * sets the client's confirmed sanctions and PEP facts, which the risk assessment reads.
 */
export async function recordReview(
  db: Db,
  actor: RequestActor,
  companyId: string,
  searchId: string,
  input: ReviewInput,
): Promise<SearchStatus> {
  return db.transaction(async (trx) => {
    const search: LockedSearch | undefined = await trx('screening_searches')
      .where({ company_id: companyId, id: searchId })
      .whereNot('kind', 'one_time')
      .forUpdate()
      .first('id', 'company_id', 'entity_id', 'status', 'checked_by')
    if (!search) throw new RuleError('review', 'This search no longer exists', { status: 409 })
    const company = await trx('companies').where({ id: companyId }).first('screening_four_eyes')
    const allowed = reviewStepFor(actor.user, search, Boolean(company?.screening_four_eyes))
    if ('refusal' in allowed) {
      // A form shown for one step and sent after someone else moved the search on is out of date, not forbidden.
      throw new RuleError('review', allowed.refusal, { status: statusFor(input.step) === search.status ? 403 : 409 })
    }
    if (input.step !== allowed.step)
      throw new RuleError('review', 'This search has moved on since the page was shown: look at it again', {
        status: 409,
      })
    if (allowed.step === 'approve') return approve(trx, actor, search, input)
    const matchIds: string[] = await trx('screening_matches').where({ search_id: search.id }).pluck('id')
    const decisions = checkedDecisions(input, matchIds)
    await trx.raw(
      `UPDATE screening_matches m SET decision = d.decision, rationale = d.rationale, decided_by = ?, decided_at = now()
       FROM unnest(?::uuid[], ?::text[], ?::text[]) AS d(id, decision, rationale)
       WHERE m.id = d.id AND m.search_id = ?`,
      [
        actor.user.id,
        decisions.map((d) => d.id),
        decisions.map((d) => d.decision),
        decisions.map((d) => d.rationale),
        search.id,
      ],
    )
    const status: SearchStatus = allowed.step === 'resolve' ? 'closed' : 'awaiting_approval'
    await trx('screening_searches')
      .where({ id: search.id })
      .update({
        status,
        checked_by: actor.user.id,
        checked_at: trx.fn.now(),
        sent_back_by: null,
        sent_back_reason: null,
        closed_at: status === 'closed' ? trx.fn.now() : null,
      })
    const summary = {
      true_matches: decisions.filter((d) => d.decision === 'true_match').length,
      false_matches: decisions.filter((d) => d.decision === 'false_match').length,
    }
    await searchAudit(
      trx,
      actor,
      search,
      allowed.step === 'resolve' ? 'screening.search_resolved' : 'screening.search_checked',
      { status: search.status },
      { status, ...summary },
    )
    if (status === 'closed') await closed(trx, search)
    return status
  })
}

/** The status a search has when a form for this step is shown for it. */
function statusFor(step: string): SearchStatus | undefined {
  if (step === 'resolve' || step === 'check') return 'open'
  if (step === 'approve') return 'awaiting_approval'
  return undefined
}

async function approve(
  trx: Knex.Transaction,
  actor: RequestActor,
  search: LockedSearch,
  input: ReviewInput,
): Promise<SearchStatus> {
  if (input.verdict === 'send_back') {
    const reason = input.reason ?? ''
    if (!reason) throw new RuleError('reason', 'Say why the search goes back, so the checker knows what to look at')
    if (reason.length > RATIONALE_MAX)
      throw new RuleError('reason', `The reason must be ${RATIONALE_MAX.toLocaleString('en-GB')} characters or fewer`)
    await trx('screening_searches').where({ id: search.id }).update({
      status: 'open',
      checked_by: null,
      checked_at: null,
      sent_back_by: actor.user.id,
      sent_back_reason: reason,
    })
    await searchAudit(
      trx,
      actor,
      search,
      'screening.search_sent_back',
      { status: search.status },
      { status: 'open', reason },
    )
    return 'open'
  }
  if (input.verdict !== 'approve')
    throw new RuleError('verdict', 'Choose whether to approve the review or send it back')
  await trx('screening_searches')
    .where({ id: search.id })
    .update({ status: 'closed', approved_by: actor.user.id, approved_at: trx.fn.now(), closed_at: trx.fn.now() })
  await searchAudit(trx, actor, search, 'screening.search_approved', { status: search.status }, { status: 'closed' })
  await closed(trx, search)
  return 'closed'
}

/**
 * After a client's search closes: its false matches stay quiet until the client's name data or the entry
 * changes, its true matches are no longer dismissed, and the client's confirmed sanctions and PEP facts are
 * those of each entry's decision in its latest closed search of it (a match confirmed, then decided false
 * in a newer search, no longer counts; an older search approved late does not undo a newer decision).
 */
async function closed(trx: Knex.Transaction, search: LockedSearch): Promise<void> {
  if (!search.entity_id) return
  // One review of a client at a time from here: the decisions read below then include any other review of
  // the client that committed meanwhile.
  await trx('entities').where({ company_id: search.company_id, id: search.entity_id }).forUpdate().first('id')
  // Quiet for the client as this search screened it: a change to its name data since raises the match again.
  const { query } = await trx('screening_searches').where({ id: search.id }).first('query')
  await trx.raw(
    `INSERT INTO screening_dismissals (company_id, entity_id, list, entry_id, entry_hash, subject_hash, search_id)
     SELECT m.company_id, ?, m.list, m.entry_id, m.entry_hash, ?, m.search_id
     FROM screening_matches m
     WHERE m.search_id = ? AND m.decision = 'false_match'
       -- Not when a newer closed search of the client decided the entry (this one was approved late).
       AND NOT EXISTS (
         SELECT 1 FROM screening_matches n JOIN screening_searches ns ON ns.id = n.search_id
         WHERE ns.company_id = m.company_id AND ns.entity_id = ? AND ns.status = 'closed' AND n.list = m.list
           AND n.entry_id = m.entry_id AND n.decision IS NOT NULL
           AND ns.created_at > (SELECT created_at FROM screening_searches WHERE id = m.search_id))
     ON CONFLICT (company_id, entity_id, list, entry_id) DO UPDATE
       SET entry_hash = EXCLUDED.entry_hash, subject_hash = EXCLUDED.subject_hash, search_id = EXCLUDED.search_id,
           created_at = now()
       -- An older search approved late does not replace what a newer one decided.
       WHERE (SELECT created_at FROM screening_searches WHERE id = screening_dismissals.search_id)
          <= (SELECT created_at FROM screening_searches WHERE id = EXCLUDED.search_id)`,
    [search.entity_id, subjectHash(query), search.id, search.entity_id],
  )
  await trx.raw(
    `DELETE FROM screening_dismissals d USING screening_matches m
     WHERE m.search_id = ? AND m.decision = 'true_match' AND d.company_id = m.company_id AND d.entity_id = ?
       AND d.list = m.list AND d.entry_id = m.entry_id
       AND (SELECT created_at FROM screening_searches WHERE id = d.search_id)
        <= (SELECT created_at FROM screening_searches WHERE id = m.search_id)`,
    [search.id, search.entity_id],
  )
  await trx.raw(
    `WITH latest AS (
       -- Each entry's latest decision for this client, from its closed searches.
       SELECT DISTINCT ON (m.list, m.entry_id) m.decision, m.topics
       FROM screening_matches m JOIN screening_searches s ON s.id = m.search_id
       WHERE s.company_id = ? AND s.entity_id = ? AND s.status = 'closed' AND m.decision IS NOT NULL
       ORDER BY m.list, m.entry_id, s.created_at DESC
     )
     UPDATE entities e SET
       screening_sanctions_match = EXISTS (SELECT 1 FROM latest WHERE decision = 'true_match' AND 'sanction' = ANY (topics)),
       screening_pep_match = EXISTS (SELECT 1 FROM latest WHERE decision = 'true_match' AND 'pep' = ANY (topics))
     WHERE e.company_id = ? AND e.id = ?`,
    [search.company_id, search.entity_id, search.company_id, search.entity_id],
  )
}
