import type { FastifyRequest } from 'fastify'
import { type Db, hotRead } from '../db/knex.js'
import { type Entity, selectEntity } from '../entities/queries.js'
import { type AccessSubject, hasAccessSql, type SharingRights, sharingRights } from './client-access.js'

/** What a client-scoped route's id names: a live client (most routes), or something in the recycle bin. */
export type ClientGateSubject = 'client' | 'deleted_client' | 'deleted_document'

/**
 * The client of a client-scoped request, loaded once by the guard and handed to the handler as
 * `request.client`: the client itself, whether the reader has access (SPEC section 3) and what they may
 * do with its sharing. Handlers never read the client again.
 */
export interface ClientContext {
  entity: Entity
  hasAccess: boolean
  rights: SharingRights
}

/**
 * The client of a route in one statement, or undefined when it does not exist for this user (unknown,
 * another company's, or not in the state the route expects). For a document in the recycle bin it is the
 * document's (live) client.
 */
export async function loadClientContext(
  db: Db,
  user: AccessSubject,
  id: string,
  subject: ClientGateSubject = 'client',
): Promise<ClientContext | undefined> {
  let base = db('entities as e').where('e.company_id', user.companyId)
  if (subject === 'deleted_document') {
    base = base
      .whereIn(
        'e.id',
        db('documents as d')
          .where({ 'd.company_id': user.companyId, 'd.id': id })
          .whereNotNull('d.deleted_at')
          .select('d.entity_id'),
      )
      .whereNull('e.deleted_at')
  } else {
    base = base.where('e.id', id)
    base = subject === 'deleted_client' ? base.whereNotNull('e.deleted_at') : base.whereNull('e.deleted_at')
  }
  const query = selectEntity(db, base)
    .select(db.raw('? AS has_access', [hasAccessSql(db, user)]))
    .first()
  // The live client's read is one of the few statements nearly every page makes: it goes on the read lane.
  const row = (await hotRead<(Entity & { has_access: boolean }) | undefined>(db, query)) ?? undefined
  if (!row) return undefined
  const { has_access: hasAccess, ...entity } = row
  return { entity, hasAccess, rights: sharingRights(user, entity, hasAccess) }
}

/** The client the guard loaded for this client-scoped request. */
export function clientOf(request: FastifyRequest): ClientContext {
  if (!request.client) throw new Error('only a client-scoped route (config.access.client) has a client')
  return request.client
}
