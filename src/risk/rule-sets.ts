import type { Knex } from 'knex'
import { accessibleClientsPredicate } from '../access/client-access.js'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import type { EntityActor } from '../entities/service.js'
import { RuleError } from '../forms/rule-error.js'
import type { CurrentUser } from '../types.js'
import { type CountryLists, currentCountryLists } from './country-lists.js'
import { CLASSIFICATIONS, type Classification, evaluate, type RuleSetDefinition } from './evaluate.js'
import { type ClientWithRisks, markCompanyForRecheck, withServiceRisks } from './risk-state.js'
import { ruleSetProblems } from './rule-set.js'
import { currentRuleSet, factsFrom } from './service.js'

/**
 * Rule set versions (the way Marble's scoring rulesets work): one draft at a time, edited by
 * administrators and tried on every client in a dry run, then published as the next version. A published
 * version is never changed, and publishing never rewrites a saved assessment.
 */
export interface Draft {
  id: string
  definition: RuleSetDefinition
  created_at: Date
}

/** The company's draft row (the rule set without a version), to read or change. */
const draftRow = (db: Db | Knex.Transaction, companyId: string) =>
  db('risk_rule_sets').where({ company_id: companyId }).whereNull('version')

export async function draftOf(db: Db, companyId: string): Promise<Draft | undefined> {
  return draftRow(db, companyId).first('id', 'definition', 'created_at')
}

/** Saves the company's draft (made from the published version when there is none), if it is a valid rule set. */
export async function saveDraft(db: Db, actor: EntityActor, definition: unknown): Promise<void> {
  const problems = ruleSetProblems(definition)
  if (problems.length > 0) throw new RuleError('rules', problems.join(' '))
  const companyId = actor.user.companyId
  await db.transaction(async (trx) => {
    // The audit row's "before" is the draft as stored, read under its lock.
    const before = await draftRow(trx, companyId).forUpdate().first('definition')
    const updated = await draftRow(trx, companyId).update({
      definition: JSON.stringify(definition),
      created_by: actor.user.id,
      created_at: trx.fn.now(),
    })
    // The one-draft index decides between two first saves at once: the second updates what the first made.
    if (updated === 0) {
      const inserted = await trx('risk_rule_sets')
        .insert({ company_id: companyId, definition: JSON.stringify(definition), created_by: actor.user.id })
        .onConflict(trx.raw('(company_id) WHERE version IS NULL'))
        .ignore()
        .returning('id')
      if (inserted.length === 0)
        await draftRow(trx, companyId).update({ definition: JSON.stringify(definition), created_by: actor.user.id })
    }
    // Before: the draft as it was, or the published version a new draft starts from.
    const was = before?.definition ?? (await currentRuleSet(trx, companyId)).definition
    await auditTarget(trx, actor, 'company', companyId, 'risk.draft_saved', was, definition)
  })
}

/** Publishes the draft as the next version; returns it. Two publishes at once: one wins, the other finds no draft. */
export async function publishDraft(db: Db, actor: EntityActor): Promise<number> {
  const companyId = actor.user.companyId
  return db.transaction(async (trx) => {
    const draft = await draftRow(trx, companyId).forUpdate().first('id')
    if (!draft) throw new RuleError('draft', 'There is no draft to publish: it may just have been published')
    await currentRuleSet(trx, companyId) // version 1 exists before version 2
    const latest = await trx('risk_rule_sets').where({ company_id: companyId }).max('version as max').first()
    const version = Number(latest?.max) + 1
    await trx('risk_rule_sets')
      .where({ id: draft.id })
      .update({ version, published_at: trx.fn.now(), published_by: actor.user.id })
    await auditTarget(
      trx,
      actor,
      'company',
      companyId,
      'risk.published',
      { rule_set_version: version - 1 },
      { rule_set_version: version },
    )
    await markCompanyForRecheck(trx, companyId)
    return version
  })
}

export interface DryRun {
  clients: number
  before: Record<Classification, number>
  after: Record<Classification, number>
  /** The clients whose recommended classification would change, by name (at most `shown` of them). */
  changes: { id: string; name: string; from: Classification; to: Classification }[]
  changed: number
}

/**
 * How the recommendation of every client the reader may open would move from the published rule set to
 * `draft`: counts of Low, Medium and High before and after, and the clients that change. The clients and
 * their services' risk levels are read in one statement; the rules run in memory.
 */
export async function dryRun(
  db: Db,
  user: CurrentUser,
  published: RuleSetDefinition,
  draft: RuleSetDefinition,
  shown = 200,
): Promise<DryRun> {
  const [rows, lists]: [ClientWithRisks[], CountryLists] = await Promise.all([
    withServiceRisks(db, db('entities as e').modify(accessibleClientsPredicate(db, user))).orderByRaw(
      'lower(e.name), e.id',
    ),
    currentCountryLists(db, user.companyId),
  ])
  const zero = () => Object.fromEntries(CLASSIFICATIONS.map((c) => [c, 0])) as Record<Classification, number>
  const result: DryRun = { clients: rows.length, before: zero(), after: zero(), changes: [], changed: 0 }
  for (const row of rows) {
    const facts = factsFrom(row, row.risks ?? [], lists)
    const from = evaluate(published, facts).classification
    const to = evaluate(draft, facts).classification
    result.before[from]++
    result.after[to]++
    if (from !== to) {
      result.changed++
      if (result.changes.length < shown) result.changes.push({ id: row.id, name: row.name, from, to })
    }
  }
  return result
}
