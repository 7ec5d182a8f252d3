import type { Knex } from 'knex'
import { usersWithAccessSql } from '../access/client-access.js'
import {
  clientMayEdit,
  linkWorks,
  PORTAL_REQUEST_PERMISSIONS,
  type PortalState,
  STATE_WORDS,
} from '../access/portal.js'
import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import type { StoredUpload } from '../documents/service.js'
import { FormErrors } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { NotFoundError } from '../http/params.js'
import { type PortalSession, startPortalSession } from '../identity/portal-sessions.js'
import { enqueueEmail } from '../mail/outbox.js'
import type { DocumentStorage } from '../storage/document-storage.js'
import { type Answers, fieldName, LIMITS, type Question, validateAnswers } from './questionnaire.js'
import { lockRequest, type PortalRequestRow, questionnaireOfRequest, requestOfToken } from './requests.js'

/** Who acts in the portal: the client of a session, from an address. */
export interface PortalActor {
  session: Pick<PortalSession, 'companyId' | 'requestId'>
  ip: string
}

/** An audit row of something the client did through the portal: no user acts, the request says who. */
function portalAudit(
  trx: Knex.Transaction,
  actor: PortalActor,
  request: PortalRequestRow,
  action: string,
  after: object,
) {
  return writeAudit(trx, {
    companyId: request.company_id,
    actorUserId: null,
    action,
    targetType: 'entity',
    targetId: request.entity_id,
    after: { request: request.id, by: `client through the portal (${request.email})`, ...after },
    ip: actor.ip,
  })
}

/** Locks the session's request: the one request a portal session reaches. */
async function lockSessionRequest(trx: Knex.Transaction, session: PortalActor['session']): Promise<PortalRequestRow> {
  return lockRequest(trx, session.companyId, null, session.requestId)
}

/** Refuses a change once the request is no longer being filled in (submitted, expired, revoked, decided). */
function checkEditable(state: PortalState) {
  if (clientMayEdit(state)) return
  const why: Partial<Record<PortalState, string>> = {
    submitted: 'Your answers were sent and can no longer be changed, unless you are asked to update them.',
    approved: 'Your answers were sent and accepted: nothing more is needed.',
    expired: 'This request has expired: ask for a new link.',
    revoked: 'This request was withdrawn.',
  }
  throw new RuleError('request', why[state] ?? `This request is ${STATE_WORDS[state].toLowerCase()}.`, { status: 409 })
}

/**
 * Continue on a link's page: checks the token again, marks a request opened the first time, and starts a
 * portal session. Returns the session cookie's secret, or the state that stops the link working.
 */
export async function openLink(
  db: Db,
  token: string,
  csrfSecret: string,
  ip: string,
): Promise<{ secret: string } | { refused: PortalState | 'unknown' }> {
  const found = await requestOfToken(db, token)
  if (!found) return { refused: 'unknown' }
  return db.transaction(async (trx) => {
    const request = await lockSessionRequest(trx, { companyId: found.company_id, requestId: found.id })
    // The token may have changed between the two reads (a link sent again): only the current one opens.
    const current = await trx('portal_requests').where({ id: request.id, token_hash: found.token_hash }).first('id')
    if (!current) return { refused: 'unknown' as const }
    if (!linkWorks(request.state)) return { refused: request.state }
    const actor = { session: { companyId: request.company_id, requestId: request.id }, ip }
    if (request.status === 'sent') {
      await trx('portal_requests')
        .where({ id: request.id })
        .update({ status: 'opened', opened_at: trx.fn.now(), version: trx.raw('version + 1') })
      await portalAudit(trx, actor, request, 'portal.opened', {})
    } else {
      // Every later Continue starts another session, maybe elsewhere: each is on the record with its address.
      await portalAudit(trx, actor, request, 'portal.session_started', {})
    }
    return { secret: await startPortalSession(trx, request, csrfSecret) }
  })
}

/** The status a change by the client leaves: a request being filled in becomes a saved draft. */
const afterChange = (status: string) => (status === 'updates_requested' ? 'updates_requested' : 'draft')

/**
 * Saves the answers of one page. `complete` (Continue) checks the page's required questions too; saving a
 * draft checks only what was answered. Answers of other pages are kept as they are.
 */
export async function saveAnswers(
  db: Db,
  actor: PortalActor,
  questions: Question[],
  answers: Answers,
  complete: boolean,
): Promise<void> {
  await db.transaction(async (trx) => {
    const request = await lockSessionRequest(trx, actor.session)
    checkEditable(request.state)
    const questionnaire = questionnaireOfRequest(request)
    const problems = validateAnswers(questionnaire, answers, { questions, complete })
    const errors = new FormErrors()
    for (const [field, message] of Object.entries(problems)) errors.add(field, message)
    RuleError.throwIf(errors)
    const next: Record<string, unknown> = { ...request.answers }
    for (const q of questions) {
      if (q.kind === 'file') continue
      if (answers[q.key] === undefined) delete next[q.key]
      else next[q.key] = answers[q.key]
    }
    await trx('portal_requests')
      .where({ id: request.id })
      .update({ answers: JSON.stringify(next), status: afterChange(request.status), version: trx.raw('version + 1') })
  })
}

export interface UploadRow {
  id: string
  question_key: string
  original_name: string
  media_type: string
  size_bytes: number
  document_id: string | null
  created_at: Date
}

export async function uploadsOf(db: Db | Knex.Transaction, companyId: string, requestId: string): Promise<UploadRow[]> {
  return db('portal_uploads')
    .where({ company_id: companyId, request_id: requestId })
    .select('id', 'question_key', 'original_name', 'media_type', 'size_bytes', 'document_id', 'created_at')
    .orderBy('created_at')
}

/**
 * Records a checked upload (its bytes already stored) as an answer to a file question. When it cannot be
 * recorded, its bytes are removed: nothing is left behind.
 */
export async function addUpload(db: Db, actor: PortalActor, questionKey: string, upload: StoredUpload) {
  try {
    await db.transaction(async (trx) => {
      const request = await lockSessionRequest(trx, actor.session)
      checkEditable(request.state)
      const question = questionnaireOfRequest(request).questions.find((q) => q.key === questionKey && q.kind === 'file')
      if (!question) throw new NotFoundError('question')
      const held = Array.isArray(request.answers[question.key]) ? (request.answers[question.key] as string[]) : []
      if (held.length >= LIMITS.files) {
        throw new RuleError(
          fieldName(question),
          `You can upload at most ${LIMITS.files} files for “${question.label}”: remove one first`,
        )
      }
      const [row] = await trx('portal_uploads')
        .insert({
          company_id: request.company_id,
          request_id: request.id,
          question_key: question.key,
          original_name: upload.name,
          media_type: upload.file.mediaType,
          size_bytes: upload.file.size,
          sha256: upload.file.sha256,
          storage_key: upload.file.key,
        })
        .returning('id')
      await trx('portal_requests')
        .where({ id: request.id })
        .update({
          answers: JSON.stringify({ ...request.answers, [question.key]: [...held, row.id] }),
          status: afterChange(request.status),
          version: trx.raw('version + 1'),
        })
      await portalAudit(trx, actor, request, 'portal.file_uploaded', {
        question: question.key,
        name: upload.name,
        media_type: upload.file.mediaType,
        size_bytes: upload.file.size,
        sha256: upload.file.sha256,
      })
    })
  } catch (error) {
    await upload.discard()
    throw error
  }
}

/** Removes one of the request's uploads (before it is submitted); its bytes are deleted once committed. */
export async function removeUpload(db: Db, storage: DocumentStorage, actor: PortalActor, uploadId: string) {
  const key = await db.transaction(async (trx) => {
    const request = await lockSessionRequest(trx, actor.session)
    checkEditable(request.state)
    const [removed] = await trx('portal_uploads')
      .where({ company_id: request.company_id, request_id: request.id, id: uploadId })
      .whereNull('document_id')
      .delete()
      .returning(['storage_key', 'question_key', 'original_name'])
    if (!removed) throw new NotFoundError('upload')
    await trx('storage_deletions').insert({ storage_key: removed.storage_key }).onConflict('storage_key').ignore()
    const held = request.answers[removed.question_key]
    const rest = Array.isArray(held) ? (held as string[]).filter((id) => id !== uploadId) : []
    const answers: Record<string, unknown> = { ...request.answers, [removed.question_key]: rest }
    if (rest.length === 0) delete answers[removed.question_key]
    await trx('portal_requests')
      .where({ id: request.id })
      .update({
        answers: JSON.stringify(answers),
        status: afterChange(request.status),
        version: trx.raw('version + 1'),
      })
    await portalAudit(trx, actor, request, 'portal.file_removed', {
      question: removed.question_key,
      name: removed.original_name,
    })
    return removed.storage_key as string
  })
  // The row is gone; the bytes follow (the sweep retries if this fails).
  await storage.delete(key).then(
    () => db('storage_deletions').where({ storage_key: key }).delete(),
    () => undefined,
  )
}

/**
 * Submits the request: every answer is checked against the whole questionnaire first. Once: the request is
 * locked, and a second submit (a double click, two tabs) finds it submitted and is refused.
 */
export async function submitRequest(db: Db, actor: PortalActor, publicUrl: string): Promise<void> {
  await db.transaction(async (trx) => {
    const request = await lockSessionRequest(trx, actor.session)
    checkEditable(request.state)
    const questionnaire = questionnaireOfRequest(request)
    const problems = validateAnswers(questionnaire, request.answers as Answers, { complete: true })
    const errors = new FormErrors()
    for (const [field, message] of Object.entries(problems)) errors.add(field, message)
    RuleError.throwIf(errors)
    const previous = await trx('portal_submissions').where({ request_id: request.id }).max('n as n').first()
    const n = Number(previous?.n ?? 0) + 1
    await trx('portal_submissions').insert({
      company_id: request.company_id,
      request_id: request.id,
      n,
      answers: JSON.stringify(request.answers),
    })
    await trx('portal_requests')
      .where({ id: request.id })
      .update({
        status: 'submitted',
        submitted_at: trx.fn.now(),
        update_reasons: '{}',
        version: trx.raw('version + 1'),
      })
    await portalAudit(trx, actor, request, 'portal.submitted', { submission: n })
    const context = await trx('entities as e')
      .join('companies as co', 'co.id', 'e.company_id')
      .where('e.id', request.entity_id)
      .first('e.name as client_name', 'co.name as company_name')
    // Whoever sent the request is told, while they may still work on it: active, with a self-service
    // permission, and with access to the client (the same rule as every client page).
    const staff = await trx('users as u')
      .join('companies as c', 'c.id', 'u.company_id')
      .where({ 'u.id': request.created_by, 'u.company_id': request.company_id, 'u.active': true })
      .where(usersWithAccessSql(trx, request.entity_id, 'u'))
      .whereExists(
        trx('user_permissions as p')
          .whereRaw('p.user_id = u.id')
          .whereIn('p.permission', [...PORTAL_REQUEST_PERMISSIONS, 'system_administrator']),
      )
      .first('u.email')
    await enqueueEmail(trx, {
      companyId: request.company_id,
      to: request.email,
      subject: `${isolate(context.company_name)} received your answers`,
      text: [
        'Hello,',
        '',
        `${isolate(context.company_name)} received your answers and documents about ${isolate(context.client_name)}.`,
        'They will look at them and tell you if anything needs updating. You do not need to do anything now.',
      ].join('\n'),
    })
    if (staff) {
      await enqueueEmail(trx, {
        companyId: request.company_id,
        to: staff.email,
        subject: `Self-service submission received: ${isolate(context.client_name)}`,
        text: [
          `${isolate(context.client_name)} submitted the questionnaire you sent to ${request.email}.`,
          '',
          'Review it and approve it or ask for updates:',
          `${publicUrl}/entities/${request.entity_id}/portal-requests/${request.id}`,
        ].join('\n'),
      })
    }
  })
}
