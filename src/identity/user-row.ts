import type { PermissionKey } from '../access/permissions.js'
import { passwordOffSql } from '../access/sign-in.js'
import type { Db } from '../db/knex.js'

/**
 * The signed-in user as every request reads it: the account, its company's access settings and its
 * granted permissions, in one query (with the session, see session-store.ts). Sign-in reads the same row.
 */
export interface UserRow {
  id: string
  company_id: string
  company_name: string
  name: string
  email: string
  password_hash: string | null
  active: boolean
  share_all_clients: boolean
  client_access_enabled: boolean
  allow_sharing: boolean
  allow_access_requests: boolean
  two_factor_required: 'off' | 'administrators' | 'everyone'
  /** The company signs in by single sign-on only, and this is not its break-glass administrator. */
  password_off: boolean
  /** Sessions that started before this are refused (src/identity/session-store.ts, endSessionsOfUser). */
  sessions_valid_after: Date | string | null
  /** The account signs in with a confirmed second factor. */
  has_two_factor: boolean
  granted: PermissionKey[]
}

/** One user with their company name and granted permissions, in one query. */
export function userWithPermissions(db: Db) {
  return db('users as u')
    .join('companies as c', 'c.id', 'u.company_id')
    .select(
      'u.id',
      'u.company_id',
      'c.name as company_name',
      'u.name',
      'u.email',
      'u.password_hash',
      'u.active',
      'u.share_all_clients',
      'c.client_access_enabled',
      'c.allow_sharing',
      'c.allow_access_requests',
      'c.two_factor_required',
      'u.sessions_valid_after',
      db.raw('? AS password_off', [passwordOffSql(db, 'u')]),
      db.raw(
        'EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS has_two_factor',
      ),
      db.raw(
        "coalesce((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p WHERE p.user_id = u.id), '{}') AS granted",
      ),
    )
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return userWithPermissions(db).where('u.id', id).first()
}

/** Every account of an address, one per company at most, oldest company first. */
export async function findUsersByEmail(db: Db, email: string): Promise<UserRow[]> {
  return userWithPermissions(db).whereRaw('lower(u.email) = lower(?)', [email]).orderBy('c.created_at').limit(50)
}
