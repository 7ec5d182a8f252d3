import { type AccessSubject, hasAccessSql } from '../access/client-access.js'
import type { Db } from '../db/knex.js'
import { flushStorageDeletions } from '../documents/service.js'
import type { Entity } from '../entities/queries.js'
import { type EntityActor, entityAudit } from '../entities/service.js'
import { exactlyOne } from '../http/params.js'
import type { DocumentStorage } from '../storage/document-storage.js'

export interface BinEntity {
  id: string
  name: string
  deleted_at: Date
  deleted_by_name: string | null
  documents: number
}
export interface BinDocument {
  id: string
  entity_id: string
  entity_name: string
  original_name: string
  deleted_at: Date
  deleted_by_name: string | null
}

/** Deleted entities, and deleted documents of live entities, newest first: of the clients the user has access to. */
export async function recycleBin(
  db: Db,
  user: AccessSubject,
): Promise<{ entities: BinEntity[]; documents: BinDocument[] }> {
  const entities = await db('entities as e')
    .leftJoin('users as u', 'u.id', 'e.deleted_by')
    .where('e.company_id', user.companyId)
    .where(hasAccessSql(db, user))
    .whereNotNull('e.deleted_at')
    .select(
      'e.id',
      'e.name',
      'e.deleted_at',
      'u.name as deleted_by_name',
      db.raw('(SELECT count(*)::int FROM documents d WHERE d.entity_id = e.id) AS documents'),
    )
    .orderBy('e.deleted_at', 'desc')
    .limit(500)
  const documents = await db('documents as d')
    .join('entities as e', 'e.id', 'd.entity_id')
    .leftJoin('users as u', 'u.id', 'd.deleted_by')
    .where('d.company_id', user.companyId)
    .whereNotNull('d.deleted_at')
    .whereNull('e.deleted_at')
    .where(hasAccessSql(db, user))
    .select(
      'd.id',
      'd.entity_id',
      'e.name as entity_name',
      'd.original_name',
      'd.deleted_at',
      'u.name as deleted_by_name',
    )
    .orderBy('d.deleted_at', 'desc')
    .limit(500)
  return { entities, documents }
}

export async function restoreEntity(db: Db, actor: EntityActor, entity: Entity): Promise<void> {
  await db.transaction(async (trx) => {
    const restored = await trx('entities')
      .where({ id: entity.id })
      .whereNotNull('deleted_at')
      .update({ deleted_at: null, deleted_by: null, updated_at: trx.fn.now() })
    exactlyOne(restored, 'client')
    await entityAudit(trx, actor, entity.id, 'entity.restored', { in_recycle_bin: true }, { name: entity.name })
  })
}

/**
 * Deletes an entity for good, with its documents (rows and bytes), services, and everything else that
 * hangs off it (foreign keys cascade). Its audit rows stay: the trail outlives what it describes.
 */
export async function purgeEntity(db: Db, storage: DocumentStorage, actor: EntityActor, entity: Entity): Promise<void> {
  await db.transaction(async (trx) => {
    const docs: { storage_key: string }[] = await trx('documents').where({ entity_id: entity.id }).select('storage_key')
    // Files clients uploaded through the self-service portal and never filed go with the client too.
    const uploads: { storage_key: string }[] = await trx('portal_uploads as u')
      .join('portal_requests as r', 'r.id', 'u.request_id')
      .where({ 'r.entity_id': entity.id, 'r.company_id': actor.user.companyId })
      .whereNull('u.document_id')
      .select('u.storage_key')
    const keys = [...docs, ...uploads]
    if (keys.length > 0) {
      await trx('storage_deletions')
        .insert(keys.map((d) => ({ storage_key: d.storage_key })))
        .onConflict('storage_key')
        .ignore()
    }
    const purged = await trx('entities')
      .where({ id: entity.id, company_id: actor.user.companyId })
      .whereNotNull('deleted_at')
      .delete()
    exactlyOne(purged, 'client')
    await entityAudit(
      trx,
      actor,
      entity.id,
      'entity.purged',
      { name: entity.name, documents: docs.length, portal_uploads: uploads.length },
      { deleted_for_good: true },
    )
  })
  await flushStorageDeletions(db, storage)
}
