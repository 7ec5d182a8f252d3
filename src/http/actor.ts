import type { FastifyRequest } from 'fastify'
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
