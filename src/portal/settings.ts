import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import type { EntityKind } from '../entities/reference.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'
import {
  defaultQuestionnaire,
  fromJsonSchema,
  type Questionnaire,
  questionProblems,
  toJsonSchema,
} from './questionnaire.js'

export interface PortalSettings {
  intro: string
  contact: string
  linkValidDays: number
}

export const DEFAULT_PORTAL_SETTINGS: PortalSettings = { intro: '', contact: '', linkValidDays: 14 }

/** A company's portal settings; the defaults until an administrator saves them. */
export async function portalSettings(db: Db, companyId: string): Promise<PortalSettings> {
  const row = await db('portal_settings').where({ company_id: companyId }).first()
  return row ? { intro: row.intro, contact: row.contact, linkValidDays: row.link_valid_days } : DEFAULT_PORTAL_SETTINGS
}

/** Checks the settings form: its problems by field, or the values to store. */
export function validatePortalSettings(input: { intro: string; contact: string; link_valid_days: string }) {
  const errors = new FormErrors()
  if (input.intro.length > 4000) errors.add('intro', 'Enter an introduction of at most 4,000 characters')
  if (!input.contact.trim())
    errors.add('contact', 'Enter how clients reach you: a name, an email address or a phone number')
  else if (input.contact.length > 1000) errors.add('contact', 'Enter contact details of at most 1,000 characters')
  const days = /^\d{1,2}$/.test(input.link_valid_days.trim()) ? Number(input.link_valid_days) : Number.NaN
  if (!(days >= 1 && days <= 90)) errors.add('link_valid_days', 'Enter a whole number of days from 1 to 90')
  RuleError.throwIf(errors)
  return { intro: input.intro.trim(), contact: input.contact.trim(), linkValidDays: days }
}

export async function savePortalSettings(db: Db, actor: RequestActor, values: PortalSettings): Promise<boolean> {
  return db.transaction(async (trx) => {
    const companyId = actor.user.companyId
    const before = await trx('portal_settings').where({ company_id: companyId }).forUpdate().first()
    const row = { intro: values.intro, contact: values.contact, link_valid_days: values.linkValidDays }
    if (
      before &&
      before.intro === row.intro &&
      before.contact === row.contact &&
      before.link_valid_days === row.link_valid_days
    )
      return false
    await trx('portal_settings')
      .insert({ company_id: companyId, ...row, updated_by: actor.user.id })
      .onConflict('company_id')
      .merge({ ...row, updated_at: trx.fn.now(), updated_by: actor.user.id })
    const old = before
      ? { intro: before.intro, contact: before.contact, link_valid_days: before.link_valid_days }
      : undefined
    await auditTarget(trx, actor, 'portal_settings', companyId, 'portal.settings_changed', old, row)
    return true
  })
}

export interface StoredQuestionnaire {
  questionnaire: Questionnaire
  /** Counts the saves; 0 for the default, never saved. */
  version: number
}

/** A company's questionnaire for a client kind: as saved, or the default one. */
export async function questionnaireOf(db: Db, companyId: string, kind: EntityKind): Promise<StoredQuestionnaire> {
  const row = await db('portal_questionnaires').where({ company_id: companyId, kind }).first('schema', 'version')
  return row
    ? { questionnaire: fromJsonSchema(row.schema), version: row.version }
    : { questionnaire: defaultQuestionnaire(kind), version: 0 }
}

/**
 * Saves one change to a questionnaire (a question added, edited, moved or removed). The form carries the
 * version it was shown with: a save built on an older one is refused with 409, so nobody's change is lost.
 * `change` returns the questionnaire after the change, or throws a RuleError.
 */
export async function changeQuestionnaire(
  db: Db,
  actor: RequestActor,
  kind: EntityKind,
  shownVersion: number,
  action: string,
  change: (questionnaire: Questionnaire) => Questionnaire,
): Promise<void> {
  const companyId = actor.user.companyId
  await db.transaction(async (trx) => {
    const row = await trx('portal_questionnaires').where({ company_id: companyId, kind }).forUpdate().first()
    const version: number = row?.version ?? 0
    if (version !== shownVersion) {
      throw new RuleError(
        'questions',
        'Someone else changed this questionnaire after you opened this page, and nothing was saved: look at it again, then make your change.',
        { status: 409 },
      )
    }
    const before = row ? fromJsonSchema(row.schema) : defaultQuestionnaire(kind)
    const after = change(before)
    const schema = JSON.stringify(toJsonSchema(after))
    if (row) {
      await trx('portal_questionnaires')
        .where({ company_id: companyId, kind })
        .update({ schema, version: version + 1, updated_at: trx.fn.now(), updated_by: actor.user.id })
    } else {
      // Two first saves at once: the primary key lets one in; the other fails as a change made meanwhile.
      const inserted = await trx('portal_questionnaires')
        .insert({ company_id: companyId, kind, schema, version: 1, updated_by: actor.user.id })
        .onConflict(['company_id', 'kind'])
        .ignore()
        .returning('kind')
      if (inserted.length === 0)
        throw new RuleError(
          'questions',
          'Someone else changed this questionnaire at the same moment: look at it again.',
          {
            status: 409,
          },
        )
    }
    await auditTarget(
      trx,
      actor,
      'portal_questionnaire',
      companyId,
      action,
      { kind, questions: before.questions },
      {
        kind,
        questions: after.questions,
      },
    )
  })
}

/** Refuses a question its editor form describes wrongly, with every problem beside its field. */
export function checkQuestion(...args: Parameters<typeof questionProblems>): void {
  const problems = questionProblems(...args)
  const errors = new FormErrors()
  for (const [field, message] of Object.entries(problems)) errors.add(field, message)
  RuleError.throwIf(errors)
}
