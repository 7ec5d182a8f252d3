import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import type { CurrentUser } from '../types.js'

/**
 * The client access rule (SPEC section 3) — the one place that decides which client relationships a
 * user may open. The guard calls `clientGate` for every client-scoped route; lists, counts and searches
 * use `accessibleClientsPredicate` in their SQL.
 *
 * Until company settings can switch "Manage user access to clients" on (the client access issue), every
 * company is in the state SPEC describes for the setting off: every user with Read Data (which the
 * route's permission already requires) has access to every live client relationship of the company.
 */
export function accessibleClientsPredicate(_db: Db | Knex.Transaction, user: CurrentUser, entityAlias = 'e') {
  return (query: Knex.QueryBuilder) =>
    query.where(`${entityAlias}.company_id`, user.companyId).whereNull(`${entityAlias}.deleted_at`)
}

export type ClientGateResult = 'allowed' | 'not_found' | 'no_access'

/** A client id from a route: not found (also for another company's or a deleted client) or allowed. */
export async function clientGate(db: Db, user: CurrentUser, clientId: string): Promise<ClientGateResult> {
  const row = await db('entities as e')
    .modify(accessibleClientsPredicate(db, user))
    .where('e.id', clientId)
    .first('e.id')
  return row ? 'allowed' : 'not_found'
}
