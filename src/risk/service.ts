import type { Knex } from 'knex'
import { type Db, hotRead } from '../db/knex.js'
import type { Entity } from '../entities/queries.js'
import { type EntityActor, entityAudit } from '../entities/service.js'
import { RuleError } from '../forms/rule-error.js'
import {
  COUNTRY_LIST_KEYS,
  COUNTRY_LIST_NAMES,
  type CountryListKey,
  type CountryLists,
  countryListsByIds,
  currentCountryLists,
} from './country-lists.js'
import { DEFAULT_RULE_SET } from './default-rules.js'
import {
  type Classification,
  evaluate,
  overallScore,
  PILLAR_LABELS,
  PILLARS,
  type Pillar,
  type Recommendation,
  type RiskFacts,
  type RuleSetDefinition,
} from './evaluate.js'
import { recordAssessment } from './risk-state.js'
import { ruleSetFrom } from './rule-set.js'

/** Years to the next review after an assessment, by classification (SPEC: High 1, Medium 2, Low 3). */
export const REVIEW_YEARS: Record<Classification, number> = { high: 1, medium: 2, low: 3 }

const RISK_ORDER = ['none', 'low', 'medium', 'high'] as const

/**
 * What the rules read of a client: its fields, its services' risk levels, and the company's country lists
 * each of its countries is on.
 */
export function factsFrom(
  entity: Pick<
    Entity,
    | 'kind'
    | 'legal_form'
    | 'nationality'
    | 'country_of_residence'
    | 'country_of_incorporation'
    | 'delivery_channel'
    | 'volume_band'
    | 'cash_intensive'
    | 'pep'
    | 'screening_sanctions_match'
    | 'screening_pep_match'
  >,
  serviceRisks: readonly string[],
  lists: CountryLists,
): RiskFacts {
  const risks = [...new Set(serviceRisks)].sort()
  const highest = RISK_ORDER.reduce<(typeof RISK_ORDER)[number]>(
    (top, level) => (risks.includes(level) ? level : top),
    'none',
  )
  const nationalityLists = lists.listsOf(entity.nationality)
  const residenceLists = lists.listsOf(entity.country_of_residence)
  const incorporationLists = lists.listsOf(entity.country_of_incorporation)
  return {
    kind: entity.kind,
    legal_form: entity.legal_form ? entity.legal_form.trim().toLowerCase() : null,
    nationality: entity.nationality,
    residence: entity.country_of_residence,
    incorporation: entity.country_of_incorporation,
    nationality_lists: nationalityLists,
    residence_lists: residenceLists,
    incorporation_lists: incorporationLists,
    country_lists: [...new Set([...nationalityLists, ...residenceLists, ...incorporationLists])].sort(),
    service_risks: risks,
    highest_service_risk: highest,
    delivery_channel: entity.delivery_channel,
    volume_band: entity.volume_band,
    cash_intensive: entity.cash_intensive,
    // A PEP by the client's own record, or by a confirmed screening match.
    pep: entity.pep || entity.screening_pep_match,
    sanctions_match: entity.screening_sanctions_match,
  }
}

/** The risk levels of a client's services. */
export function serviceRisksOf(db: Db | Knex.Transaction, companyId: string, entityId: string): Promise<string[]> {
  return db('entity_services as a')
    .join('services as s', 's.id', 'a.service_id')
    .where({ 'a.company_id': companyId, 'a.entity_id': entityId })
    .pluck('s.risk_level')
}

/** A client's facts as stored now. */
export async function factsOf(db: Db | Knex.Transaction, companyId: string, entityId: string): Promise<RiskFacts> {
  const [entity, risks, lists] = await Promise.all([
    db('entities').where({ id: entityId, company_id: companyId }).first() as Promise<Entity>,
    serviceRisksOf(db, companyId, entityId),
    currentCountryLists(db, companyId),
  ])
  return factsFrom(entity, risks, lists)
}

export interface PublishedRuleSet {
  id: string
  version: number
  definition: RuleSetDefinition
}

/** Published rule sets never change: each is checked once per process, by id (a few hundred kept). */
const published = new Map<string, PublishedRuleSet>()
function checkedOnce(row: { id: string; version: number; definition: unknown }): PublishedRuleSet {
  let ruleSet = published.get(row.id)
  if (!ruleSet) {
    ruleSet = { id: row.id, version: row.version, definition: ruleSetFrom(row.definition) }
    if (published.size >= 500) published.clear()
    published.set(row.id, ruleSet)
  }
  return ruleSet
}

/** A published rule set by its id: from memory once it has been read (it never changes). */
async function publishedRuleSet(db: Db | Knex.Transaction, id: string): Promise<PublishedRuleSet> {
  return published.get(id) ?? checkedOnce(await db('risk_rule_sets').where({ id }).first('id', 'version', 'definition'))
}

/**
 * The company's latest published rule set. A company that has none yet gets the default as version 1,
 * inserted once however many requests ask at the same time (the unique (company, version) decides).
 */
export async function currentRuleSet(db: Db | Knex.Transaction, companyId: string): Promise<PublishedRuleSet> {
  const latest = () =>
    db('risk_rule_sets')
      .where({ company_id: companyId })
      .whereNotNull('version')
      .orderBy('version', 'desc')
      .first('id', 'version', 'definition')
  let row = await latest()
  if (!row) {
    await db('risk_rule_sets')
      .insert({
        company_id: companyId,
        version: 1,
        definition: JSON.stringify(DEFAULT_RULE_SET),
        published_at: db.fn.now(),
      })
      .onConflict(['company_id', 'version'])
      .ignore()
    row = await latest()
  }
  return checkedOnce(row)
}

/** What is saved of an assessment: each pillar's score, the overall score, the classification. */
export interface RiskResult {
  pillars: Record<Pillar, number>
  overall: number
  classification: Classification
}

export function resultOf(r: Recommendation): RiskResult {
  return {
    pillars: Object.fromEntries(PILLARS.map((p) => [p, r.pillars[p].score])) as Record<Pillar, number>,
    overall: r.overall,
    classification: r.classification,
  }
}

export interface SavedAssessment {
  id: string
  rule_set_version: number
  /** The version of each country list it read (assessments saved before lists were kept: none). */
  country_list_versions: Partial<Record<CountryListKey, number>>
  facts: RiskFacts
  recommendation: Recommendation
  result: RiskResult
  classification: Classification
  overridden: boolean
  rationale: string | null
  override_expires_on: string | null
  review_due_on: string
  created_by_name: string
  created_at: Date
}

/** A client's saved assessments, newest (the current one) first. */
export async function assessmentsOf(db: Db, companyId: string, entityId: string): Promise<SavedAssessment[]> {
  // On the read lane: every client page reads it.
  return hotRead<SavedAssessment[]>(
    db,
    db('risk_assessments as a')
      .join('risk_rule_sets as r', 'r.id', 'a.rule_set_id')
      .join('users as u', 'u.id', 'a.created_by')
      .where({ 'a.company_id': companyId, 'a.entity_id': entityId })
      .orderBy([
        { column: 'a.created_at', order: 'desc' },
        { column: 'a.id', order: 'desc' },
      ])
      .select(
        'a.id',
        'r.version as rule_set_version',
        'a.country_list_versions',
        'a.facts',
        'a.recommendation',
        'a.result',
        'a.classification',
        'a.overridden',
        'a.rationale',
        db.raw(`to_char(a.override_expires_on, 'YYYY-MM-DD') AS override_expires_on`),
        db.raw(`to_char(a.review_due_on, 'YYYY-MM-DD') AS review_due_on`),
        'u.name as created_by_name',
        'a.created_at',
      ),
  )
}

/**
 * The recommendation for a client (as the client page loaded it) under the company's current rule set and
 * country lists. One statement on the read lane says which versions are current and the risk levels of the
 * client's services; the versions themselves, which never change, are read once per process.
 */
export async function recommend(db: Db, entity: Entity) {
  const basis = await hotRead<{ rule_set_id: string | null; list_ids: string[]; risks: string[] }>(
    db,
    db
      .select(
        db.raw(
          `(SELECT id FROM risk_rule_sets WHERE company_id = ? AND version IS NOT NULL ORDER BY version DESC LIMIT 1)
            AS rule_set_id`,
          [entity.company_id],
        ),
        db.raw(
          `ARRAY(SELECT DISTINCT ON (key) id FROM country_lists WHERE company_id = ? ORDER BY key, version DESC)
            AS list_ids`,
          [entity.company_id],
        ),
        db.raw(
          `ARRAY(SELECT s.risk_level FROM entity_services a JOIN services s ON s.id = a.service_id
            WHERE a.company_id = ? AND a.entity_id = ?) AS risks`,
          [entity.company_id, entity.id],
        ),
      )
      .first(),
  )
  // A company without a published rule set or lists yet gets the shipped ones (current* insert them).
  const [ruleSet, lists] = await Promise.all([
    basis.rule_set_id ? publishedRuleSet(db, basis.rule_set_id) : currentRuleSet(db, entity.company_id),
    basis.list_ids.length === COUNTRY_LIST_KEYS.length
      ? countryListsByIds(db, basis.list_ids)
      : currentCountryLists(db, entity.company_id),
  ])
  const facts = factsFrom(entity, basis.risks, lists)
  return { ruleSet, lists, facts, recommendation: evaluate(ruleSet.definition, facts) }
}

export interface OverrideInput {
  /** The scores as the overrider set them (a pillar left as recommended is the recommendation). */
  pillars: Record<Pillar, number>
  /** The overall classification as set; when it differs from what the scores give, it is what is saved. */
  classification: Classification
  rationale: string
  expiresOn: string | null
}

/**
 * Saves an assessment of the client as the rules recommend it now (Carry Out), or with the overrider's
 * scores and classification and their rationale (Override). The recommendation is computed here, in the
 * transaction that saves it, from what is stored: never taken from the request.
 */
export async function saveAssessment(
  db: Db,
  actor: EntityActor,
  entity: Entity,
  override?: OverrideInput,
): Promise<{ classification: Classification; overridden: boolean }> {
  return db.transaction(async (trx) => {
    // Under the client's row lock, so that two saves at once are two whole assessments, one after the other.
    const stored = await trx('entities').where({ id: entity.id, company_id: entity.company_id }).forUpdate().first()
    if (!stored || stored.deleted_at) throw new RuleError('risk', 'This client relationship is in the recycle bin')
    const [ruleSet, lists, risks] = await Promise.all([
      currentRuleSet(trx, entity.company_id),
      currentCountryLists(trx, entity.company_id),
      serviceRisksOf(trx, entity.company_id, entity.id),
    ])
    const facts = factsFrom(stored, risks, lists)
    const recommendation = evaluate(ruleSet.definition, facts)
    let result = resultOf(recommendation)
    if (override) {
      const pillars = override.pillars
      const changed =
        PILLARS.some((p) => pillars[p] !== result.pillars[p]) || override.classification !== result.classification
      if (!changed)
        throw new RuleError('rationale', 'Change a score or the classification to override, or save the recommendation')
      // The overall score follows the scores as set; the classification is the one set.
      result = { pillars, overall: overallScore(ruleSet.definition, pillars), classification: override.classification }
    }
    // The client's assessment until now (the audit row's "before").
    const previous = await trx('risk_assessments as a')
      .join('risk_rule_sets as r', 'r.id', 'a.rule_set_id')
      .where({ 'a.entity_id': entity.id })
      .orderBy([
        { column: 'a.created_at', order: 'desc' },
        { column: 'a.id', order: 'desc' },
      ])
      .first(
        'a.id as assessment',
        'a.classification',
        trx.raw(`(a.result->>'overall')::float AS overall`),
        'r.version as rule_set_version',
        trx.raw(`to_char(a.review_due_on, 'YYYY-MM-DD') AS review_due_on`),
      )
    const reviewYears = REVIEW_YEARS[result.classification]
    const [row] = await trx('risk_assessments')
      .insert({
        company_id: entity.company_id,
        entity_id: entity.id,
        rule_set_id: ruleSet.id,
        country_list_versions: JSON.stringify(lists.versions),
        facts: JSON.stringify(facts),
        recommendation: JSON.stringify(recommendation),
        result: JSON.stringify(result),
        classification: result.classification,
        overridden: Boolean(override),
        rationale: override?.rationale ?? null,
        override_expires_on: override?.expiresOn ?? null,
        review_due_on: trx.raw(`(now() AT TIME ZONE 'UTC')::date + make_interval(years => ?)`, [reviewYears]),
        created_by: actor.user.id,
      })
      .returning(['id', trx.raw(`to_char(review_due_on, 'YYYY-MM-DD') AS review_due_on`)])
    await recordAssessment(trx, {
      companyId: entity.company_id,
      entityId: entity.id,
      assessmentId: row.id,
      classification: result.classification,
      recommended: recommendation.classification,
      reviewDueOn: row.review_due_on,
      overrideExpiresOn: override?.expiresOn ?? null,
    })
    await entityAudit(trx, actor, entity.id, override ? 'risk.overridden' : 'risk.assessed', previous, {
      assessment: row.id,
      classification: result.classification,
      overall: result.overall,
      ...(override
        ? {
            recommended: recommendation.classification,
            scores: PILLARS.filter((p) => result.pillars[p] !== recommendation.pillars[p].score)
              .map((p) => `${PILLAR_LABELS[p]} ${recommendation.pillars[p].score} → ${result.pillars[p]}`)
              .join(', '),
            rationale: override.rationale,
            override_expires_on: override.expiresOn,
          }
        : {}),
      rule_set_version: ruleSet.version,
      country_list_versions: COUNTRY_LIST_KEYS.map((k) => `${COUNTRY_LIST_NAMES[k]} v${lists.versions[k]}`).join('; '),
      review_due_on: row.review_due_on,
    })
    return { classification: result.classification, overridden: Boolean(override) }
  })
}
