import type { Knex } from 'knex'
import {
  type AccessSubject,
  hasAccessTo,
  maySharePredicate,
  sharingRights,
  usersWhoMayShareSql,
} from '../access/client-access.js'
import type { Db } from '../db/knex.js'
import type { Entity } from '../entities/queries.js'
import { type EntityActor, entityAudit } from '../entities/service.js'
import { isolate } from '../forms/names.js'
import { enqueueEmail } from '../mail/outbox.js'
import { sharingRefused } from './refusal.js'

/**
 * The active users who may share a client (and so decide requests for it): administrators, the owner,
 * and — with Allow sharing options on — everyone with access. One query, with the access rule in SQL.
 */
export async function usersWhoMayShare(
  db: Db | Knex.Transaction,
  companyId: string,
  entity: Pick<Entity, 'id' | 'owner_user_id'>,
) {
  return db('users as u')
    .join('companies as c', 'c.id', 'u.company_id')
    .where({ 'u.company_id': companyId, 'u.active': true })
    .modify(usersWhoMayShareSql(db, entity))
    .select('u.id', 'u.name', 'u.email')
    .orderByRaw('lower(u.name)')
}

/** Asks for access to a client: one pending request per user and client; everyone who may share is emailed. */
export async function requestAccess(
  db: Db,
  actor: EntityActor,
  entity: Entity,
  message: string,
  publicUrl: string,
): Promise<void> {
  if (!actor.user.company.allowAccessRequests)
    throw sharingRefused('Requesting access is switched off in your company.')
  await db.transaction(async (trx) => {
    if (await hasAccessTo(trx, actor.user, entity.id)) throw sharingRefused('You already have access to this client.')
    const request = await trx('access_requests')
      .insert({ company_id: actor.user.companyId, entity_id: entity.id, requester_id: actor.user.id, message })
      .returning('id')
      .then((rows) => rows[0] as { id: string })
      .catch((error: { code?: string }) => {
        if (error.code === '23505') {
          throw sharingRefused(
            'You have already asked for access to this client; your request is waiting for an answer.',
          )
        }
        throw error
      })
    const deciders = await usersWhoMayShare(trx, actor.user.companyId, entity)
    for (const to of deciders) {
      await enqueueEmail(trx, {
        companyId: actor.user.companyId,
        to: to.email,
        subject: `${isolate(actor.user.name)} asks for access to ${isolate(entity.name)}`,
        text: [
          `Hello ${isolate(to.name)},`,
          '',
          `${isolate(actor.user.name)} asks for access to the client relationship ${isolate(entity.name)}.`,
          message ? `Their message: “${message}”` : 'They left no message.',
          '',
          `Grant or decline: ${publicUrl}/access-requests/${request.id}`,
        ].join('\n'),
      })
    }
    await entityAudit(trx, actor, entity.id, 'access.requested', undefined, {
      request: request.id,
      message,
      notified: deciders.length,
    })
  })
}

export interface PendingRequest {
  id: string
  entity_id: string
  entity_name: string
  requester_name: string
  message: string
  created_at: Date
}

const requestColumns = [
  'r.id',
  'r.entity_id',
  'e.name as entity_name',
  'q.name as requester_name',
  'r.message',
  'r.created_at',
  'r.status',
  'r.reason',
]

/** Pending requests this user may decide (administrator, owner, or with sharing allowed, access). */
export async function requestsToDecide(db: Db, user: AccessSubject): Promise<PendingRequest[]> {
  return pendingToDecide(db, user).select(requestColumns).orderBy('r.created_at')
}

/** How many requests wait for this user's decision (the dashboard's count). */
export async function countRequestsToDecide(db: Db, user: AccessSubject): Promise<number> {
  const row = await pendingToDecide(db, user).count<{ n: number }[]>('r.id as n').first()
  return Number(row?.n ?? 0)
}

function pendingToDecide(db: Db, user: AccessSubject) {
  return db('access_requests as r')
    .join('entities as e', 'e.id', 'r.entity_id')
    .join('users as q', 'q.id', 'r.requester_id')
    .where({ 'r.company_id': user.companyId, 'r.status': 'pending' })
    .whereNull('e.deleted_at')
    .modify(maySharePredicate(db, user))
}

export async function findRequest(db: Db | Knex.Transaction, companyId: string, id: string) {
  return db('access_requests as r')
    .join('entities as e', 'e.id', 'r.entity_id')
    .join('users as q', 'q.id', 'r.requester_id')
    .where({ 'r.company_id': companyId, 'r.id': id })
    .whereNull('e.deleted_at')
    .first([...requestColumns, 'e.owner_user_id', 'r.requester_id', 'q.email as requester_email'])
}

/** Grants (a direct share) or declines (with an optional reason) a pending request; the requester is emailed. */
export async function decideRequest(
  db: Db,
  actor: EntityActor,
  requestId: string,
  decision: 'grant' | 'decline',
  reason: string,
): Promise<{ requester: string; entity: string }> {
  return db.transaction(async (trx) => {
    const request = await findRequest(trx, actor.user.companyId, requestId)
    if (!request) throw sharingRefused('That request does not exist.')
    await trx('access_requests').where({ id: request.id }).forUpdate().first()
    const current = await trx('access_requests').where({ id: request.id }).first('status')
    if (current.status !== 'pending') throw sharingRefused(`That request was already ${current.status}.`)
    const hasAccess = await hasAccessTo(trx, actor.user, request.entity_id)
    if (!sharingRights(actor.user, { owner_user_id: request.owner_user_id }, hasAccess).mayShare)
      throw sharingRefused('You cannot share this client.')
    await trx('access_requests')
      .where({ id: request.id })
      .update({
        status: decision === 'grant' ? 'granted' : 'declined',
        decided_by: actor.user.id,
        decided_at: trx.fn.now(),
        reason,
      })
    if (decision === 'grant') {
      await trx('client_shares')
        .insert({
          company_id: actor.user.companyId,
          entity_id: request.entity_id,
          user_id: request.requester_id,
          created_by: actor.user.id,
        })
        .onConflict()
        .ignore()
    }
    await enqueueEmail(trx, {
      companyId: actor.user.companyId,
      to: request.requester_email,
      subject: `Your access request for ${isolate(request.entity_name)} was ${decision === 'grant' ? 'granted' : 'declined'}`,
      text: [
        `Hello ${isolate(request.requester_name)},`,
        '',
        decision === 'grant'
          ? `${isolate(actor.user.name)} gave you access to ${isolate(request.entity_name)}.`
          : `${isolate(actor.user.name)} declined your request for access to ${isolate(request.entity_name)}.`,
        reason ? `Reason: ${reason}` : '',
      ]
        .filter((l) => l !== '')
        .join('\n'),
    })
    await entityAudit(
      trx,
      actor,
      request.entity_id,
      decision === 'grant' ? 'access.granted' : 'access.declined',
      { request: request.id, status: 'pending' },
      {
        request: request.id,
        requester: request.requester_id,
        reason,
      },
    )
    return { requester: request.requester_name as string, entity: request.entity_name as string }
  })
}
