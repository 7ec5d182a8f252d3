import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import type { Flash } from '../types.js'
import { isSecretShape, newSecret, secretHash } from './secrets.js'

/**
 * Portal sessions: a client who opened a portal link and pressed Continue. Apart from staff sessions in every
 * way: their own cookie, their own table, bound to one request, a short idle timeout. The cookie holds a
 * random secret; the table holds its hash.
 */
export const PORTAL_SESSION = { idleMinutes: 30, absoluteHours: 8 } as const

export interface PortalSession {
  idHash: string
  companyId: string
  requestId: string
  csrfSecret: string
  flash: Flash | null
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The portal session of a portal route, loaded by the guard; null everywhere else. */
    portal: PortalSession | null
  }
}

export const portalCookieName = (secure: boolean) => (secure ? '__Host-kyc.portal' : 'kyc.portal')

/** Starts a portal session for a request, in the caller's transaction; returns the cookie's secret. */
export async function startPortalSession(
  trx: Knex.Transaction,
  request: { company_id: string; id: string },
  csrfSecret: string,
): Promise<string> {
  const secret = newSecret()
  await trx('portal_sessions').insert({
    id_hash: secretHash(secret),
    company_id: request.company_id,
    request_id: request.id,
    csrf_secret: csrfSecret,
  })
  return secret
}

export function setPortalCookie(reply: FastifyReply, secret: string, secure: boolean): void {
  reply.setCookie(portalCookieName(secure), secret, { path: '/', httpOnly: true, sameSite: 'strict', secure })
}

export function clearPortalCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(portalCookieName(secure), { path: '/', httpOnly: true, sameSite: 'strict', secure })
}

/**
 * The live portal session of a request's cookie, or undefined: unknown, idle too long or too old. Its last
 * activity is refreshed at most once a minute.
 */
export async function loadPortalSession(
  db: Db,
  request: FastifyRequest,
  secure: boolean,
): Promise<PortalSession | undefined> {
  const secret = request.cookies[portalCookieName(secure)]
  if (!isSecretShape(secret)) return undefined
  const idHash = secretHash(secret)
  // A session of a revoked request, or of a client moved to the recycle bin, is over too: it shows nothing more.
  const row = await db('portal_sessions as s')
    .join('portal_requests as r', function () {
      this.on('r.company_id', 's.company_id').andOn('r.id', 's.request_id')
    })
    .join('entities as e', 'e.id', 'r.entity_id')
    .where({ 's.id_hash': idHash })
    .andWhere('s.last_seen_at', '>', db.raw('now() - make_interval(mins => ?)', [PORTAL_SESSION.idleMinutes]))
    .andWhere('s.created_at', '>', db.raw('now() - make_interval(hours => ?)', [PORTAL_SESSION.absoluteHours]))
    .whereNot('r.status', 'revoked')
    .whereNull('e.deleted_at')
    .first('s.company_id', 's.request_id', 's.csrf_secret', 's.flash')
  if (!row) return undefined
  await db('portal_sessions')
    .where({ id_hash: idHash })
    .andWhere('last_seen_at', '<', db.raw("now() - interval '1 minute'"))
    .update({ last_seen_at: db.fn.now() })
  return { idHash, companyId: row.company_id, requestId: row.request_id, csrfSecret: row.csrf_secret, flash: row.flash }
}

/** Remembers a message for the next portal page of this session. */
export async function setPortalFlash(db: Db, session: PortalSession, flash: Flash | null): Promise<void> {
  await db('portal_sessions')
    .where({ id_hash: session.idHash })
    .update({ flash: flash ? JSON.stringify(flash) : null })
}

export async function endPortalSession(db: Db, session: PortalSession): Promise<void> {
  await db('portal_sessions').where({ id_hash: session.idHash }).delete()
}

/** Ends every portal session of a request: its link changed, it was revoked or decided. */
export async function endPortalSessionsOf(trx: Knex | Knex.Transaction, companyId: string, requestId: string) {
  await trx('portal_sessions').where({ company_id: companyId, request_id: requestId }).delete()
}

/** Removes sessions past their idle or absolute limit (the housekeeping job). */
export async function deleteExpiredPortalSessions(db: Db): Promise<number> {
  return db('portal_sessions')
    .where('last_seen_at', '<', db.raw('now() - make_interval(mins => ?)', [PORTAL_SESSION.idleMinutes]))
    .orWhere('created_at', '<', db.raw('now() - make_interval(hours => ?)', [PORTAL_SESSION.absoluteHours]))
    .delete()
}
