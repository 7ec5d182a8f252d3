import type { Knex } from 'knex'
import type { PermissionKey } from '../access/permissions.js'
import { containsPattern, type Db } from '../db/knex.js'

export async function countActiveUsers(db: Db, companyId: string): Promise<number> {
  const row = await db('users')
    .where({ company_id: companyId, active: true })
    .count<{ count: number }>('* as count')
    .first()
  return row?.count ?? 0
}

export interface UserListFilters {
  q: string
  /** Users for whom this permission is effectively On (granted or included). */
  permission: PermissionKey | ''
  status: 'active' | 'deactivated' | 'all'
  page: number
}

export const USERS_PAGE_SIZE = 25

export interface UserListRow {
  id: string
  name: string
  email: string
  active: boolean
  invited: boolean
  granted: PermissionKey[]
}

/** One page of a company's users and the total, filtered in SQL. `grantingKeys` switch the permission on. */
export async function listUsers(
  db: Db,
  companyId: string,
  filters: UserListFilters,
  grantingKeys: readonly PermissionKey[],
): Promise<{ rows: UserListRow[]; total: number }> {
  const base = db('users as u').where('u.company_id', companyId)
  if (filters.q) {
    const like = containsPattern(filters.q)
    base.andWhere((w) => w.whereILike('u.name', like).orWhereILike('u.email', like))
  }
  if (filters.status !== 'all') base.andWhere('u.active', filters.status === 'active')
  if (filters.permission) {
    base.whereExists(
      db('user_permissions as p')
        .whereRaw('p.user_id = u.id')
        .whereIn('p.permission', grantingKeys as PermissionKey[]),
    )
  }
  const counted = await base.clone().count<{ total: number }[]>('* as total')
  const total = counted[0]?.total ?? 0
  const rows = await base
    .select(
      'u.id',
      'u.name',
      'u.email',
      'u.active',
      db.raw('(u.password_hash IS NULL) AS invited'),
      db.raw(
        "coalesce((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p WHERE p.user_id = u.id), '{}') AS granted",
      ),
    )
    .orderByRaw('lower(u.name), u.id')
    .limit(USERS_PAGE_SIZE)
    .offset((filters.page - 1) * USERS_PAGE_SIZE)
  return { rows, total }
}

export interface ManagedUser {
  id: string
  company_id: string
  name: string
  email: string
  active: boolean
  invited: boolean
  share_all_clients: boolean
  granted: PermissionKey[]
}

/** A user of this company (never another's: a foreign id is simply not found). */
export async function findUserInCompany(
  db: Db | Knex.Transaction,
  companyId: string,
  id: string,
): Promise<ManagedUser | undefined> {
  return db('users as u')
    .where({ 'u.company_id': companyId, 'u.id': id })
    .select(
      'u.id',
      'u.company_id',
      'u.name',
      'u.email',
      'u.active',
      'u.share_all_clients',
      db.raw('(u.password_hash IS NULL) AS invited'),
      db.raw(
        "coalesce((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p WHERE p.user_id = u.id), '{}') AS granted",
      ),
    )
    .first()
}

/** The active users of the company holding System Administrator, by name. */
export async function activeAdministrators(db: Db, companyId: string): Promise<{ id: string; name: string }[]> {
  return db('users as u')
    .join('user_permissions as p', 'p.user_id', 'u.id')
    .where({ 'u.company_id': companyId, 'u.active': true, 'p.permission': 'system_administrator' })
    .orderByRaw('lower(u.name)')
    .select('u.id', 'u.name')
}

/** Active users of the company holding System Administrator, other than `exceptUserId`. */
export async function countOtherActiveAdministrators(
  db: Db | Knex.Transaction,
  companyId: string,
  exceptUserId: string,
): Promise<number> {
  const row = await db('users as u')
    .join('user_permissions as p', 'p.user_id', 'u.id')
    .where({ 'u.company_id': companyId, 'u.active': true, 'p.permission': 'system_administrator' })
    .whereNot('u.id', exceptUserId)
    .count<{ n: number }>('* as n')
    .first()
  return row?.n ?? 0
}
