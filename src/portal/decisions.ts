import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { lockEntity } from '../entities/queries.js'
import { type EntityInput, validateEntity } from '../entities/service.js'
import { FormErrors } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'
import { NotFoundError } from '../http/params.js'
import { endPortalSessionsOf } from '../identity/portal-sessions.js'
import type { Answers, ClientField, Question } from './questionnaire.js'
import {
  checkAction,
  enqueueLinkEmail,
  lockRequest,
  questionnaireOfRequest,
  renewLink,
  staffLinkEmail,
} from './requests.js'
import { portalSettings } from './settings.js'

/** The text form of a client's stored value, as the entity form sends it. */
function asInput(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'boolean') return value ? 'yes' : ''
  return String(value)
}

/**
 * Approves a submission: in one transaction, the answers of questions bound to a client field change the
 * client (checked by the same rules as the client form), the other answers are kept with the client, every
 * uploaded file is filed as one of its documents, and the request is closed; all of it, or nothing. Audited
 * as the approver's change.
 */
export async function approveSubmission(
  db: Db,
  actor: RequestActor,
  clientId: string,
  requestId: string,
  shownVersion: number,
): Promise<{ changed: string[]; filed: number }> {
  const companyId = actor.user.companyId
  return db.transaction(async (trx) => {
    const request = await lockRequest(trx, companyId, clientId, requestId)
    checkAction(actor, request, 'approve', shownVersion)
    const entity = await lockEntity(trx, companyId, clientId)
    if (!entity) throw new NotFoundError('client')
    const questionnaire = questionnaireOfRequest(request)
    const answers = request.answers as Answers

    const input = Object.fromEntries(
      (Object.keys(entity) as (keyof typeof entity)[]).map((k) => [k, asInput(entity[k])]),
    ) as unknown as EntityInput
    const bound = questionnaire.questions.filter(
      (q): q is Question & { field: ClientField } => q.field !== null && answers[q.key] !== undefined,
    )
    for (const q of bound) input[q.field] = String(answers[q.key])
    let values: ReturnType<typeof validateEntity>
    try {
      values = validateEntity(input, actor.user, new Set([entity.owner_user_id]), entity)
    } catch (error) {
      if (!(error instanceof RuleError)) throw error
      const problems = error.errors.list.map((p) => p.message).join('; ')
      throw new RuleError(
        'approve',
        `These answers cannot be applied to the client: ${problems}. Ask the client to update them.`,
      )
    }
    const changed = bound.map((q) => q.field).filter((f) => asInput(entity[f]) !== asInput(values[f]))
    // The answers kept with the client: this questionnaire's unbound questions as answered now (a question
    // left unanswered this time no longer has the answer approved before); other keys stay as they were.
    const unbound = questionnaire.questions.filter((q) => q.field === null && q.kind !== 'file')
    const stored = await trx('entities').where({ id: entity.id }).first('portal_answers')
    const previous: Record<string, unknown> = stored?.portal_answers ?? {}
    const next: Record<string, unknown> = { ...previous }
    for (const q of unbound) {
      if (answers[q.key] === undefined) delete next[q.key]
      else next[q.key] = answers[q.key]
    }
    const keptChanged = unbound
      .map((q) => q.key)
      .filter((key) => JSON.stringify(previous[key]) !== JSON.stringify(next[key]))
    const pick = (o: Record<string, unknown>) => Object.fromEntries(changed.map((k) => [k, o[k]]))
    await trx('entities')
      .where({ id: entity.id })
      .update({
        ...pick(values as unknown as Record<string, unknown>),
        portal_answers: JSON.stringify(next),
        updated_at: trx.fn.now(),
      })
    if (keptChanged.length > 0) {
      await auditTarget(
        trx,
        actor,
        'entity',
        entity.id,
        'portal.answers_kept',
        Object.fromEntries(keptChanged.map((k) => [k, previous[k] ?? null])),
        { ...Object.fromEntries(keptChanged.map((k) => [k, next[k] ?? null])), from_portal_request: request.id },
      )
    }
    if (changed.length > 0) {
      await auditTarget(
        trx,
        actor,
        'entity',
        entity.id,
        'entity.updated',
        pick(entity as unknown as Record<string, unknown>),
        {
          ...pick(values as unknown as Record<string, unknown>),
          from_portal_request: request.id,
        },
      )
    }

    const uploadIds = questionnaire.questions
      .filter((q) => q.kind === 'file')
      .flatMap((q) => (Array.isArray(answers[q.key]) ? (answers[q.key] as string[]) : []))
    const uploads = await trx('portal_uploads')
      .where({ company_id: companyId, request_id: request.id })
      .whereIn('id', uploadIds)
      .whereNull('document_id')
      .select('*')
      .orderBy('created_at')
    for (const upload of uploads) {
      const [doc] = await trx('documents')
        .insert({
          company_id: companyId,
          entity_id: entity.id,
          original_name: upload.original_name,
          media_type: upload.media_type,
          size_bytes: upload.size_bytes,
          sha256: upload.sha256,
          storage_key: upload.storage_key,
          uploaded_by: null,
        })
        .returning('id')
      await trx('portal_uploads').where({ id: upload.id }).update({ document_id: doc.id })
      await auditTarget(trx, actor, 'entity', entity.id, 'entity.document_uploaded', undefined, {
        document: doc.id,
        name: upload.original_name,
        media_type: upload.media_type,
        size_bytes: upload.size_bytes,
        sha256: upload.sha256,
        from_portal_request: request.id,
      })
    }

    await trx('portal_requests')
      .where({ id: request.id })
      .update({
        status: 'approved',
        decided_at: trx.fn.now(),
        decided_by: actor.user.id,
        version: trx.raw('version + 1'),
      })
    const latest = await trx('portal_submissions').where({ request_id: request.id }).max('n as n').first()
    await trx('portal_submissions')
      .where({ request_id: request.id, n: latest?.n })
      .update({ decision: 'approved', decided_by: actor.user.id, decided_at: trx.fn.now() })
    await endPortalSessionsOf(trx, companyId, request.id)
    await auditTarget(
      trx,
      actor,
      'entity',
      entity.id,
      'portal.submission_approved',
      { state: 'submitted' },
      {
        request: request.id,
        submission: latest?.n,
        changed,
        answers_kept: keptChanged,
        documents_filed: uploads.length,
      },
    )
    return { changed, filed: uploads.length }
  })
}

/** The longest reason for one answer to update. */
export const REASON_MAX = 2000

/**
 * Sends a submission back to the client: a reason for each answer to update (or one for the whole), a fresh
 * link valid for the company's number of days, and an email listing what to change.
 */
export async function requestUpdates(
  db: Db,
  actor: RequestActor,
  client: { id: string; name: string },
  requestId: string,
  shownVersion: number,
  reasons: Record<string, string>,
) {
  const companyId = actor.user.companyId
  const settings = await portalSettings(db, companyId)
  await db.transaction(async (trx) => {
    const request = await lockRequest(trx, companyId, client.id, requestId)
    checkAction(actor, request, 'requestUpdates', shownVersion)
    const questionnaire = questionnaireOfRequest(request)
    const given = Object.fromEntries(Object.entries(reasons).filter(([, reason]) => reason.trim() !== ''))
    const errors = new FormErrors()
    const known = new Set(['', ...questionnaire.questions.map((q) => q.key)])
    for (const [key, reason] of Object.entries(given)) {
      const field = key ? `reason-${key}` : 'reason'
      if (!known.has(key)) errors.add(field, 'That question is not part of this request')
      else if (reason.length > REASON_MAX) errors.add(field, `Enter a reason of at most ${REASON_MAX} characters`)
    }
    if (Object.keys(given).length === 0)
      errors.add(
        'reason',
        'Say what the client should update: a reason beside an answer, or one for the whole submission',
      )
    RuleError.throwIf(errors)

    await trx('portal_requests')
      .where({ id: request.id })
      .update({ status: 'updates_requested', update_reasons: JSON.stringify(given) })
    const { token, expiresAt } = await renewLink(trx, request, settings.linkValidDays)
    const latest = await trx('portal_submissions').where({ request_id: request.id }).max('n as n').first()
    await trx('portal_submissions')
      .where({ request_id: request.id, n: latest?.n })
      .update({
        decision: 'updates_requested',
        reasons: JSON.stringify(given),
        decided_by: actor.user.id,
        decided_at: trx.fn.now(),
      })
    await auditTarget(
      trx,
      actor,
      'entity',
      client.id,
      'portal.updates_requested',
      { state: 'submitted' },
      {
        request: request.id,
        submission: latest?.n,
        reasons: given,
      },
    )
    const label = (key: string) => questionnaire.questions.find((q) => q.key === key)?.label ?? key
    const lines = Object.entries(given).map(([key, reason]) =>
      key ? `- ${isolate(label(key))}: ${reason}` : `- ${reason}`,
    )
    await enqueueLinkEmail(
      trx,
      staffLinkEmail(actor, settings.contact, request.email, client.name, { token, expiresAt }),
      'updates',
      ['What to update:', ...lines],
    )
  })
}
