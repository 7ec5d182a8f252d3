import { randomBytes } from 'node:crypto'
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

export async function aUser(
  db: Db,
  opts: { company: Company; permissions?: PermissionKey[]; name?: string; email?: string; active?: boolean },
): Promise<User> {
  passwordHash ??= hashPassword(PASSWORD)
  const id = unique()
  const name = opts.name ?? `User ${id}`
  const email = opts.email ?? `user-${id}@example.test`
  const [row] = await db('users')
    .insert({
      company_id: opts.company.id,
      name,
      email,
      password_hash: await passwordHash,
      active: opts.active ?? true,
    })
    .returning('id')
  const permissions = opts.permissions ?? []
  if (permissions.length > 0) {
    await db('user_permissions').insert(
      permissions.map((permission) => ({ company_id: opts.company.id, user_id: row.id, permission })),
    )
  }
  return { id: row.id, companyId: opts.company.id, name, email, password: PASSWORD }
}
