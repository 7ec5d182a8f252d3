import type { Knex } from 'knex'
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

/**
 * The clients' sharing marked as set up, so that switching client access on adds no whole-company share to
 * them (SPEC: a client whose sharing was configured keeps it).
 */
export async function initialiseSharing(db: Db, ...clients: { id: string }[]) {
  await db('entities')
    .whereIn(
      'id',
      clients.map((c) => c.id),
    )
    .update({ sharing_initialised: true })
}

/**
 * A client changed straight in the database, as someone else's edit would have left it; `updatedAt` moves
 * its last change (and so the version an open form carries) only when given.
 */
export async function changeEntity(
  db: Db,
  client: { id: string },
  fields: { status?: string; notes?: string; owner?: { id: string }; updatedAt?: Date | Knex.Raw },
) {
  await db('entities')
    .where({ id: client.id })
    .update({
      ...(fields.status === undefined ? {} : { status: fields.status }),
      ...(fields.notes === undefined ? {} : { notes: fields.notes }),
      ...(fields.owner === undefined ? {} : { owner_user_id: fields.owner.id }),
      ...(fields.updatedAt === undefined ? {} : { updated_at: fields.updatedAt }),
    })
}

/** Clients moved to the recycle bin by `by`. */
export async function toRecycleBin(db: Db, by: { id: string }, ...clients: { id: string }[]) {
  await db('entities')
    .whereIn(
      'id',
      clients.map((c) => c.id),
    )
    .update({ deleted_at: new Date(), deleted_by: by.id })
}

/** A document row of the client (a 10-byte PDF whose bytes are not stored), in the recycle bin if `deleted`. */
export async function aDocument(
  db: Db,
  opts: { company: Company; client: { id: string }; uploadedBy: User; name: string; deleted?: boolean },
): Promise<{ id: string }> {
  const [row] = await db('documents')
    .insert({
      company_id: opts.company.id,
      entity_id: opts.client.id,
      original_name: opts.name,
      media_type: 'application/pdf',
      size_bytes: 10,
      sha256: '0'.repeat(64),
      storage_key: `${opts.client.id}/${opts.name}`,
      uploaded_by: opts.uploadedBy.id,
      ...(opts.deleted ? { deleted_at: new Date(), deleted_by: opts.uploadedBy.id } : {}),
    })
    .returning('id')
  return row
}
