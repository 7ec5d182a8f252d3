/**
 * Who may manage whom (SPEC section 2). One rule, used by the user service to refuse and by the user
 * pages to decide which controls to offer: nobody edits, re-invites, reactivates, deactivates or changes
 * the permissions of a user who holds a permission they do not hold themselves. Otherwise a user
 * manager could change such a user's email to their own address, send a new invitation and sign in as
 * them, with permissions the manager was never given.
 */

import { isolate } from '../forms/names.js'
import {
  effectivePermissions,
  includedBy,
  PERMISSION_KEYS,
  type PermissionKey,
  permissionLabel,
} from './permissions.js'

export interface UserManager {
  permissions: ReadonlySet<PermissionKey>
}

export interface ManagedAccount {
  name: string
  granted: readonly PermissionKey[]
}

/** The permissions the target holds (granted or included) that the actor does not, in SPEC order. */
export function permissionsBeyond(actor: UserManager, target: ManagedAccount): PermissionKey[] {
  const held = effectivePermissions(target.granted)
  return PERMISSION_KEYS.filter((key) => held.has(key) && !actor.permissions.has(key))
}

/** Why the actor may not manage the target's account, in words; undefined when they may. */
export function whyNotManageUser(actor: UserManager, target: ManagedAccount): string | undefined {
  const beyond = permissionsBeyond(actor, target)
  if (beyond.length === 0) return undefined
  if (beyond.includes('system_administrator')) {
    return `${isolate(target.name)} is a System Administrator: only an administrator can change their account.`
  }
  const labels = beyond.map(permissionLabel)
  const listed =
    labels.length > 3 ? `${labels.slice(0, 3).join(', ')} and ${labels.length - 3} more` : labels.join(', ')
  return `${isolate(target.name)} holds permissions you do not hold (${listed}): only a user who holds all of them can change their account.`
}

/** Why one permission of a user cannot be switched by this actor (see permissionSwitchRefusal). */
export type PermissionSwitchRefusal =
  | { reason: 'account'; message: string }
  | { reason: 'not_held' }
  | { reason: 'included'; includer: PermissionKey }

/**
 * Whether the actor may switch one permission of the target, whose granted set is `granted`: not on an
 * account they may not manage; not a permission they do not hold (no escalation, no revoking above
 * oneself); and not Off alone while another granted permission includes it. The permission page shows
 * the refusal beside the row; the service refuses the change with it.
 */
export function permissionSwitchRefusal(
  actor: UserManager,
  target: ManagedAccount,
  key: PermissionKey,
  granted: ReadonlySet<PermissionKey>,
): PermissionSwitchRefusal | undefined {
  const account = whyNotManageUser(actor, target)
  if (account) return { reason: 'account', message: account }
  if (!actor.permissions.has(key)) return { reason: 'not_held' }
  const includer = includedBy(key, granted)
  if (includer) return { reason: 'included', includer }
  return undefined
}
