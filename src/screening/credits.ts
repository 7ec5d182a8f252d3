import type { Knex } from 'knex'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'

/** Below this many credits, pages warn that the balance is low. */
export const LOW_CREDITS = 10

/** The most one top-up adds, so that a typo of a few digits too many is caught. */
export const TOP_UP_MAX = 100_000

export async function creditBalance(db: Db | Knex.Transaction, companyId: string): Promise<number> {
  const row = await db('companies').where({ id: companyId }).first('screening_credits')
  return Number(row?.screening_credits ?? 0)
}

/** Manual searches the user ran this calendar month (UTC), and their monthly budget (null: none). */
export async function monthlyUse(
  db: Db | Knex.Transaction,
  companyId: string,
  userId: string,
): Promise<{ used: number; budget: number | null }> {
  const [used, user] = await Promise.all([
    db('screening_credit_ledger')
      .where({ company_id: companyId, user_id: userId, reason: 'manual_search' })
      .whereRaw(`created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`)
      .count<{ n: string }>('* as n')
      .first(),
    db('users').where({ id: userId, company_id: companyId }).first('manual_search_budget'),
  ])
  return { used: Number(used?.n ?? 0), budget: user?.manual_search_budget ?? null }
}

/**
 * Spends one credit for a manual search, in the search's transaction: refused, with nothing spent, when
 * the company has no credit left or the user's monthly budget is used up. The balance is taken by one
 * conditional UPDATE, so two searches at once never take the last credit twice; the user's row is then
 * locked, so two searches of one user at once count their budget one after the other.
 */
export async function spendCredit(trx: Knex.Transaction, actor: RequestActor, field: string): Promise<number> {
  const { companyId, id: userId } = actor.user
  // The company's row first, then the user's: the order user administration locks them in, so the two
  // never wait for each other in a circle.
  const { rows } = await trx.raw(
    `UPDATE companies SET screening_credits = screening_credits - 1
     WHERE id = ? AND screening_credits > 0 RETURNING screening_credits`,
    [companyId],
  )
  const balance = rows[0]?.screening_credits as number | undefined
  if (balance === undefined)
    throw new RuleError(
      field,
      'No screening credits are left, so no manual search was run and nothing was spent: an administrator can top them up',
      { status: 409 },
    )
  await trx('users').where({ id: userId, company_id: companyId }).forUpdate().first('id')
  const { used, budget } = await monthlyUse(trx, companyId, userId)
  // Refused here, the transaction rolls back and the credit taken above with it.
  if (budget !== null && used >= budget)
    throw new RuleError(
      field,
      `You have used your budget of ${budget} manual search${budget === 1 ? '' : 'es'} this month: an administrator can raise it`,
      { status: 409 },
    )
  return balance
}

/** Writes the ledger row of a credit spent on a search. */
export async function recordSpend(
  trx: Knex.Transaction,
  actor: RequestActor,
  balanceAfter: number,
  searchId: string,
): Promise<void> {
  await trx('screening_credit_ledger').insert({
    company_id: actor.user.companyId,
    change: -1,
    balance_after: balanceAfter,
    reason: 'manual_search',
    search_id: searchId,
    user_id: actor.user.id,
  })
}

/** Adds credits to the company's balance (administrators), with a ledger row and an audit row. */
export async function topUpCredits(db: Db, actor: RequestActor, input: { amount: string; note: string }) {
  const errors = new FormErrors()
  const amount = Number(input.amount)
  if (!/^\d{1,6}$/.test(input.amount) || amount < 1 || amount > TOP_UP_MAX)
    errors.add('amount', `Enter a whole number of credits from 1 to ${TOP_UP_MAX.toLocaleString('en-GB')}`)
  if (input.note.length > 500) errors.add('note', 'The note must be 500 characters or fewer')
  RuleError.throwIf(errors)
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw(
      'UPDATE companies SET screening_credits = screening_credits + ? WHERE id = ? RETURNING screening_credits',
      [amount, actor.user.companyId],
    )
    const balance = rows[0].screening_credits as number
    await trx('screening_credit_ledger').insert({
      company_id: actor.user.companyId,
      change: amount,
      balance_after: balance,
      reason: 'top_up',
      note: input.note || null,
      user_id: actor.user.id,
    })
    await auditTarget(
      trx,
      actor,
      'company',
      actor.user.companyId,
      'screening.credits_topped_up',
      { balance: balance - amount },
      { balance, added: amount, note: input.note || 'none' },
    )
    return balance
  })
}

export interface LedgerRow {
  id: number
  change: number
  balance_after: number
  reason: 'top_up' | 'manual_search'
  note: string | null
  search_id: string | null
  entity_id: string | null
  entity_name: string | null
  user_name: string
  created_at: Date
}

/** A page of the company's ledger, newest first. */
export function ledgerPage(db: Db, companyId: string, page: number, size: number): Promise<LedgerRow[]> {
  return db('screening_credit_ledger as l')
    .join('users as u', 'u.id', 'l.user_id')
    .leftJoin('screening_searches as s', 's.id', 'l.search_id')
    .leftJoin('entities as e', 'e.id', 's.entity_id')
    .where('l.company_id', companyId)
    .orderBy([
      { column: 'l.created_at', order: 'desc' },
      { column: 'l.id', order: 'desc' },
    ])
    .offset((page - 1) * size)
    .limit(size + 1)
    .select(
      'l.id',
      'l.change',
      'l.balance_after',
      'l.reason',
      'l.note',
      'l.search_id',
      's.entity_id',
      'e.name as entity_name',
      'u.name as user_name',
      'l.created_at',
    )
}
