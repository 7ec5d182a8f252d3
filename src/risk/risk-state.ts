import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import type { Entity } from '../entities/queries.js'
import { currentCountryLists } from './country-lists.js'
import { evaluate, PILLARS, type Recommendation } from './evaluate.js'
import { currentRuleSet, factsFrom } from './service.js'

/**
 * Each assessed client's risk state (entity_risk): what the client list filters and sorts by. Saving an
 * assessment writes it; a change to what the rules read of a client marks it (triggers, in the change's
 * transaction), and so does a new rule set or country list version (markCompanyForRecheck); a recheck
 * evaluates the marked clients, and those whose override has ended, and writes what applies now.
 */

/**
 * Whether two recommendations are the same: the classification, each pillar's score, the overall score
 * (a new weighting moves it alone) and what forces High.
 */
export function sameRecommendation(a: Recommendation, b: Recommendation): boolean {
  return (
    a.classification === b.classification &&
    a.overall === b.overall &&
    PILLARS.every((p) => a.pillars[p].score === b.pillars[p].score) &&
    a.forcedHigh.join() === b.forcedHigh.join()
  )
}

/** Today in UTC, as saved review and override days are (YYYY-MM-DD). */
export const todayUtc = () => new Date().toISOString().slice(0, 10)

/** An override ends after its end day: from the day after, the recommendation applies (OVERRIDE_ENDED in SQL). */
export const overrideEnded = (expiresOn: string | null | undefined, today = todayUtc()): boolean =>
  Boolean(expiresOn && expiresOn < today)

/** A client with its services' risk levels, read in one statement for many clients. */
export type ClientWithRisks = Entity & { risks: string[] | null }

/** Selects every column of `e` (entities) and its services' risk levels as `risks`. */
export function withServiceRisks(db: Db | Knex.Transaction, query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query.select(
    'e.*',
    db.raw(
      `(SELECT array_agg(DISTINCT s.risk_level) FROM entity_services es JOIN services s ON s.id = es.service_id
        WHERE es.entity_id = e.id) AS risks`,
    ),
  )
}

/** Marks every assessed client of the company for a recheck (a new rule set or country list version). */
export async function markCompanyForRecheck(trx: Knex.Transaction, companyId: string): Promise<void> {
  await trx('entity_risk').where({ company_id: companyId, needs_check: false }).update({ needs_check: true })
}

/** Writes a client's state from the assessment just saved (in the saving transaction). */
export async function recordAssessment(
  trx: Knex.Transaction,
  a: {
    companyId: string
    entityId: string
    assessmentId: string
    classification: string
    recommended: string
    reviewDueOn: string
    overrideExpiresOn: string | null
  },
): Promise<void> {
  const row = {
    entity_id: a.entityId,
    company_id: a.companyId,
    assessment_id: a.assessmentId,
    saved_classification: a.classification,
    review_due_on: a.reviewDueOn,
    override_expires_on: a.overrideExpiresOn,
    recommended_classification: a.recommended,
    out_of_date: false,
    override_ended: false,
    classification: a.classification,
    needs_check: false,
    checked_at: trx.fn.now(),
  }
  await trx('entity_risk').insert(row).onConflict(['entity_id', 'company_id']).merge()
}

/** What makes an assessed client (entity_risk as r) wait for a recheck: it is marked, or its override ended unseen. */
const MARKED = 'r.needs_check'
const OVERRIDE_ENDED = `r.override_expires_on IS NOT NULL AND NOT r.override_ended AND r.override_expires_on < (now() AT TIME ZONE 'UTC')::date`

/** The clients of a company a recheck looks at. */
function toCheck(db: Db | Knex.Transaction, companyId: string) {
  return db('entity_risk as r').where('r.company_id', companyId).whereRaw(`(${MARKED} OR (${OVERRIDE_ENDED}))`)
}

/**
 * SQL true when any client of the company (the one bound parameter, given twice) waits for a recheck: for
 * the client list to ask within its own statement. Each half is answered by its partial index.
 */
export const ANY_WAITING_SQL = `(EXISTS (SELECT 1 FROM entity_risk r WHERE r.company_id = ? AND ${MARKED})
  OR EXISTS (SELECT 1 FROM entity_risk r WHERE r.company_id = ? AND ${OVERRIDE_ENDED}))`

/**
 * Rechecks up to `limit` of the company's clients that need it, in one transaction: each under its
 * entity_risk row's lock (rows another recheck holds are skipped, and left for the next), with the facts
 * read after the lock, so a change committed meanwhile either is read or marks the row again. Returns how
 * many were rechecked and whether more remain.
 */
export async function recheckRisk(
  db: Db,
  companyId: string,
  limit = 2000,
): Promise<{ checked: number; more: boolean }> {
  return db.transaction(async (trx) => {
    const locked: { entity_id: string }[] = await toCheck(trx, companyId)
      .orderBy('r.entity_id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .select('r.entity_id')
    // A full batch: there may be more.
    const more = locked.length === limit
    const ids = locked.map((r) => r.entity_id)
    if (ids.length === 0) return { checked: 0, more: false }
    const [ruleSet, lists] = await Promise.all([currentRuleSet(trx, companyId), currentCountryLists(trx, companyId)])
    const rows: (ClientWithRisks & {
      saved_recommendation: Recommendation
      saved_classification: string
      override_expires_on_day: string | null
    })[] = await withServiceRisks(
      trx,
      trx('entity_risk as r')
        .join('entities as e', 'e.id', 'r.entity_id')
        .join('risk_assessments as a', 'a.id', 'r.assessment_id')
        .whereIn('r.entity_id', ids),
    ).select(
      'a.recommendation as saved_recommendation',
      'r.saved_classification',
      trx.raw(`to_char(r.override_expires_on, 'YYYY-MM-DD') AS override_expires_on_day`),
    )
    const today = todayUtc()
    const updates = rows.map((row) => {
      const now = evaluate(ruleSet.definition, factsFrom(row, row.risks ?? [], lists))
      const ended = overrideEnded(row.override_expires_on_day, today)
      return {
        entity_id: row.id,
        recommended: now.classification,
        out_of_date: !sameRecommendation(row.saved_recommendation, now),
        ended,
        classification: ended ? now.classification : row.saved_classification,
      }
    })
    await trx.raw(
      `UPDATE entity_risk r SET recommended_classification = u.recommended, out_of_date = u.out_of_date,
         override_ended = u.ended, classification = u.classification, needs_check = false, checked_at = now()
       FROM unnest(?::uuid[], ?::text[], ?::boolean[], ?::boolean[], ?::text[])
         AS u(entity_id, recommended, out_of_date, ended, classification)
       WHERE r.entity_id = u.entity_id`,
      [
        updates.map((u) => u.entity_id),
        updates.map((u) => u.recommended),
        updates.map((u) => u.out_of_date),
        updates.map((u) => u.ended),
        updates.map((u) => u.classification),
      ],
    )
    return { checked: updates.length, more }
  })
}

/** Whether any client of the company waits for a recheck (for a list page that has no row to ask with). */
export async function anyRiskWaiting(db: Db, companyId: string): Promise<boolean> {
  const { rows } = await db.raw(`SELECT ${ANY_WAITING_SQL} AS waiting`, [companyId, companyId])
  return Boolean(rows[0]?.waiting)
}

/**
 * When the client list found clients of the company waiting for a recheck (ANY_WAITING_SQL): rechecks a
 * batch of them. Returns how many still wait (the job does the rest).
 */
export async function recheckWaiting(db: Db, companyId: string): Promise<{ waiting: number }> {
  const { more } = await recheckRisk(db, companyId)
  if (!more) return { waiting: 0 }
  const row = await toCheck(db, companyId).count<{ n: string }>('* as n').first()
  return { waiting: Number(row?.n ?? 0) }
}

/** Rechecks every company's waiting clients, in batches (the risk.recheck job). */
export async function recheckAll(db: Db, signal?: AbortSignal): Promise<{ checked: number }> {
  // Each half of the question by its partial index.
  const { rows } = await db.raw(
    `SELECT company_id FROM entity_risk r WHERE ${MARKED} UNION SELECT company_id FROM entity_risk r WHERE ${OVERRIDE_ENDED}`,
  )
  const companies: string[] = rows.map((r: { company_id: string }) => r.company_id)
  let checked = 0
  for (const companyId of companies) {
    for (;;) {
      if (signal?.aborted) return { checked }
      const batch = await recheckRisk(db, companyId)
      checked += batch.checked
      if (!batch.more) break
    }
  }
  return { checked }
}
