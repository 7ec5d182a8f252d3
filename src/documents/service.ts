import type { Readable } from 'node:stream'
import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import { type EntityActor, entityAudit } from '../entities/service.js'
import { BIDI_CONTROL } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { exactlyOne } from '../http/params.js'
import type { DocumentStorage } from '../storage/document-storage.js'
import { ALLOWED_DESCRIPTION, detectAllowedType, isControlCharacter } from './file-types.js'

/** The refusal of an upload, beside the form's file field. */
const refuse = (message: string) => new RuleError('file', message)

export interface DocumentRow {
  id: string
  entity_id: string
  original_name: string
  media_type: string
  size_bytes: number
  storage_key: string
  created_at: Date
  uploader_name: string | null
  deleted_at: Date | null
}

/** A name for display and Content-Disposition: no path, no control characters, at most 255 characters. */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? ''
  const cleaned = [...base]
    .filter((ch) => !isControlCharacter(ch) && ch !== '"')
    .join('')
    .trim()
    .slice(0, 255)
  return cleaned || 'document'
}

/** Why a file name is refused, or undefined: names with control characters (a NUL, a line break) are. */
export function fileNameProblem(name: string): string | undefined {
  if ([...name].some(isControlCharacter) || BIDI_CONTROL.test(name))
    return 'The file name contains characters that are not allowed (control or text-direction characters): rename the file'
  if (name.length > 1000) return 'The file name is too long: rename the file'
  return undefined
}

/** An upload whose bytes are stored and checked, not yet recorded: `record` writes its row, `discard` its bytes. */
export interface StoredUpload {
  name: string
  /** The stored bytes: where they are and what they are, for a caller that records them elsewhere (the portal). */
  file: { key: string; size: number; sha256: string; mediaType: string }
  record(db: Db, actor: EntityActor, entityId: string): Promise<string>
  discard(): Promise<void>
}

/** The refusal of a file over the size limit. */
export function tooLarge(maxBytes: number): RuleError {
  return refuse(`The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB: choose a smaller file`)
}

/**
 * Stores an upload's bytes and checks its type from them. Nothing is recorded yet: the caller records it
 * once the whole request has been read (a second file, or a request cut short, must leave nothing behind),
 * or discards it. A refused file's bytes are removed here.
 */
export async function storeUpload(
  storage: DocumentStorage,
  file: { filename: string; stream: Readable & { truncated?: boolean } },
  maxBytes: number,
): Promise<StoredUpload> {
  const nameProblem = fileNameProblem(file.filename)
  if (nameProblem) {
    file.stream.resume()
    throw refuse(nameProblem)
  }
  const stored = await storage.put(file.stream)
  let mediaType: string | undefined
  try {
    if (file.stream.truncated) throw tooLarge(maxBytes)
    if (stored.size === 0) throw refuse('The file is empty: choose a file with content')
    const detected = await detectAllowedType(stored.head)
    if (detected === 'markup') {
      throw refuse(
        `Web pages, SVG and XML files are not accepted: they can run code when opened. Save it as a PDF, or upload ${ALLOWED_DESCRIPTION}.`,
      )
    }
    if (!detected) throw refuse(`This type of file is not accepted. Upload ${ALLOWED_DESCRIPTION}.`)
    mediaType = detected
  } catch (error) {
    await storage.delete(stored.key)
    throw error
  }
  const name = cleanFileName(file.filename)
  const type = mediaType
  return {
    name,
    file: { key: stored.key, size: stored.size, sha256: stored.sha256, mediaType: type },
    discard: () => storage.delete(stored.key),
    async record(db, actor, entityId) {
      try {
        return await db.transaction(async (trx) => {
          const [row] = await trx('documents')
            .insert({
              company_id: actor.user.companyId,
              entity_id: entityId,
              original_name: name,
              media_type: type,
              size_bytes: stored.size,
              sha256: stored.sha256,
              storage_key: stored.key,
              uploaded_by: actor.user.id,
            })
            .returning('id')
          await trx('entities').where({ id: entityId }).update({ updated_at: trx.fn.now() })
          await entityAudit(trx, actor, entityId, 'entity.document_uploaded', undefined, {
            document: row.id,
            name,
            media_type: type,
            size_bytes: stored.size,
            sha256: stored.sha256,
          })
          return row.id as string
        })
      } catch (error) {
        await storage.delete(stored.key)
        throw error
      }
    },
  }
}

const DOCUMENT_COLUMNS = [
  'd.id',
  'd.entity_id',
  'd.original_name',
  'd.media_type',
  'd.size_bytes',
  'd.storage_key',
  'd.created_at',
  'u.name as uploader_name',
  'd.deleted_at',
]

export async function documentsOf(db: Db, companyId: string, entityId: string): Promise<DocumentRow[]> {
  return db('documents as d')
    .leftJoin('users as u', 'u.id', 'd.uploaded_by')
    .where({ 'd.company_id': companyId, 'd.entity_id': entityId })
    .whereNull('d.deleted_at')
    .select(DOCUMENT_COLUMNS)
    .orderBy('d.created_at', 'desc')
}

/** A document of an entity; live unless `deleted` asks for one in the recycle bin. */
export async function findDocument(
  db: Db | Knex.Transaction,
  companyId: string,
  documentId: string,
  where: { entityId?: string; deleted: boolean },
): Promise<DocumentRow | undefined> {
  const q = db('documents as d')
    .join('entities as e', 'e.id', 'd.entity_id')
    .leftJoin('users as u', 'u.id', 'd.uploaded_by')
    .where({ 'd.company_id': companyId, 'd.id': documentId })
    .whereNull('e.deleted_at')
    .select(DOCUMENT_COLUMNS)
  if (where.entityId) q.andWhere('d.entity_id', where.entityId)
  if (where.deleted) q.whereNotNull('d.deleted_at')
  else q.whereNull('d.deleted_at')
  return q.first()
}

export async function softDeleteDocument(db: Db, actor: EntityActor, doc: DocumentRow): Promise<void> {
  await db.transaction(async (trx) => {
    const moved = await trx('documents')
      .where({ id: doc.id })
      .whereNull('deleted_at')
      .update({ deleted_at: trx.fn.now(), deleted_by: actor.user.id })
    exactlyOne(moved, 'document')
    await entityAudit(
      trx,
      actor,
      doc.entity_id,
      'entity.document_deleted',
      { document: doc.id, name: doc.original_name },
      { in_recycle_bin: true },
    )
  })
}

export async function restoreDocument(db: Db, actor: EntityActor, doc: DocumentRow): Promise<void> {
  await db.transaction(async (trx) => {
    const restored = await trx('documents')
      .where({ id: doc.id })
      .whereNotNull('deleted_at')
      .update({ deleted_at: null, deleted_by: null })
    exactlyOne(restored, 'document')
    await entityAudit(
      trx,
      actor,
      doc.entity_id,
      'entity.document_restored',
      { in_recycle_bin: true },
      { document: doc.id, name: doc.original_name },
    )
  })
}

/**
 * Removes bytes whose rows are gone: the keys were queued in storage_deletions by the transaction that
 * deleted the rows, and stay queued until storage confirms. Safe to run again (and run by a sweep).
 */
export async function flushStorageDeletions(db: Db, storage: DocumentStorage): Promise<number> {
  const queued: { storage_key: string }[] = await db('storage_deletions').select('storage_key').limit(500)
  let removed = 0
  for (const { storage_key } of queued) {
    await storage.delete(storage_key)
    await db('storage_deletions').where({ storage_key }).delete()
    removed++
  }
  return removed
}

/** Deletes a document for good: the row now, the bytes right after the transaction commits. */
export async function purgeDocument(
  db: Db,
  storage: DocumentStorage,
  actor: EntityActor,
  doc: DocumentRow,
): Promise<void> {
  await db.transaction(async (trx) => {
    exactlyOne(await trx('documents').where({ id: doc.id }).whereNotNull('deleted_at').delete(), 'document')
    await trx('storage_deletions').insert({ storage_key: doc.storage_key }).onConflict('storage_key').ignore()
    await entityAudit(
      trx,
      actor,
      doc.entity_id,
      'entity.document_purged',
      { document: doc.id, name: doc.original_name },
      { deleted_for_good: true },
    )
  })
  await flushStorageDeletions(db, storage)
}
