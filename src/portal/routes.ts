import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { accessibleClientsPredicate } from '../access/client-access.js'
import { clientOf } from '../access/client-context.js'
import { PORTAL_REQUEST_PERMISSIONS, type PortalState, portalActionsFor, STATE_WORDS } from '../access/portal.js'
import { sendStoredFile } from '../documents/send-file.js'
import type { Entity } from '../entities/queries.js'
import { countryName } from '../entities/reference.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import type { FormRerender } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, oneOf, pageNumber, signedInUser, withQuery } from '../http/params.js'
import { fields, formBody, formBodyWithRows, one, query } from '../http/schemas.js'
import type { CurrentUser } from '../types.js'
import { approveSubmission, REASON_MAX, requestUpdates } from './decisions.js'
import { uploadsOf } from './filling.js'
import { type Answers, answerText, KEY_PATTERN, type Question } from './questionnaire.js'
import {
  type PortalRequestRow,
  questionnaireOfRequest,
  requestOfClient,
  requestsOfClient,
  resendRequest,
  revokeRequest,
  sendRequest,
  stateSql,
  validateSend,
} from './requests.js'

const PAGE_SIZE = 50
const REASON_FIELD = `^reason-${KEY_PATTERN.slice(1, -1)}$`
const STATES = Object.keys(STATE_WORDS) as PortalState[]

/** A client's stored value of a field, as a person reads it. */
function clientValue(entity: Entity, question: Question): string {
  if (!question.field) return ''
  const value = entity[question.field]
  if (value === null || value === undefined || value === '') return ''
  return question.kind === 'country' ? countryName(String(value)) : String(value)
}

/**
 * A submission field by field against the client as it is now: for a question that fills in a client field,
 * the field's value; for the others, the answer approved last time (kept with the client).
 */
function comparison(
  entity: Entity & { portal_answers?: Record<string, unknown> },
  request: PortalRequestRow,
  kept: Answers,
) {
  const questionnaire = questionnaireOfRequest(request)
  const answers = request.answers as Answers
  return questionnaire.questions
    .filter((q) => q.kind !== 'file')
    .map((q) => {
      const now = q.field ? clientValue(entity, q) : answerText(q, kept[q.key])
      const sent = answerText(q, answers[q.key])
      return { question: q, now, sent, changed: sent !== '' && sent !== now }
    })
}

function stateOf(value: unknown): PortalState | undefined {
  return oneOf(STATES, value)
}

/** Staff's side of the portal: a client's requests, sending one, each request's page with its decisions. */
export default async function portalRequestRoutes(app: FastifyInstance) {
  const mayRequest = (user: CurrentUser) => PORTAL_REQUEST_PERMISSIONS.some((p) => user.permissions.has(p))

  app.addWorkItem({
    order: 40,
    shownTo: (user) => user.permissions.has('approve_self_service_submissions'),
    async count(_request, user) {
      const row = await app
        .db('portal_requests as r')
        .join('entities as e', 'e.id', 'r.entity_id')
        .where({ 'r.company_id': user.companyId, 'r.status': 'submitted' })
        .modify(accessibleClientsPredicate(app.db, user, 'e'))
        .count<{ n: string }>('* as n')
        .first()
      return Number(row?.n ?? 0)
    },
    label: (n) => `self-service submission${n === 1 ? '' : 's'} to approve`,
    href: '/self-service?state=submitted',
  })

  app.addClientSection({
    id: 'self-service',
    order: 35,
    template: '/portal/_client-section',
    async load(request, { entity }) {
      const user = signedInUser(request)
      if (!mayRequest(user)) return undefined
      const typed = request.method === 'POST' && request.url.endsWith('/portal-requests') ? request.body : undefined
      return {
        requests: await requestsOfClient(app.db, entity.company_id, entity.id),
        maySend: user.permissions.has('manage_self_service_requests'),
        values: { email: typed ? text(typed, 'email') : '', message: typed ? text(typed, 'message') : '' },
        stateWords: STATE_WORDS,
      }
    },
  })

  const again: FormRerender = (request, reply, errors) => reply.clientPage(clientOf(request), errors)

  app.post<{ Params: { id: string } }>(
    '/entities/:id/portal-requests',
    {
      config: { access: { permission: 'manage_self_service_requests', client: 'params.id' }, once: true, form: again },
      schema: { body: formBody(fields(['email', 'message'], 4000)) },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const input = validateSend({ email: text(request.body, 'email'), message: text(request.body, 'message') })
      const id = await sendRequest(app.db, requestActor(request), entity, input)
      reply.flash({ kind: 'success', text: `A self-service request was sent to ${input.email}.` })
      return reply.redirect(`/entities/${entity.id}/portal-requests/${id}`, 303)
    },
  )

  const clientRequest = async (request: FastifyRequest) => {
    const entity = clientOf(request).entity
    const id = (request.params as { request: string }).request
    const found = isUuid(id) ? await requestOfClient(app.db, entity.company_id, entity.id, id) : undefined
    if (!found) throw new NotFoundError('request')
    return found
  }

  const requestPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const entity = clientOf(request).entity
    const portalRequest = await clientRequest(request)
    const [uploads, kept, submissions] = await Promise.all([
      uploadsOf(app.db, entity.company_id, portalRequest.id),
      app.db('entities').where({ id: entity.id }).first('portal_answers'),
      app
        .db('portal_submissions as s')
        .leftJoin('users as u', 'u.id', 's.decided_by')
        .where({ 's.company_id': entity.company_id, 's.request_id': portalRequest.id })
        .orderBy('s.n', 'desc')
        .select('s.n', 's.submitted_at', 's.decision', 's.decided_at', 's.reasons', 'u.name as decided_by_name'),
    ])
    const questionnaire = questionnaireOfRequest(portalRequest)
    const typed = request.method === 'POST' ? (request.body as Record<string, unknown>) : undefined
    const answers = portalRequest.answers as Answers
    return reply.page('portal/request', {
      title: `Self-service request: ${isolate(entity.name)}`,
      entity,
      portalRequest,
      questionnaire,
      rows: comparison(entity, portalRequest, (kept?.portal_answers ?? {}) as Answers),
      files: questionnaire.questions
        .filter((q) => q.kind === 'file')
        .map((q) => ({
          question: q,
          uploads: uploads.filter((u) => Array.isArray(answers[q.key]) && (answers[q.key] as string[]).includes(u.id)),
        })),
      submissions,
      actions: portalActionsFor(user, portalRequest.state),
      stateWords: STATE_WORDS,
      reasons: Object.fromEntries(
        ['', ...questionnaire.questions.map((q) => q.key)].map((key) => [
          key,
          typed ? text(typed, key ? `reason-${key}` : 'reason') : '',
        ]),
      ),
      errors,
    })
  }

  const REQUEST_READ = { permission: PORTAL_REQUEST_PERMISSIONS, client: 'params.id' } as const
  app.get<{ Params: { id: string; request: string } }>(
    '/entities/:id/portal-requests/:request',
    { config: { access: REQUEST_READ } },
    (request, reply) => requestPage(request, reply),
  )

  const versionOf = (body: unknown) => {
    const v = text(body, 'version')
    return /^\d{1,9}$/.test(v) ? Number(v) : -1
  }

  app.post<{ Params: { id: string; request: string } }>(
    '/entities/:id/portal-requests/:request/approve',
    {
      config: {
        access: { permission: 'approve_self_service_submissions', client: 'params.id' },
        form: requestPage,
      },
      schema: { body: formBody(fields(['version'], 20)) },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const done = await approveSubmission(
        app.db,
        requestActor(request),
        entity.id,
        request.params.request,
        versionOf(request.body),
      )
      const parts = [
        done.changed.length > 0 ? `${done.changed.length} of the client’s details changed` : 'no client detail changed',
        `${done.filed} document${done.filed === 1 ? '' : 's'} filed`,
      ]
      reply.flash({ kind: 'success', text: `The submission was approved: ${parts.join(', ')}.` })
      return reply.redirect(`/entities/${entity.id}/portal-requests/${request.params.request}`, 303)
    },
  )

  app.post<{ Params: { id: string; request: string } }>(
    '/entities/:id/portal-requests/:request/request-updates',
    {
      config: { access: REQUEST_READ, form: requestPage },
      schema: {
        body: formBodyWithRows({ version: one(20), reason: one(REASON_MAX) }, { [REASON_FIELD]: REASON_MAX }),
      },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const body = request.body as Record<string, unknown>
      const reasons: Record<string, string> = { '': text(body, 'reason').trim() }
      for (const name of Object.keys(body)) {
        if (name.startsWith('reason-')) reasons[name.slice('reason-'.length)] = text(body, name).trim()
      }
      await requestUpdates(app.db, requestActor(request), entity, request.params.request, versionOf(body), reasons)
      reply.flash({ kind: 'success', text: 'Updates were requested: the client was sent a new link by email.' })
      return reply.redirect(`/entities/${entity.id}/portal-requests/${request.params.request}`, 303)
    },
  )

  const MANAGE = { permission: 'manage_self_service_requests', client: 'params.id' } as const
  app.post<{ Params: { id: string; request: string } }>(
    '/entities/:id/portal-requests/:request/resend',
    { config: { access: MANAGE, form: requestPage }, schema: { body: formBody(fields(['version'], 20)) } },
    async (request, reply) => {
      const entity = clientOf(request).entity
      await resendRequest(app.db, requestActor(request), entity, request.params.request, versionOf(request.body))
      reply.flash({ kind: 'success', text: 'A new link was sent. Links sent earlier no longer work.' })
      return reply.redirect(`/entities/${entity.id}/portal-requests/${request.params.request}`, 303)
    },
  )

  app.post<{ Params: { id: string; request: string } }>(
    '/entities/:id/portal-requests/:request/revoke',
    { config: { access: MANAGE, form: requestPage }, schema: { body: formBody(fields(['version'], 20)) } },
    async (request, reply) => {
      const entity = clientOf(request).entity
      await revokeRequest(
        app.db,
        app.storage,
        requestActor(request),
        entity.id,
        request.params.request,
        versionOf(request.body),
      )
      reply.flash({ kind: 'success', text: 'The request was revoked: its link no longer works.' })
      return reply.redirect(`/entities/${entity.id}/portal-requests/${request.params.request}`, 303)
    },
  )

  // A file the client uploaded, before it is filed (after, it is one of the client's documents).
  app.get<{ Params: { id: string; request: string; upload: string } }>(
    '/entities/:id/portal-requests/:request/uploads/:upload',
    { config: { access: REQUEST_READ } },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const portalRequest = await clientRequest(request)
      const { upload: uploadId } = request.params
      const upload = isUuid(uploadId)
        ? await app
            .db('portal_uploads')
            .where({ company_id: entity.company_id, request_id: portalRequest.id, id: uploadId })
            .first()
        : undefined
      if (!upload) throw new NotFoundError('upload')
      if (upload.document_id) return reply.redirect(`/entities/${entity.id}/documents/${upload.document_id}`, 303)
      return sendStoredFile(reply, app.storage, upload)
    },
  )

  // Every request across the clients the reader may open, by state.
  app.get<{ Querystring: { state?: string; page?: string } }>(
    '/self-service',
    {
      config: { access: { permission: PORTAL_REQUEST_PERMISSIONS } },
      schema: { querystring: query({ state: one(40), page: one(20) }) },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const state = stateOf(request.query.state)
      const page = pageNumber(request.query.page)
      const rows = await app
        .db('portal_requests as r')
        .join('entities as e', 'e.id', 'r.entity_id')
        .leftJoin('users as c', 'c.id', 'r.created_by')
        .where('r.company_id', user.companyId)
        .modify(accessibleClientsPredicate(app.db, user, 'e'))
        .modify((q) => {
          if (state) q.whereRaw(`${stateSql('r')} = ?`, [state])
        })
        .orderBy([
          { column: 'r.created_at', order: 'desc' },
          { column: 'r.id', order: 'desc' },
        ])
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
        .select(
          'r.id',
          'r.entity_id',
          'r.email',
          'r.created_at',
          'r.expires_at',
          'r.submitted_at',
          app.db.raw(`${stateSql('r')} AS state`),
          'e.name as client_name',
          'c.name as created_by_name',
        )
      return reply.page('portal/requests', {
        title: 'Self-service requests',
        rows: rows.slice(0, PAGE_SIZE),
        state: state ?? '',
        states: STATES.map((s) => ({ value: s, label: STATE_WORDS[s] })),
        stateWords: STATE_WORDS,
        prevUrl: page > 1 ? withQuery('/self-service', { state }, { page: page - 1 }) : undefined,
        nextUrl: rows.length > PAGE_SIZE ? withQuery('/self-service', { state }, { page: page + 1 }) : undefined,
      })
    },
  )
}
