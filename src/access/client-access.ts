import type { CurrentUser } from '../types.js'

/**
 * The client access rule (SPEC section 3) — the one place the guard asks whether a user may act on a
 * client relationship. Client relationships arrive with the entities issue and the rule with the client
 * access issue; until then no route may declare a client (the guard refuses to start with one), so this
 * function is never reached on the request path.
 */
export const CLIENT_ACCESS_RULE_AVAILABLE = false

export async function userMayAccessClient(_user: CurrentUser, _clientId: string): Promise<boolean> {
  throw new Error('The client access rule is not built yet: no route may declare a client.')
}
