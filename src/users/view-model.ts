import {
  effectivePermissions,
  includedBy,
  PERMISSIONS,
  type PermissionKey,
  permissionLabel,
} from '../access/permissions.js'
import { permissionSwitchRefusal } from '../access/users.js'
import type { CurrentUser } from '../types.js'
import type { ManagedUser } from './queries.js'

export interface PermissionRow {
  key: PermissionKey
  label: string
  description: string
  /** Granted (or switched on in the form), included by another, or off. */
  state: 'on' | 'included' | 'off'
  includedByLabel?: string
  granted: boolean
  /** Why the actor cannot switch it, in words; undefined when they can. */
  locked?: string
}

/** The 25 rows of a user's permission page, in SPEC order, as this actor may see and change them. */
export function permissionRows(actor: CurrentUser, target: ManagedUser): PermissionRow[] {
  const granted: ReadonlySet<PermissionKey> = new Set(target.granted)
  const effective = effectivePermissions(granted)
  return PERMISSIONS.map((p) => {
    const includer = includedBy(p.key, granted)
    const state = includer ? 'included' : effective.has(p.key) ? 'on' : 'off'
    const refusal = permissionSwitchRefusal(actor, target, p.key, granted)
    const locked =
      refusal?.reason === 'account'
        ? refusal.message
        : refusal?.reason === 'not_held'
          ? 'You cannot change this: you do not hold it yourself.'
          : refusal?.reason === 'included'
            ? `Switch off ${permissionLabel(refusal.includer)} first.`
            : undefined
    return {
      key: p.key,
      label: p.label,
      description: p.description,
      state,
      includedByLabel: includer ? permissionLabel(includer) : undefined,
      granted: granted.has(p.key),
      locked,
    }
  })
}
