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

/** The version an edit form of this client would carry now (the form's hidden `version` field). */
export async function entityVersion(db: Db, id: string): Promise<string> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return ''
  const row = await db('entities')
    .where({ id })
    .first(db.raw(`to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS version`))
  return row?.version ?? ''
}
