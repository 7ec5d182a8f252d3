import { type Static, type TSchema, Type } from 'typebox'
import Value from 'typebox/value'
import { MAX_SCORE, MIN_SCORE, PILLARS, type RuleSetDefinition } from './evaluate.js'

/**
 * A rule set as stored (risk_rule_sets.definition, JSON) and as an administrator's draft is checked
 * before it is saved: its shape by a TypeBox schema, then what a shape cannot say (thresholds in order,
 * weights that add up to something, one of score or points, conditions made only of known operators).
 */
const Score = Type.Integer({ minimum: MIN_SCORE, maximum: MAX_SCORE })
const PerPillar = <T extends TSchema>(value: T) =>
  Type.Object(Object.fromEntries(PILLARS.map((p) => [p, value])) as Record<(typeof PILLARS)[number], T>, {
    additionalProperties: false,
  })

export const RuleSetSchema = Type.Object(
  {
    aggregation: Type.Union([Type.Literal('weighted_average'), Type.Literal('maximum')]),
    weights: PerPillar(Type.Number({ minimum: 0, maximum: 100 })),
    base: PerPillar(Score),
    thresholds: Type.Object({ medium: Score, high: Score }, { additionalProperties: false }),
    rules: Type.Array(
      Type.Object(
        {
          id: Type.String({ pattern: '^[a-z0-9_]{1,60}$' }),
          label: Type.String({ minLength: 1, maxLength: 200 }),
          pillar: Type.Union(PILLARS.map((p) => Type.Literal(p))),
          when: Type.Unknown(),
          score: Type.Optional(Score),
          points: Type.Optional(Type.Integer({ minimum: -(MAX_SCORE - 1), maximum: MAX_SCORE - 1 })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 200 },
    ),
  },
  { additionalProperties: false },
)
export type StoredRuleSet = Static<typeof RuleSetSchema>

/** The JSON Logic operators a condition may use: comparisons, logic, membership and reading a fact. */
export const CONDITION_OPERATORS = new Set([
  '==',
  '!=',
  '===',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!',
  '!!',
  'and',
  'or',
  'if',
  'in',
  'var',
  'missing',
  'some',
  'all',
  'none',
])

/** Why a condition is not one a rule may hold, or undefined when it is. */
export function conditionProblem(logic: unknown, depth = 0): string | undefined {
  if (depth > 20) return 'is nested too deeply'
  if (logic === null || typeof logic !== 'object') return undefined // a literal
  if (Array.isArray(logic)) {
    for (const item of logic) {
      const problem = conditionProblem(item, depth + 1)
      if (problem) return problem
    }
    return undefined
  }
  const keys = Object.keys(logic)
  if (keys.length !== 1) return 'has an object that is not one operation'
  const [operator] = keys as [string]
  if (!CONDITION_OPERATORS.has(operator)) return `uses “${operator}”, which a condition may not use`
  return conditionProblem((logic as Record<string, unknown>)[operator], depth + 1)
}

/** Every problem of a rule set, in words; empty when it may be saved. */
export function ruleSetProblems(value: unknown): string[] {
  if (!Value.Check(RuleSetSchema, value)) {
    return [...Value.Errors(RuleSetSchema, value)]
      .slice(0, 10)
      .map((e) => `${e.instancePath || 'The rule set'} ${e.message}`)
  }
  const set = value as StoredRuleSet
  const problems: string[] = []
  if (set.thresholds.medium >= set.thresholds.high) problems.push('The Medium threshold must be below the High one.')
  if (set.thresholds.medium <= MIN_SCORE) problems.push(`The Medium threshold must be above ${MIN_SCORE}.`)
  if (PILLARS.every((p) => set.weights[p] === 0)) problems.push('At least one pillar must have a weight.')
  const ids = new Set<string>()
  for (const rule of set.rules) {
    if (ids.has(rule.id)) problems.push(`Two rules are called “${rule.id}”.`)
    ids.add(rule.id)
    if ((rule.score === undefined) === (rule.points === undefined))
      problems.push(`Rule “${rule.label}” must give either a score or points.`)
    const problem = conditionProblem(rule.when)
    if (problem) problems.push(`The condition of rule “${rule.label}” ${problem}.`)
  }
  return problems
}

/** A stored rule set, checked: what evaluate() takes. */
export function ruleSetFrom(value: unknown): RuleSetDefinition {
  const problems = ruleSetProblems(value)
  if (problems.length > 0) throw new Error(`not a rule set: ${problems.join(' ')}`)
  return value as RuleSetDefinition
}
