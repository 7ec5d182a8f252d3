import type { FastifyRequest } from 'fastify'
import type { Db } from '../db/knex.js'
import { findUserById } from '../identity/user-row.js'
import { currentUserOf } from '../plugins/app/current-user.js'
import type { CurrentUser } from '../types.js'
import { signedInUser } from './params.js'

/** Who acts in a request, as services and the audit trail need it. */
export interface RequestActor {
  user: CurrentUser
  ip: string
  /** Where KYC Desk is reached, for links in the emails a change causes. */
  publicUrl: string
}

/** The signed-in user of a guarded route, their address, and the public URL for email links. */
export function requestActor(request: FastifyRequest): RequestActor {
  return { user: signedInUser(request), ip: request.ip, publicUrl: request.server.config.publicUrl }
}

/**
 * A user as the services see a signed-in one, read from the database: for work done on a user's behalf
 * outside a request (the demo seed; tests that call a service straight).
 */
export async function actorOfUser(db: Db, userId: string, publicUrl = ''): Promise<RequestActor> {
  const row = await findUserById(db, userId)
  if (!row) throw new Error(`no user ${userId}`)
  return { user: currentUserOf(row), ip: '127.0.0.1', publicUrl }
}
