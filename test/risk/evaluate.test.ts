import fc from 'fast-check'
import t from 'tap'
import { DEFAULT_RULE_SET } from '../../src/risk/default-rules.js'
import {
  CLASSIFICATIONS,
  classify,
  evaluate,
  MAX_SCORE,
  MIN_SCORE,
  PILLARS,
  type RiskFacts,
  type RuleSetDefinition,
} from '../../src/risk/evaluate.js'
import { conditionProblem, ruleSetFrom, ruleSetProblems } from '../../src/risk/rule-set.js'

/** A client with nothing about it that any default rule looks at. */
const plain: RiskFacts = {
  kind: 'individual',
  legal_form: null,
  nationality: 'GB',
  residence: 'GB',
  incorporation: null,
  nationality_lists: [],
  residence_lists: [],
  incorporation_lists: [],
  country_lists: [],
  service_risks: [],
  highest_service_risk: 'none',
  delivery_channel: null,
  volume_band: null,
  cash_intensive: false,
  pep: false,
  sanctions_match: false,
}
const facts = (changes: Partial<RiskFacts>): RiskFacts => ({ ...plain, ...changes })
const scores = (r: ReturnType<typeof evaluate>) => PILLARS.map((p) => r.pillars[p].score)

t.test('the default rule set is a valid rule set', async (t) => {
  t.same(ruleSetProblems(DEFAULT_RULE_SET), [])
  t.equal(ruleSetFrom(JSON.parse(JSON.stringify(DEFAULT_RULE_SET))).rules.length, DEFAULT_RULE_SET.rules.length)
})

t.test('a client with nothing to say gets the base scores', async (t) => {
  const r = evaluate(DEFAULT_RULE_SET, plain)
  t.same(scores(r), [2, 2, 2, 3, 2])
  t.equal(r.overall, 2.2)
  t.equal(r.classification, 'low')
  t.same(r.forcedHigh, [])
  t.same(
    PILLARS.flatMap((p) => r.pillars[p].fired),
    [],
    'no rule fired',
  )
})

t.test('every kind of rule of the default set, with the rule that fired', async (t) => {
  const fired = (f: Partial<RiskFacts>) => {
    const r = evaluate(DEFAULT_RULE_SET, facts(f))
    return Object.fromEntries(PILLARS.map((p) => [p, [r.pillars[p].score, r.pillars[p].fired.map((x) => x.id)]]))
  }
  t.same(
    fired({ kind: 'organisation', legal_form: 'trust' }).customer,
    [7, ['trust_or_foundation']],
    'legal form: a score',
  )
  t.same(fired({ kind: 'organisation' }).customer, [3, ['organisation_without_form']], 'no legal form: points')
  t.same(fired({ country_lists: ['fatf_increased_monitoring'] }).geography, [6, ['increased_monitoring']])
  t.same(fired({ country_lists: ['eu_high_risk'] }).geography, [9, ['high_risk_country']])
  t.same(
    fired({ country_lists: ['fatf_increased_monitoring', 'fatf_call_for_action'] }).geography,
    [9, ['increased_monitoring', 'high_risk_country']],
    'the highest score of the rules that fired',
  )
  t.same(fired({ highest_service_risk: 'high' }).products, [7, ['high_risk_service']])
  t.same(fired({ highest_service_risk: 'medium' }).products, [5, ['medium_risk_service']])
  t.same(fired({ delivery_channel: 'face_to_face' }).delivery, [1, ['face_to_face']], 'negative points, down to 1')
  t.same(fired({ delivery_channel: 'intermediary' }).delivery, [6, ['intermediary']])
  t.same(fired({ delivery_channel: 'remote_verified' }).delivery, [3, []])
  t.same(fired({ volume_band: 'over_1m' }).transactions, [7, ['volume_over_1m']])
  t.same(
    fired({ volume_band: 'over_1m', cash_intensive: true }).transactions,
    [9, ['volume_over_1m', 'cash_intensive']],
    'points on top of a score, up to 9',
  )
  t.same(fired({ volume_band: '100k_1m', cash_intensive: true }).transactions, [
    7,
    ['volume_100k_1m', 'cash_intensive'],
  ])
})

t.test('the overall score: the weighted average, or the highest pillar', async (t) => {
  const f = facts({ highest_service_risk: 'high', volume_band: 'over_1m' }) // 2, 2, 7, 3, 7
  const average = evaluate(DEFAULT_RULE_SET, f)
  t.same(scores(average), [2, 2, 7, 3, 7])
  t.equal(average.overall, 4.2)
  t.equal(average.classification, 'low')
  const weighted = evaluate({ ...DEFAULT_RULE_SET, weights: { ...DEFAULT_RULE_SET.weights, products: 3 } }, f)
  t.equal(weighted.overall, 5, '(2 + 2 + 3×7 + 3 + 7) / 7')
  t.equal(weighted.classification, 'medium')
  const maximum = evaluate({ ...DEFAULT_RULE_SET, aggregation: 'maximum' }, f)
  t.equal(maximum.overall, 7)
  t.equal(maximum.classification, 'high')
})

t.test('thresholds: below Medium is Low, from Medium up to High is Medium, from High up is High', async (t) => {
  const th = { medium: 5, high: 7 }
  t.same(
    [1, 4, 4.9, 5, 6, 6.9, 7, 9].map((n) => classify(n, th)),
    ['low', 'low', 'low', 'medium', 'medium', 'medium', 'high', 'high'],
  )
  t.same(
    [3, 4, 6].map((n) => classify(n, { medium: 4, high: 6 })),
    ['low', 'medium', 'high'],
    'the company’s own',
  )
})

t.test('each reason that forces High, whatever the scores', async (t) => {
  const cases: [Partial<RiskFacts>, string][] = [
    [{ sanctions_match: true }, 'sanctions_match'],
    [{ pep: true }, 'pep'],
    [{ country_lists: ['eu_high_risk'] }, 'high_risk_country'],
    [{ country_lists: ['fatf_call_for_action'] }, 'high_risk_country'],
  ]
  for (const [f, reason] of cases) {
    const r = evaluate(DEFAULT_RULE_SET, facts(f))
    t.same(r.forcedHigh, [reason], reason)
    t.equal(r.classification, 'high', `${reason}: High`)
    t.not(r.scored, 'high', `${reason}: though the score alone is ${r.overall}`)
  }
  t.same(
    evaluate(DEFAULT_RULE_SET, facts({ country_lists: ['fatf_increased_monitoring'] })).forcedHigh,
    [],
    'monitoring does not',
  )
  t.same(
    evaluate(DEFAULT_RULE_SET, facts({ sanctions_match: true, pep: true, country_lists: ['eu_high_risk'] })).forcedHigh,
    ['sanctions_match', 'pep', 'high_risk_country'],
    'every reason is told',
  )
})

t.test('a rule set that may not be saved says why', async (t) => {
  const problems = (changes: Partial<RuleSetDefinition>) => ruleSetProblems({ ...DEFAULT_RULE_SET, ...changes })
  t.match(problems({ thresholds: { medium: 7, high: 5 } }), ['The Medium threshold must be below the High one.'])
  t.match(problems({ weights: { customer: 0, geography: 0, products: 0, delivery: 0, transactions: 0 } }), [
    'At least one pillar must have a weight.',
  ])
  const rule = DEFAULT_RULE_SET.rules[0] as RuleSetDefinition['rules'][number]
  t.match(problems({ rules: [{ ...rule, points: 1 }] }), ['must give either a score or points'])
  t.match(problems({ rules: [rule, rule] }), ['Two rules are called “trust_or_foundation”.'])
  t.match(problems({ rules: [{ ...rule, when: JSON.parse('{"method": [{"var": "x"}, "toString"]}') }] }), [
    'The condition of rule “The legal form is a trust or a foundation” uses “method”, which a condition may not use.',
  ])
  t.ok(problems({ rules: [{ ...rule, score: 12 }] }).length > 0, 'a score beyond 9')
  t.ok(ruleSetProblems({ ...DEFAULT_RULE_SET, extra: 1 }).length > 0, 'an unknown field')
  t.ok(ruleSetProblems('rules').length > 0, 'not an object')
  t.equal(conditionProblem({ and: [{ '==': [1, 1] }, { in: ['a', ['a']] }] }), undefined)
  t.equal(conditionProblem({ '==': [1, 1], '!=': [1, 2] }), 'has an object that is not one operation')
  t.throws(() => ruleSetFrom({}), /not a rule set/)
})

// Property: for any valid rule set and any client, each pillar's score and the overall score lie within
// 1–9, the classification is the thresholds' verdict on the overall score, and a reason that forces High
// always gives High (only an override, which is not the evaluator's, can lower it).
const ruleSets = fc
  .record({
    aggregation: fc.constantFrom('weighted_average' as const, 'maximum' as const),
    weights: fc.tuple(...PILLARS.map(() => fc.integer({ min: 0, max: 5 }))),
    base: fc.tuple(...PILLARS.map(() => fc.integer({ min: MIN_SCORE, max: MAX_SCORE }))),
    medium: fc.integer({ min: 2, max: 8 }),
    gap: fc.integer({ min: 1, max: 7 }),
    rules: fc.array(
      fc.record({
        pillar: fc.constantFrom(...PILLARS),
        fact: fc.constantFrom('pep', 'cash_intensive', 'sanctions_match'),
        give: fc.oneof(
          fc.integer({ min: MIN_SCORE, max: MAX_SCORE }).map((score) => ({ score })),
          fc.integer({ min: -8, max: 8 }).map((points) => ({ points })),
        ),
      }),
      { maxLength: 12 },
    ),
  })
  .filter((r) => r.weights.some((w) => w > 0))
  .map(
    (r): RuleSetDefinition => ({
      aggregation: r.aggregation,
      weights: Object.fromEntries(PILLARS.map((p, i) => [p, r.weights[i]])) as RuleSetDefinition['weights'],
      base: Object.fromEntries(PILLARS.map((p, i) => [p, r.base[i]])) as RuleSetDefinition['base'],
      thresholds: { medium: r.medium, high: Math.min(MAX_SCORE, r.medium + r.gap) },
      rules: r.rules.map((rule, i) => ({
        id: `r${i}`,
        label: `Rule ${i}`,
        pillar: rule.pillar,
        when: { var: rule.fact },
        ...rule.give,
      })),
    }),
  )
  .filter((r) => r.thresholds.medium < r.thresholds.high)
const clients = fc
  .record({
    pep: fc.boolean(),
    cash_intensive: fc.boolean(),
    sanctions_match: fc.boolean(),
    country_lists: fc.subarray(['eu_high_risk', 'fatf_call_for_action', 'fatf_increased_monitoring']),
  })
  .map((f) => facts(f))

t.test('property: scores within 1–9, classification by the thresholds, forced High never below High', async (t) => {
  let runs = 0
  fc.assert(
    fc.property(ruleSets, clients, (rules, client) => {
      runs++
      if (ruleSetProblems(rules).length > 0) return false
      const r = evaluate(rules, client)
      const within = (n: number) => n >= MIN_SCORE && n <= MAX_SCORE
      if (!PILLARS.every((p) => within(r.pillars[p].score) && Number.isInteger(r.pillars[p].score))) return false
      if (!within(r.overall)) return false
      if (r.scored !== classify(r.overall, rules.thresholds)) return false
      if (!CLASSIFICATIONS.includes(r.classification)) return false
      if (r.forcedHigh.length > 0) return r.classification === 'high'
      return r.classification === r.scored
    }),
    { numRuns: 2000 },
  )
  t.equal(runs, 2000, '2,000 rule sets and clients')
})
