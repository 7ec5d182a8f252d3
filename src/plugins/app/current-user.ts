import fp from 'fastify-plugin'
import { effectivePermissions } from '../../access/permissions.js'
import { touchSession } from '../../identity/session-store.js'
import { findUserById, type UserRow } from '../../identity/user-row.js'
import type { CurrentUser } from '../../types.js'

/** The user as a request knows them: their row, with the permissions their granted ones switch on. */
export function currentUserOf(row: UserRow): CurrentUser {
  return {
    id: row.id,
    companyId: row.company_id,
    companyName: row.company_name,
    name: row.name,
    email: row.email,
    granted: new Set(row.granted),
    permissions: effectivePermissions(row.granted),
    shareAllClients: row.share_all_clients,
    twoFactor: { companyRequires: row.two_factor_required, enrolled: row.has_two_factor },
    company: {
      clientAccessEnabled: row.client_access_enabled,
      allowSharing: row.allow_sharing,
      allowAccessRequests: row.allow_access_requests,
    },
  }
}

/**
 * Reads the signed-in user afresh on every request (one query), so a change of permissions, a
 * deactivation or a sign-out takes effect on the user's very next request.
 */
export default fp(
  async (app) => {
    app.decorateRequest('user', null)
    app.addHook('onRequest', async (request) => {
      const { session } = request
      if (!session?.userId) return
      // Usually read together with the session (one round trip); read here when it was not.
      const prefetched = app.sessionStore.takeUser(session.sessionId)
      const row = prefetched === undefined ? await findUserById(app.db, session.userId) : (prefetched ?? undefined)
      const ended =
        row?.sessions_valid_after != null &&
        !(session.startedAt && new Date(session.startedAt).getTime() >= new Date(row.sessions_valid_after).getTime())
      if (!row?.active || row.company_id !== session.companyId || ended) {
        await session.destroy()
        return
      }
      const user = currentUserOf(row)
      request.user = user
      await touchSession(app.db, session.sessionId)
    })
  },
  { name: 'current-user', dependencies: ['db', 'session'] },
)
