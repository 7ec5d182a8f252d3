import Tokens from '@fastify/csrf'
import type { FastifyReply, FastifyRequest } from 'fastify'

// The same token scheme and defaults as @fastify/csrf-protection, which creates the session's tokens.
export const csrfTokens = Tokens()

/** The cookie that holds the CSRF secret of a visitor who has no session yet (the sign-in form). */
const cookieName = (secure: boolean) => (secure ? '__Host-kyc.form' : 'kyc.form')

/**
 * A CSRF token for a visitor who is not signed in, without creating a session: the secret goes into a
 * signed, HttpOnly cookie (double submit), so showing the sign-in page writes nothing to the database.
 * The session's own secret takes over once there is a session.
 */
export function anonymousCsrfToken(reply: FastifyReply, secure: boolean): string {
  let secret = anonymousCsrfSecret(reply.request, secure)
  if (!secret) {
    secret = csrfTokens.secretSync()
    reply.setCookie(cookieName(secure), secret, { path: '/', httpOnly: true, sameSite: 'lax', secure, signed: true })
  }
  return csrfTokens.create(secret)
}

/** The secret of that cookie when its signature holds. */
export function anonymousCsrfSecret(request: FastifyRequest, secure: boolean): string | undefined {
  const raw = request.cookies[cookieName(secure)]
  if (!raw) return undefined
  const unsigned = request.unsignCookie(raw)
  return unsigned.valid && unsigned.value ? unsigned.value : undefined
}
