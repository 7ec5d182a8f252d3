import type { Knex } from 'knex'
import { isPermissionKey, PERMISSION_KEYS, type PermissionKey, permissionLabel } from '../access/permissions.js'
import { type ManagedAccount, permissionSwitchRefusal, whyNotManageUser } from '../access/users.js'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { FormErrors } from '../forms/form-errors.js'
import { checkName, isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { NotFoundError } from '../http/params.js'
import { deleteSessionsOfUser } from '../identity/session-store.js'
import { enqueueEmail } from '../mail/outbox.js'
import type { CurrentUser } from '../types.js'
import { inviteUser } from './invitations.js'
import { countOtherActiveAdministrators, findUserInCompany, type ManagedUser } from './queries.js'

export interface Actor {
  user: CurrentUser
  ip: string
  publicUrl: string
}

const sorted = (keys: Iterable<PermissionKey>) => PERMISSION_KEYS.filter((k) => new Set(keys).has(k))

/**
 * Runs a change to one user of the actor's company in a transaction that first locks the company row:
 * changes that could remove the last administrator are serialised, so two racing requests cannot both
 * pass the check.
 */
async function changeUser<T>(
  db: Db,
  actor: Actor,
  userId: string,
  change: (trx: Knex.Transaction, target: ManagedUser) => Promise<T>,
): Promise<T> {
  return db.transaction(async (trx) => {
    // FOR NO KEY UPDATE: one change at a time per company, without blocking (or deadlocking with) every insert
    // whose foreign key takes the company row FOR KEY SHARE (an audit row, a session, a document…).
    await trx('companies').where({ id: actor.user.companyId }).forNoKeyUpdate().first()
    const target = await findUserInCompany(trx, actor.user.companyId, userId)
    if (!target) throw new NotFoundError('user')
    return change(trx, target)
  })
}

/** The rule of src/access/users.ts: nobody manages a user holding a permission they do not hold. */
function assertMayManage(actor: Actor, target: ManagedUser): void {
  const refusal = whyNotManageUser(actor.user, target)
  if (refusal) throw new RuleError('user', refusal)
}

async function assertNotLastAdministrator(trx: Knex.Transaction, actor: Actor, target: ManagedUser, what: string) {
  if (!target.active || !target.granted.includes('system_administrator')) return
  if ((await countOtherActiveAdministrators(trx, actor.user.companyId, target.id)) === 0) {
    throw new RuleError(
      'permissions',
      `${isolate(target.name)} is the last active System Administrator. ${what} would leave the company without one: make another user an administrator first.`,
      { status: 409 },
    )
  }
}

/** Every permission whose state changes must be one the actor may switch (src/access/users.ts). */
function assertMaySwitch(actor: Actor, target: ManagedAccount, changed: Iterable<PermissionKey>): void {
  for (const key of changed) {
    const refusal = permissionSwitchRefusal(actor.user, target, key, new Set())
    if (refusal?.reason === 'account') throw new RuleError('user', refusal.message)
    if (refusal?.reason === 'not_held') {
      throw new RuleError(
        'permissions',
        `You cannot grant or revoke ${permissionLabel(key)}: you do not hold it yourself.`,
      )
    }
  }
}

/**
 * Replaces a user's granted permissions with `granted`, or with what `granted` makes of the set read
 * under the company lock (a toggle), so that two racing changes never build on the same stale read.
 * Returns the granted set before and after.
 */
export async function setPermissions(
  db: Db,
  actor: Actor,
  userId: string,
  granted: PermissionKey[] | ((current: ReadonlySet<PermissionKey>, target: ManagedUser) => Iterable<PermissionKey>),
) {
  return changeUser(db, actor, userId, async (trx, target) => {
    assertMayManage(actor, target)
    const before = new Set(target.granted)
    const after = new Set(typeof granted === 'function' ? granted(before, target) : granted)
    const added = [...after].filter((k) => !before.has(k))
    const removed = [...before].filter((k) => !after.has(k))
    if (added.length === 0 && removed.length === 0)
      return { before: sorted(before), after: sorted(after), changed: false }
    assertMaySwitch(actor, target, [...added, ...removed])
    if (removed.includes('system_administrator')) {
      await assertNotLastAdministrator(trx, actor, target, 'Removing System Administrator')
    }
    if (removed.length > 0)
      await trx('user_permissions').where({ user_id: target.id }).whereIn('permission', removed).delete()
    if (added.length > 0) {
      await trx('user_permissions').insert(
        added.map((permission) => ({ company_id: target.company_id, user_id: target.id, permission })),
      )
    }
    await auditTarget(
      trx,
      actor,
      'user',
      target.id,
      'user.permissions_changed',
      { granted: sorted(before) },
      { granted: sorted(after) },
    )
    return { before: sorted(before), after: sorted(after), changed: true }
  })
}

/** Switches one permission On or Off (the htmx toggle). An included permission cannot be switched off alone. */
export async function togglePermission(db: Db, actor: Actor, userId: string, key: PermissionKey, on: boolean) {
  return setPermissions(db, actor, userId, (current, target) => {
    const granted = new Set(current)
    if (on) granted.add(key)
    else {
      // Switched off alone, an included permission would stay On: refused with the reason the page shows.
      const refusal = permissionSwitchRefusal(actor.user, target, key, current)
      if (refusal?.reason === 'included') {
        throw new RuleError(
          'permissions',
          `${permissionLabel(key)} is included in ${permissionLabel(refusal.includer)}: switch that off first.`,
        )
      }
      granted.delete(key)
    }
    return granted
  })
}

export interface UserDetails {
  name: string
  email: string
}

/** The problems of a user's name and email (missing, too long, not an address), added to `errors`. */
function detailsErrors(values: UserDetails, errors = new FormErrors()): FormErrors {
  checkName(errors, 'name', values.name, 200)
  if (!values.email) errors.add('email', 'Enter the email address')
  else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email) || values.email.length > 254) {
    errors.add('email', 'Enter an email address like name@example.com')
  }
  return errors
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505'
}
const EMAIL_TAKEN = 'This email address is already used by another account'

/** Adds a user with their first permissions and sends the invitation, all in one transaction. */
export async function createUser(db: Db, actor: Actor, details: UserDetails, chosen: readonly string[]) {
  const permissions = chosen.filter(isPermissionKey)
  // Every problem of the form at once: those of the name and email, and an unknown permission.
  const errors = detailsErrors(details)
  if (permissions.length !== chosen.length) errors.add('permissions', 'Choose permissions from the list')
  RuleError.throwIf(errors)
  assertMaySwitch(actor, { name: details.name, granted: [] }, permissions)
  try {
    return await db.transaction(async (trx) => {
      const [user] = await trx('users')
        .insert({ company_id: actor.user.companyId, name: details.name, email: details.email })
        .returning(['id', 'name', 'email'])
      if (permissions.length > 0) {
        await trx('user_permissions').insert(
          permissions.map((permission) => ({ company_id: actor.user.companyId, user_id: user.id, permission })),
        )
      }
      await inviteUser(trx, {
        companyId: actor.user.companyId,
        companyName: actor.user.companyName,
        user,
        invitedBy: actor.user,
        publicUrl: actor.publicUrl,
      })
      await auditTarget(trx, actor, 'user', user.id, 'user.created', undefined, {
        name: details.name,
        email: details.email,
        granted: sorted(permissions),
      })
      return user as { id: string; name: string; email: string }
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw new RuleError('email', EMAIL_TAKEN)
    throw error
  }
}

export async function updateDetails(db: Db, actor: Actor, userId: string, details: UserDetails) {
  RuleError.throwIf(detailsErrors(details))
  try {
    return await changeUser(db, actor, userId, async (trx, target) => {
      assertMayManage(actor, target)
      if (target.name === details.name && target.email === details.email) return
      await trx('users')
        .where({ id: target.id })
        .update({ ...details, updated_at: trx.fn.now() })
      if (target.email.toLowerCase() !== details.email.toLowerCase()) {
        // A link sent to the old address must not let anyone in under the new one.
        await trx('user_invitations').where({ user_id: target.id }).whereNull('used_at').delete()
        await enqueueEmail(trx, {
          companyId: actor.user.companyId,
          to: target.email,
          subject: `Your email address on KYC Desk (${isolate(actor.user.companyName)}) was changed`,
          text: [
            `Hello ${isolate(target.name)},`,
            '',
            `${isolate(actor.user.name)} changed the email address of your KYC Desk account at ${isolate(actor.user.companyName)}.`,
            'Messages for your account now go to the new address, and this address no longer signs in to it.',
            ...(target.invited ? ['The invitation sent to this address no longer works.'] : []),
            '',
            'If you did not expect this, tell your administrator at once.',
          ].join('\n'),
        })
      }
      await auditTarget(
        trx,
        actor,
        'user',
        target.id,
        'user.details_changed',
        { name: target.name, email: target.email },
        details,
      )
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw new RuleError('email', EMAIL_TAKEN)
    throw error
  }
}

/** Deactivates (ending every session) or reactivates a user. */
export async function setActive(db: Db, actor: Actor, userId: string, active: boolean) {
  return changeUser(db, actor, userId, async (trx, target) => {
    assertMayManage(actor, target)
    if (target.active === active) return target
    if (!active && target.id === actor.user.id) throw new RuleError('user', 'You cannot deactivate your own account.')
    if (!active) await assertNotLastAdministrator(trx, actor, target, 'Deactivating them')
    await trx('users').where({ id: target.id }).update({ active, updated_at: trx.fn.now() })
    if (!active) await trx('sessions').where({ user_id: target.id }).delete()
    await auditTarget(
      trx,
      actor,
      'user',
      target.id,
      active ? 'user.reactivated' : 'user.deactivated',
      { active: target.active },
      { active },
    )
    return target
  })
}

/** Share all clients with this user (administrators only; enforced by the client access rule). */
export async function setShareAllClients(db: Db, actor: Actor, userId: string, on: boolean) {
  return changeUser(db, actor, userId, async (trx, target) => {
    if (target.share_all_clients === on) return
    await trx('users').where({ id: target.id }).update({ share_all_clients: on, updated_at: trx.fn.now() })
    await auditTarget(
      trx,
      actor,
      'user',
      target.id,
      'user.share_all_clients_changed',
      { share_all_clients: target.share_all_clients },
      { share_all_clients: on },
    )
  })
}

/** Sends a fresh invitation to a user who has not set a password yet. */
export async function resendInvitation(db: Db, actor: Actor, userId: string) {
  return changeUser(db, actor, userId, async (trx, target) => {
    assertMayManage(actor, target)
    if (!target.invited) throw new RuleError('user', `${isolate(target.name)} has already set a password.`)
    if (!target.active) throw new RuleError('user', `${isolate(target.name)} is deactivated: reactivate them first.`)
    await inviteUser(trx, {
      companyId: actor.user.companyId,
      companyName: actor.user.companyName,
      user: target,
      invitedBy: actor.user,
      publicUrl: actor.publicUrl,
    })
    await auditTarget(trx, actor, 'user', target.id, 'user.invitation_sent')
  })
}

/** Ends every session of a user at once (Signout Users). Returns how many sessions ended. */
export async function signOutEverywhere(db: Db, actor: Actor, userId: string): Promise<number> {
  return db.transaction(async (trx) => {
    const target = await findUserInCompany(trx, actor.user.companyId, userId)
    if (!target) throw new NotFoundError('user')
    const ended = await deleteSessionsOfUser(trx, target.id)
    await auditTarget(trx, actor, 'user', target.id, 'user.signed_out', undefined, { sessions_ended: ended })
    return ended
  })
}
