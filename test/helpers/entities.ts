import type { Db } from '../../src/db/knex.js'
import type { Company, User } from './factories.js'

let n = 0
/** An entity row, straight into the database (for tests about reading, listing and access). */
export async function anEntity(
  db: Db,
  opts: {
    company: Company
    owner: User
    name?: string
    kind?: 'individual' | 'organisation'
    status?: string
    deleted?: boolean
  },
): Promise<{ id: string; name: string }> {
  n += 1
  const name = opts.name ?? `Entity ${n}`
  const [row] = await db('entities')
    .insert({
      company_id: opts.company.id,
      kind: opts.kind ?? 'individual',
      name,
      owner_user_id: opts.owner.id,
      status: opts.status ?? 'prospect',
      deleted_at: opts.deleted ? db.fn.now() : null,
    })
    .returning(['id', 'name'])
  return row
}
