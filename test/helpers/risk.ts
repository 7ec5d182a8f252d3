import type { Db } from '../../src/db/knex.js'
import { currentRuleSet } from '../../src/risk/service.js'
import type { Company, User } from './factories.js'

export type Classification = 'high' | 'medium' | 'low'

/** A saved assessment and the client's risk state, straight in the database (nothing waits for a recheck). */
export async function assess(
  db: Db,
  company: Company,
  by: User,
  client: { id: string },
  risk: { classification: Classification; reviewDueOn: string; outOfDate?: boolean },
): Promise<void> {
  const ruleSet = await currentRuleSet(db, company.id)
  const c = risk.classification
  const [a] = await db('risk_assessments')
    .insert({
      company_id: company.id,
      entity_id: client.id,
      rule_set_id: ruleSet.id,
      facts: JSON.stringify({}),
      recommendation: JSON.stringify({ classification: c }),
      result: JSON.stringify({ classification: c }),
      classification: c,
      review_due_on: risk.reviewDueOn,
      created_by: by.id,
    })
    .returning('id')
  await db('entity_risk').insert({
    entity_id: client.id,
    company_id: company.id,
    assessment_id: a.id,
    saved_classification: c,
    review_due_on: risk.reviewDueOn,
    recommended_classification: c,
    out_of_date: Boolean(risk.outOfDate),
    classification: c,
    needs_check: false,
  })
}
