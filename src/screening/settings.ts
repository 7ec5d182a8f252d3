import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'

export interface ScreeningSettings {
  fourEyes: boolean
  credits: number
}

export async function screeningSettings(db: Db, companyId: string): Promise<ScreeningSettings> {
  const row = await db('companies').where({ id: companyId }).first('screening_four_eyes', 'screening_credits')
  return { fourEyes: Boolean(row?.screening_four_eyes), credits: Number(row?.screening_credits ?? 0) }
}

/** Switches four-eyes review on or off, audited. Searches already awaiting approval still need it. */
export async function setFourEyes(db: Db, actor: RequestActor, on: boolean): Promise<boolean> {
  return db.transaction(async (trx) => {
    const before = await trx('companies')
      .where({ id: actor.user.companyId })
      .forNoKeyUpdate()
      .first('screening_four_eyes')
    if (before.screening_four_eyes === on) return false
    await trx('companies').where({ id: actor.user.companyId }).update({ screening_four_eyes: on })
    await auditTarget(
      trx,
      actor,
      'company',
      actor.user.companyId,
      'screening.four_eyes_changed',
      { four_eyes: before.screening_four_eyes },
      { four_eyes: on },
    )
    return true
  })
}

/** Sets a user's monthly budget of manual searches (empty: no limit), audited on the user. */
export async function setManualSearchBudget(
  db: Db,
  actor: RequestActor,
  userId: string,
  typed: string,
): Promise<number | null> {
  const errors = new FormErrors()
  const budget = typed === '' ? null : Number(typed)
  if (budget !== null && (!/^\d{1,6}$/.test(typed) || budget > 100_000))
    errors.add(
      `budget-${userId}`,
      'Enter a whole number of searches a month, up to 100,000, or leave it empty for no limit',
    )
  RuleError.throwIf(errors)
  return db.transaction(async (trx) => {
    const before = await trx('users')
      .where({ id: userId, company_id: actor.user.companyId })
      .forUpdate()
      .first('manual_search_budget')
    if (!before) throw new RuleError(`budget-${userId}`, 'This user no longer exists', { status: 409 })
    await trx('users').where({ id: userId }).update({ manual_search_budget: budget })
    await auditTarget(
      trx,
      actor,
      'user',
      userId,
      'screening.budget_changed',
      { monthly_budget: before.manual_search_budget ?? 'no limit' },
      { monthly_budget: budget ?? 'no limit' },
    )
    return budget
  })
}
