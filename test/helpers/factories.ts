import { randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import type { PermissionKey } from '../../src/access/permissions.js'
import { hashPassword } from '../../src/auth/passwords.js'
import type { Db } from '../../src/db/knex.js'

export const PASSWORD = 'correct horse battery staple'
let passwordHash: Promise<string> | undefined

export interface Company {
  id: string
  name: string
}
export interface User {
  id: string
  companyId: string
  name: string
  email: string
  password: string
}

let counter = 0
function unique(): string {
  counter += 1
  return `${counter}${randomBytes(3).toString('hex')}`
}

export async function aCompany(db: Db, name = `Company ${unique()}`): Promise<Company> {
  const [row] = await db('companies').insert({ name }).returning(['id', 'name'])
  return row
}

/** A user of the company, whose password is PASSWORD unless told. */
export async function aUser(
  db: Db,
  opts: {
    company: Company
    permissions?: PermissionKey[]
    name?: string
    email?: string
    active?: boolean
    password?: string
  },
): Promise<User> {
  passwordHash ??= hashPassword(PASSWORD)
  const password = opts.password ?? PASSWORD
  const id = unique()
  const name = opts.name ?? `User ${id}`
  const email = opts.email ?? `user-${id}@example.test`
  const [row] = await db('users')
    .insert({
      company_id: opts.company.id,
      name,
      email,
      password_hash: password === PASSWORD ? await passwordHash : await hashPassword(password),
      active: opts.active ?? true,
    })
    .returning('id')
  const permissions = opts.permissions ?? []
  if (permissions.length > 0) {
    await db('user_permissions').insert(
      permissions.map((permission) => ({ company_id: opts.company.id, user_id: row.id, permission })),
    )
  }
  return { id: row.id, companyId: opts.company.id, name, email, password }
}

/**
 * The two companies most tests need: Alpha Advisers, whose administrator is Ada Admin, and Beta Bank, whose
 * Fay Foreign is another tenant's user (Beta's administrator unless `foreigner` names other permissions).
 */
export async function twoCompanies(
  db: Db,
  opts: { foreigner?: PermissionKey[] } = {},
): Promise<{ company: Company; other: Company; admin: User; foreigner: User }> {
  const company = await aCompany(db, 'Alpha Advisers')
  const other = await aCompany(db, 'Beta Bank')
  const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
  const foreigner = await aUser(db, {
    company: other,
    name: 'Fay Foreign',
    permissions: opts.foreigner ?? ['system_administrator'],
  })
  return { company, other, admin, foreigner }
}

/** Grants permissions to a user, as if an administrator had (no audit row). */
export async function grant(db: Db, user: Pick<User, 'id' | 'companyId'>, permissions: PermissionKey[]) {
  await db('user_permissions').insert(
    permissions.map((permission) => ({ company_id: user.companyId, user_id: user.id, permission })),
  )
}

/** Takes every permission away from a user. */
export async function revokeAll(db: Db, user: { id: string }) {
  await db('user_permissions').where({ user_id: user.id }).delete()
}

export async function deactivate(db: Db, user: { id: string }) {
  await db('users').where({ id: user.id }).update({ active: false })
}

export async function reactivate(db: Db, user: { id: string }) {
  await db('users').where({ id: user.id }).update({ active: true })
}

/** The user's "Share all clients with this user" (SPEC section 3), on or off. */
export async function shareAllClients(db: Db, user: { id: string }, on = true) {
  await db('users').where({ id: user.id }).update({ share_all_clients: on })
}

/**
 * Client access switched on in the company's settings, straight in the database: unlike the settings page,
 * it adds no whole-company shares. Only the options given are changed.
 */
export async function clientAccessOn(
  db: Db,
  company: { id: string },
  opts: { allowAccessRequests?: boolean; allowSharing?: boolean } = {},
) {
  await db('companies')
    .where({ id: company.id })
    .update({
      client_access_enabled: true,
      ...(opts.allowAccessRequests === undefined ? {} : { allow_access_requests: opts.allowAccessRequests }),
      ...(opts.allowSharing === undefined ? {} : { allow_sharing: opts.allowSharing }),
    })
}

/** The hour (in the company's time zone) at which the company's daily digest is due. */
export async function digestAt(db: Db, company: { id: string }, opts: { hour: number; timeZone: string }) {
  await db('companies').where({ id: company.id }).update({ digest_hour: opts.hour, time_zone: opts.timeZone })
}

export interface Group {
  id: string
  companyId: string
  name: string
}

/** A group of the company, with these members (none unless told). */
export async function aGroup(
  db: Db,
  opts: { company: Company; name?: string; members?: { id: string }[] },
): Promise<Group> {
  const name = opts.name ?? `Group ${unique()}`
  const [row] = await db('groups').insert({ company_id: opts.company.id, name }).returning('id')
  const group = { id: row.id as string, companyId: opts.company.id, name }
  await addToGroup(db, group, ...(opts.members ?? []))
  return group
}

export async function addToGroup(db: Db, group: Group, ...users: { id: string }[]) {
  if (users.length === 0) return
  await db('group_members').insert(
    users.map((u) => ({ company_id: group.companyId, group_id: group.id, user_id: u.id })),
  )
}

/** Removes every member of the group. */
export async function emptyGroup(db: Db, group: { id: string }) {
  await db('group_members').where({ group_id: group.id }).delete()
}

/** A client shared with one user, one group, or the whole company (exactly one of them). */
export async function aShare(
  db: Db,
  opts: { company: { id: string }; client: { id: string } } & (
    | { user: { id: string } }
    | { group: { id: string } }
    | { wholeCompany: true }
  ),
) {
  await db('client_shares').insert({
    company_id: opts.company.id,
    entity_id: opts.client.id,
    ...('user' in opts ? { user_id: opts.user.id } : {}),
    ...('group' in opts ? { group_id: opts.group.id } : {}),
    ...('wholeCompany' in opts ? { whole_company: true } : {}),
  })
}

/** Removes every share of the client: only administrators, the owner and share-all users keep access. */
export async function unshareAll(db: Db, client: { id: string }) {
  await db('client_shares').where({ entity_id: client.id }).delete()
}

/** A service of the company's catalogue. */
export async function aService(
  db: Db,
  opts: { company: { id: string }; name: string; riskLevel: 'low' | 'medium' | 'high' },
): Promise<{ id: string }> {
  const [row] = await db('services')
    .insert({ company_id: opts.company.id, name: opts.name, risk_level: opts.riskLevel })
    .returning('id')
  return row
}

/** A session row (signed in as `user`, or anonymous), created and last seen when told (now by default). */
export async function aSession(
  db: Db,
  opts: {
    sid: string
    user?: Pick<User, 'id' | 'companyId'>
    createdAt?: Date | Knex.Raw
    lastSeenAt?: Date | Knex.Raw
    userAgent?: string
  },
) {
  await db('sessions').insert({
    sid: opts.sid,
    ...(opts.user ? { user_id: opts.user.id, company_id: opts.user.companyId } : {}),
    ...(opts.userAgent ? { user_agent: opts.userAgent } : {}),
    data: '{}',
    ...(opts.createdAt === undefined ? {} : { created_at: opts.createdAt }),
    ...(opts.lastSeenAt === undefined ? {} : { last_seen_at: opts.lastSeenAt }),
  })
}

/** Ends every session of the user, as another server process signing them out would. */
export async function endSessions(db: Db, user: { id: string }) {
  await db('sessions').where({ user_id: user.id }).delete()
}

/** An audit row of the company with no actor and no target, written at `createdAt` (now by default). */
export async function anAuditRow(db: Db, opts: { company: { id: string }; action: string; createdAt?: Date }) {
  await db('audit_log').insert({
    company_id: opts.company.id,
    action: opts.action,
    ...(opts.createdAt === undefined ? {} : { created_at: opts.createdAt }),
  })
}

/** Failed sign-in attempts for `email`, one from each address, made at `createdAt` (now by default). */
export async function failedLogins(db: Db, opts: { email: string; ips: string[]; createdAt?: Date | Knex.Raw }) {
  await db('login_attempts').insert(
    opts.ips.map((ip) => ({
      email: opts.email,
      ip,
      succeeded: false,
      ...(opts.createdAt === undefined ? {} : { created_at: opts.createdAt }),
    })),
  )
}

/** Bytes of the document storage queued for deletion (their row is gone), as a purge leaves them. */
export async function aStorageDeletion(db: Db, storageKey: string) {
  await db('storage_deletions').insert({ storage_key: storageKey })
}
