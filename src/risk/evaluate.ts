import jsonLogic, { type RulesLogic } from 'json-logic-js'

/**
 * Risk assessment (SPEC §4, issue 13): how a client's pillar scores, overall score and classification
 * follow from its data and the company's rule set. Pure: the facts come in (see facts.ts), the
 * recommendation goes out, with every rule that fired and every reason that forces High, so a page can
 * say why. Conditions are JSON Logic, interpreted by json-logic-js (no eval, no code from the database).
 */

/** The five pillars, grouped as the EBA's risk-factor guidelines (EBA/GL/2021/02) group risk factors. */
export const PILLARS = ['customer', 'geography', 'products', 'delivery', 'transactions'] as const
export type Pillar = (typeof PILLARS)[number]

export const PILLAR_LABELS: Record<Pillar, string> = {
  customer: 'Customer',
  geography: 'Geography',
  products: 'Products and services',
  delivery: 'Delivery channel',
  transactions: 'Transactions',
}

export const CLASSIFICATIONS = ['low', 'medium', 'high'] as const
export type Classification = (typeof CLASSIFICATIONS)[number]

/** A pillar's score: a whole number from 1 (lowest risk) to 9. */
export const MIN_SCORE = 1
export const MAX_SCORE = 9

/**
 * One rule: when its condition holds for a client, it raises a pillar's score to at least `score`, or
 * adds `points` to it (one of the two).
 */
export interface RiskRule {
  id: string
  /** Said to the reader when the rule fires: "Legal form is a trust". */
  label: string
  pillar: Pillar
  when: RulesLogic
  score?: number
  points?: number
}

export interface RuleSetDefinition {
  /** The overall score: the pillars' weighted average, or the highest pillar. */
  aggregation: 'weighted_average' | 'maximum'
  weights: Record<Pillar, number>
  /** Each pillar's score before any rule fires. */
  base: Record<Pillar, number>
  /** Overall ≥ high is High, ≥ medium is Medium, below is Low (default 1–4 Low, 5–6 Medium, 7–9 High). */
  thresholds: { medium: number; high: number }
  rules: RiskRule[]
}

/** What the rules read of a client (facts.ts builds it). Country codes are ISO 3166-1 alpha-2. */
export interface RiskFacts {
  kind: 'individual' | 'organisation'
  /** Lower case, as typed: "limited company", "trust". */
  legal_form: string | null
  nationality: string | null
  residence: string | null
  incorporation: string | null
  /** The keys of the country lists each of the client's countries is on, and all of them together. */
  nationality_lists: string[]
  residence_lists: string[]
  incorporation_lists: string[]
  country_lists: string[]
  /** The risk levels of the client's services, and the highest ('none' without services). */
  service_risks: string[]
  highest_service_risk: 'none' | 'low' | 'medium' | 'high'
  delivery_channel: 'face_to_face' | 'remote_verified' | 'intermediary' | null
  volume_band: 'under_10k' | '10k_100k' | '100k_1m' | 'over_1m' | null
  cash_intensive: boolean
  pep: boolean
  /** A confirmed sanctions match (screening, issue 14): false until it lands. */
  sanctions_match: boolean
}

/** Why a client is High whatever its scores. */
export type ForcedHighReason = 'sanctions_match' | 'pep' | 'high_risk_country'

export const FORCED_HIGH_LIST = 'eu_high_risk'
export const FATF_CALL_FOR_ACTION = 'fatf_call_for_action'

export interface PillarResult {
  score: number
  /** The rules that fired, in the rule set's order. */
  fired: { id: string; label: string; score?: number; points?: number }[]
}

export interface Recommendation {
  pillars: Record<Pillar, PillarResult>
  /** The overall score, to one decimal place. */
  overall: number
  /** What the overall score alone classifies as. */
  scored: Classification
  forcedHigh: ForcedHighReason[]
  /** The recommendation: High when anything forces it, else what the score says. */
  classification: Classification
}

export function classify(overall: number, thresholds: RuleSetDefinition['thresholds']): Classification {
  if (overall >= thresholds.high) return 'high'
  if (overall >= thresholds.medium) return 'medium'
  return 'low'
}

const clamp = (n: number) => Math.min(MAX_SCORE, Math.max(MIN_SCORE, Math.round(n)))

/** The reasons that force High, in the order they are told. */
export function forcedHighReasons(facts: RiskFacts): ForcedHighReason[] {
  const reasons: ForcedHighReason[] = []
  if (facts.sanctions_match) reasons.push('sanctions_match')
  if (facts.pep) reasons.push('pep')
  if (facts.country_lists.includes(FORCED_HIGH_LIST) || facts.country_lists.includes(FATF_CALL_FOR_ACTION))
    reasons.push('high_risk_country')
  return reasons
}

/** The overall score of these pillar scores: their weighted average (to one decimal place) or the highest. */
export function overallScore(rules: RuleSetDefinition, scores: Record<Pillar, number>): number {
  if (rules.aggregation === 'maximum') return Math.max(...PILLARS.map((p) => scores[p]))
  const weight = PILLARS.reduce((sum, p) => sum + rules.weights[p], 0)
  const sum = PILLARS.reduce((s, p) => s + scores[p] * rules.weights[p], 0)
  return Math.round((sum / weight) * 10) / 10
}

export function evaluate(rules: RuleSetDefinition, facts: RiskFacts): Recommendation {
  const pillars = Object.fromEntries(
    PILLARS.map((p) => [p, { score: clamp(rules.base[p]), fired: [] as PillarResult['fired'] }]),
  ) as Record<Pillar, PillarResult>
  const points = Object.fromEntries(PILLARS.map((p) => [p, 0])) as Record<Pillar, number>
  for (const rule of rules.rules) {
    if (!jsonLogic.truthy(jsonLogic.apply(rule.when, facts))) continue
    const result = pillars[rule.pillar]
    result.fired.push({ id: rule.id, label: rule.label, score: rule.score, points: rule.points })
    if (rule.score !== undefined) result.score = Math.max(result.score, clamp(rule.score))
    if (rule.points !== undefined) points[rule.pillar] += rule.points
  }
  for (const p of PILLARS) pillars[p].score = clamp(pillars[p].score + points[p])

  const overall = overallScore(
    rules,
    Object.fromEntries(PILLARS.map((p) => [p, pillars[p].score])) as Record<Pillar, number>,
  )
  const scored = classify(overall, rules.thresholds)
  const forcedHigh = forcedHighReasons(facts)
  return { pillars, overall, scored, forcedHigh, classification: forcedHigh.length > 0 ? 'high' : scored }
}
