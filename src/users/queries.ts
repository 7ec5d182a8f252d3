import type { PermissionKey } from '../access/permissions.js'
import type { Db } from '../db/knex.js'

export interface UserRow {
  id: string
  company_id: string
  company_name: string
  name: string
  email: string
  password_hash: string | null
  active: boolean
  granted: PermissionKey[]
}

/** One user with their company name and granted permissions, in one query. */
function userWithPermissions(db: Db) {
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
      db.raw(
        "coalesce((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p WHERE p.user_id = u.id), '{}') AS granted",
      ),
    )
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return userWithPermissions(db).where('u.id', id).first()
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return userWithPermissions(db).whereRaw('lower(u.email) = lower(?)', [email]).first()
}

export async function countActiveUsers(db: Db, companyId: string): Promise<number> {
  const row = await db('users').where({ company_id: companyId, active: true }).count<{ count: number }>('* as count').first()
  return row?.count ?? 0
}
