import type { FastifyRequest } from 'fastify'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { findUserInCompany, type ManagedUser } from './queries.js'

/** The user a `/settings/users/:id/…` route is about, of the reader's company; 404 otherwise (a foreign id looks like no id). */
export async function routeUser(request: FastifyRequest<{ Params: { id: string } }>): Promise<ManagedUser> {
  const { id } = request.params
  const target = isUuid(id)
    ? await findUserInCompany(request.server.db, signedInUser(request).companyId, id)
    : undefined
  if (!target) throw new NotFoundError('user')
  return target
}
