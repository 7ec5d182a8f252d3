import type { Knex } from 'knex'
import { FILLING_STATUSES, type PortalAction, type PortalState, portalActionsFor, whyNot } from '../access/portal.js'
import { auditTarget, writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { flushStorageDeletions } from '../documents/service.js'
import type { EntityKind } from '../entities/reference.js'
import { FormErrors } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'
import { isUuid, NotFoundError } from '../http/params.js'
import { endPortalSessionsOf } from '../identity/portal-sessions.js'
import { newSecret, secretHash } from '../identity/secrets.js'
import { enqueueEmail } from '../mail/outbox.js'
import type { DocumentStorage } from '../storage/document-storage.js'
import { fromJsonSchema, type Questionnaire, toJsonSchema } from './questionnaire.js'
import { portalSettings, questionnaireOf } from './settings.js'

/**
 * A request's state in SQL: the stored status; 'expired' for one still being filled in past its date; and
 * 'revoked' for one not yet approved whose client is in the recycle bin (its link stops working, and works
 * again if the client is restored).
 */
export function stateSql(alias = 'r'): string {
  return `CASE
    WHEN ${alias}.status NOT IN ('approved', 'revoked')
      AND EXISTS (SELECT 1 FROM entities binned WHERE binned.id = ${alias}.entity_id AND binned.deleted_at IS NOT NULL)
      THEN 'revoked'
    WHEN ${alias}.status IN ('sent', 'opened', 'draft', 'updates_requested') AND ${alias}.expires_at <= now()
      THEN 'expired'
    ELSE ${alias}.status END`
}

export interface PortalRequestRow {
  id: string
  company_id: string
  entity_id: string
  email: string
  message: string
  schema: unknown
  status: string
  state: PortalState
  answers: Record<string, unknown>
  update_reasons: Record<string, string>
  expires_at: Date
  version: number
  created_by: string
  created_by_name: string | null
  created_at: Date
  link_sent_at: Date
  opened_at: Date | null
  submitted_at: Date | null
  decided_at: Date | null
  decided_by_name: string | null
  revoked_at: Date | null
}

function requestQuery(db: Db | Knex.Transaction) {
  return db('portal_requests as r')
    .leftJoin('users as c', 'c.id', 'r.created_by')
    .leftJoin('users as d', 'd.id', 'r.decided_by')
    .select('r.*', db.raw(`${stateSql('r')} AS state`), 'c.name as created_by_name', 'd.name as decided_by_name')
}

/** A client's requests, newest first. */
export async function requestsOfClient(db: Db, companyId: string, entityId: string): Promise<PortalRequestRow[]> {
  return requestQuery(db).where({ 'r.company_id': companyId, 'r.entity_id': entityId }).orderBy('r.created_at', 'desc')
}

/** One request of a client, or undefined. */
export async function requestOfClient(
  db: Db | Knex.Transaction,
  companyId: string,
  entityId: string,
  id: string,
): Promise<PortalRequestRow | undefined> {
  return requestQuery(db).where({ 'r.company_id': companyId, 'r.entity_id': entityId, 'r.id': id }).first()
}

/** The request of a portal session (its company and id come from the session, never from the URL). */
export async function requestOfSession(
  db: Db | Knex.Transaction,
  session: { companyId: string; requestId: string },
): Promise<PortalRequestRow> {
  const row = await requestQuery(db).where({ 'r.company_id': session.companyId, 'r.id': session.requestId }).first()
  if (!row) throw new NotFoundError('request')
  return row
}

/** The request a link's token opens, with its company's name, or undefined for a token nobody holds. */
export async function requestOfToken(db: Db | Knex.Transaction, token: string) {
  return requestQuery(db)
    .join('companies as co', 'co.id', 'r.company_id')
    .where('r.token_hash', secretHash(token))
    .first('co.name as company_name')
}

export function questionnaireOfRequest(request: Pick<PortalRequestRow, 'schema'>): Questionnaire {
  return fromJsonSchema(request.schema)
}

/** Locks a request of a client and returns it with its state, or throws 404. */
export async function lockRequest(trx: Knex.Transaction, companyId: string, entityId: string | null, id: string) {
  if (!isUuid(id)) throw new NotFoundError('request')
  const locked = await trx('portal_requests')
    .where({ company_id: companyId, id, ...(entityId ? { entity_id: entityId } : {}) })
    .forUpdate()
    .first('id')
  if (!locked) throw new NotFoundError('request')
  return (await requestQuery(trx).where('r.id', id).first()) as PortalRequestRow
}

/** Refuses a step the user may not take on the request in its state (src/access/portal.ts decides). */
export function checkAction(
  actor: RequestActor,
  request: PortalRequestRow,
  action: PortalAction,
  shownVersion?: number,
) {
  if (shownVersion !== undefined && shownVersion !== request.version) {
    throw new RuleError(
      'request',
      'This request changed after you opened this page, and nothing was done: look at it again.',
      { status: 409 },
    )
  }
  if (!portalActionsFor(actor.user, request.state)[action]) {
    throw new RuleError('request', whyNot(action, request.state), { status: 409 })
  }
}

const dateWords = (d: Date) =>
  d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })

interface LinkEmail {
  companyId: string
  companyName: string
  contact: string
  to: string
  clientName: string
  link: string
  token: string
  expiresAt: Date
}

/** The email with a portal link: the first one, a link sent again, a reminder, or updates requested. */
export async function enqueueLinkEmail(
  trx: Knex.Transaction,
  email: LinkEmail,
  kind: 'request' | 'resend' | 'reminder' | 'updates',
  extra: string[] = [],
  dedupeKey?: string,
) {
  const company = isolate(email.companyName)
  const opening: Record<typeof kind, string[]> = {
    request: [
      `${company} asks you to answer a few questions about ${isolate(email.clientName)} and to upload some documents, through their secure portal.`,
    ],
    resend: [
      `${company} sent you a new link to their secure portal, for ${isolate(email.clientName)}. Links sent earlier no longer work.`,
    ],
    reminder: [
      `A reminder: ${company} is waiting for your answers about ${isolate(email.clientName)}. The link expires on ${dateWords(email.expiresAt)}. Links sent earlier no longer work: use this one.`,
    ],
    updates: [
      `${company} looked at what you sent about ${isolate(email.clientName)} and asks you to update some of it.`,
    ],
  }
  const subject: Record<typeof kind, string> = {
    request: `${company} asks you to complete their questionnaire`,
    resend: `${company}: your new link to complete their questionnaire`,
    reminder: `Reminder: ${company} is waiting for your answers`,
    updates: `${company} asks you to update your answers`,
  }
  await enqueueEmail(trx, {
    companyId: email.companyId,
    to: email.to,
    subject: subject[kind],
    text: [
      'Hello,',
      '',
      ...opening[kind],
      ...(extra.length > 0 ? ['', ...extra] : []),
      '',
      `Open this link to continue (it works until ${dateWords(email.expiresAt)}; you can save your answers and come back):`,
      '',
      email.link,
      '',
      `Questions? Contact ${company}: ${email.contact || 'reply to this email'}.`,
      'If you did not expect this email, you can ignore it.',
    ].join('\n'),
    redact: [email.token],
    dedupeKey,
  })
}

/**
 * A fresh link for a request: a new token (its hash replaces the old one, so earlier links stop working), a
 * new expiry date, and the portal sessions of the old link ended. Returns the token, for the email.
 */
export async function renewLink(trx: Knex.Transaction, request: { id: string; company_id: string }, days: number) {
  const token = newSecret()
  const [row] = await trx('portal_requests')
    .where({ id: request.id })
    .update({
      token_hash: secretHash(token),
      expires_at: trx.raw('now() + make_interval(days => ?)', [days]),
      link_sent_at: trx.fn.now(),
      reminded_at: null,
      version: trx.raw('version + 1'),
    })
    .returning('expires_at')
  await endPortalSessionsOf(trx, request.company_id, request.id)
  return { token, expiresAt: row.expires_at as Date }
}

export const linkOf = (publicUrl: string, token: string) => `${publicUrl}/p/${token}`

/** The link email of a step staff take on a request: from the acting user's company, to the request's address. */
export function staffLinkEmail(
  actor: RequestActor,
  contact: string,
  to: string,
  clientName: string,
  link: { token: string; expiresAt: Date },
): LinkEmail {
  return {
    companyId: actor.user.companyId,
    companyName: actor.user.companyName,
    contact,
    to,
    clientName,
    link: linkOf(actor.publicUrl, link.token),
    token: link.token,
    expiresAt: link.expiresAt,
  }
}

export interface SendInput {
  email: string
  message: string
}

export function validateSend(input: SendInput): SendInput {
  const errors = new FormErrors()
  const email = input.email.trim()
  if (!email) errors.add('email', "Enter the client's email address")
  else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || email.length > 254)
    errors.add('email', 'Enter an email address like name@example.com')
  if (input.message.length > 4000) errors.add('message', 'Enter a message of at most 4,000 characters')
  RuleError.throwIf(errors)
  return { email, message: input.message.trim() }
}

/** Sends a client a portal request: the questionnaire of its kind as it is now, and a link by email. */
export async function sendRequest(
  db: Db,
  actor: RequestActor,
  client: { id: string; name: string; kind: EntityKind },
  input: SendInput,
): Promise<string> {
  const companyId = actor.user.companyId
  const [settings, { questionnaire }] = await Promise.all([
    portalSettings(db, companyId),
    questionnaireOf(db, companyId, client.kind),
  ])
  return db.transaction(async (trx) => {
    const token = newSecret()
    const [row] = await trx('portal_requests')
      .insert({
        company_id: companyId,
        entity_id: client.id,
        email: input.email,
        message: input.message,
        schema: JSON.stringify(toJsonSchema(questionnaire)),
        token_hash: secretHash(token),
        expires_at: trx.raw('now() + make_interval(days => ?)', [settings.linkValidDays]),
        created_by: actor.user.id,
      })
      .returning(['id', 'expires_at'])
    await auditTarget(trx, actor, 'entity', client.id, 'portal.request_sent', undefined, {
      request: row.id,
      email: input.email,
      expires_at: row.expires_at,
      questions: questionnaire.questions.length,
    })
    const extra = input.message ? [`Message from ${isolate(actor.user.name)}:`, input.message] : []
    await enqueueLinkEmail(
      trx,
      staffLinkEmail(actor, settings.contact, input.email, client.name, { token, expiresAt: row.expires_at }),
      'request',
      extra,
    )
    return row.id as string
  })
}

/** Sends a request's link again: a new one, valid for the company's number of days from now. */
export async function resendRequest(
  db: Db,
  actor: RequestActor,
  client: { id: string; name: string },
  requestId: string,
  shownVersion: number,
) {
  const companyId = actor.user.companyId
  const settings = await portalSettings(db, companyId)
  await db.transaction(async (trx) => {
    const request = await lockRequest(trx, companyId, client.id, requestId)
    checkAction(actor, request, 'resend', shownVersion)
    const { token, expiresAt } = await renewLink(trx, request, settings.linkValidDays)
    await auditTarget(
      trx,
      actor,
      'entity',
      client.id,
      'portal.link_resent',
      { expires_at: request.expires_at },
      {
        request: request.id,
        expires_at: expiresAt,
      },
    )
    await enqueueLinkEmail(
      trx,
      staffLinkEmail(actor, settings.contact, request.email, client.name, { token, expiresAt }),
      'resend',
    )
  })
}

/** Revokes a request: its link and its portal sessions stop working at once. */
export async function revokeRequest(
  db: Db,
  storage: DocumentStorage,
  actor: RequestActor,
  clientId: string,
  requestId: string,
  shownVersion: number,
) {
  const companyId = actor.user.companyId
  await db.transaction(async (trx) => {
    const request = await lockRequest(trx, companyId, clientId, requestId)
    checkAction(actor, request, 'revoke', shownVersion)
    await trx('portal_requests')
      .where({ id: request.id })
      .update({
        status: 'revoked',
        revoked_at: trx.fn.now(),
        revoked_by: actor.user.id,
        version: trx.raw('version + 1'),
      })
    await endPortalSessionsOf(trx, companyId, request.id)
    // What the client uploaded and nobody filed is not kept once the request is withdrawn.
    const removed: { storage_key: string; original_name: string }[] = await trx('portal_uploads')
      .where({ company_id: companyId, request_id: request.id })
      .whereNull('document_id')
      .delete()
      .returning(['storage_key', 'original_name'])
    if (removed.length > 0) {
      await trx('storage_deletions')
        .insert(removed.map((u) => ({ storage_key: u.storage_key })))
        .onConflict('storage_key')
        .ignore()
    }
    await auditTarget(
      trx,
      actor,
      'entity',
      clientId,
      'portal.request_revoked',
      { state: request.state },
      {
        request: request.id,
        state: 'revoked',
        uploads_deleted: removed.map((u) => u.original_name),
      },
    )
  })
  await flushStorageDeletions(db, storage)
}

/** How many days before expiry an unsubmitted request gets its reminder. */
export const REMINDER_DAYS_BEFORE = 3

/**
 * Sends the reminder of each request still being filled in that expires within REMINDER_DAYS_BEFORE days,
 * was sent more than a day ago and has had no reminder since its link was last sent. The reminder carries a
 * fresh link (the request keeps its expiry date): the earlier links stop working, since only the newest
 * token's hash is kept; an open portal session goes on. Each request is claimed with SKIP LOCKED, so two runs never remind one twice.
 */
export async function sendReminders(db: Db, publicUrl: string): Promise<number> {
  let sent = 0
  for (;;) {
    const done = await db.transaction(async (trx) => {
      const request = await trx('portal_requests as r')
        .join('entities as e', 'e.id', 'r.entity_id')
        .join('companies as co', 'co.id', 'r.company_id')
        .whereIn('r.status', FILLING_STATUSES)
        .whereNull('r.reminded_at')
        .whereNull('e.deleted_at')
        .andWhere('r.expires_at', '>', trx.fn.now())
        .andWhere('r.expires_at', '<=', trx.raw('now() + make_interval(days => ?)', [REMINDER_DAYS_BEFORE]))
        .andWhere('r.link_sent_at', '<', trx.raw("now() - interval '1 day'"))
        .forUpdate('r')
        .skipLocked()
        .first(
          'r.id',
          'r.company_id',
          'r.entity_id',
          'r.email',
          'r.expires_at',
          'e.name as client_name',
          'co.name as company_name',
        )
      if (!request) return false
      const token = newSecret()
      await trx('portal_requests')
        .where({ id: request.id })
        .update({ token_hash: secretHash(token), reminded_at: trx.fn.now(), version: trx.raw('version + 1') })
      // Portal sessions are bound to the request, not to a link: a client filling it in now stays signed in.
      const settings = await portalSettings(db, request.company_id)
      await enqueueLinkEmail(
        trx,
        {
          companyId: request.company_id,
          companyName: request.company_name,
          contact: settings.contact,
          to: request.email,
          clientName: request.client_name,
          link: linkOf(publicUrl, token),
          token,
          expiresAt: request.expires_at,
        },
        'reminder',
        [],
        `portal-reminder:${request.id}:${new Date(request.expires_at).toISOString()}`,
      )
      await writeAudit(trx, {
        companyId: request.company_id,
        actorUserId: null,
        action: 'portal.reminder_sent',
        targetType: 'entity',
        targetId: request.entity_id,
        after: { request: request.id, expires_at: request.expires_at },
      })
      return true
    })
    if (!done) return sent
    sent++
  }
}
