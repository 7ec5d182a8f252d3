import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findDocument, purgeDocument, restoreDocument } from '../documents/service.js'
import { findDeletedEntity } from '../entities/queries.js'
import { isolate } from '../forms/names.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { purgeEntity, recycleBin, restoreEntity } from './service.js'

// Client-scoped: a client in the recycle bin, or a document in it (its client decides), under client access.
const ENTITIES = {
  access: { permission: 'permanently_delete_restore_entities', client: 'params.id', clientFrom: 'deleted_client' },
} as const
const DOCUMENTS = {
  access: { permission: 'permanently_delete_documents', client: 'params.id', clientFrom: 'deleted_document' },
} as const

/** The recycle bin: deleted entities and documents, restored or deleted for good by the right permissions. */
export default async function recycleBinRoutes(app: FastifyInstance) {
  app.get(
    '/recycle-bin',
    { config: { access: { permission: ['delete_entities', 'permanently_delete_documents'] } } },
    async (request, reply) => {
      const user = signedInUser(request)
      const bin = await recycleBin(app.db, user)
      return reply.page('recycle-bin/index', {
        title: 'Recycle bin',
        ...bin,
        mayRestoreEntities: user.permissions.has('permanently_delete_restore_entities'),
        mayPurgeDocuments: user.permissions.has('permanently_delete_documents'),
      })
    },
  )

  const deletedEntity = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const { id } = request.params
    const entity = isUuid(id) ? await findDeletedEntity(app.db, signedInUser(request).companyId, id) : undefined
    if (!entity) throw new NotFoundError('deleted entity')
    return entity
  }
  const deletedDocument = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const { id } = request.params
    const doc = isUuid(id)
      ? await findDocument(app.db, signedInUser(request).companyId, id, { deleted: true })
      : undefined
    if (!doc) throw new NotFoundError('deleted document')
    return doc
  }

  app.post<{ Params: { id: string } }>(
    '/recycle-bin/entities/:id/restore',
    { config: ENTITIES },
    async (request, reply) => {
      const entity = await deletedEntity(request)
      await restoreEntity(app.db, requestActor(request), entity)
      reply.flash({ kind: 'success', text: `${isolate(entity.name)} was restored.` })
      return reply.redirect(`/entities/${entity.id}`, 303)
    },
  )

  app.get<{ Params: { id: string } }>(
    '/recycle-bin/entities/:id/purge',
    { config: ENTITIES },
    async (request, reply) => {
      const entity = await deletedEntity(request)
      const documents = Number((await app.db('documents').where({ entity_id: entity.id }).count('* as n'))[0]?.n ?? 0)
      return reply.page('recycle-bin/purge-entity', {
        title: `Delete ${isolate(entity.name)} for good?`,
        entity,
        documents,
      })
    },
  )

  app.post<{ Params: { id: string } }>(
    '/recycle-bin/entities/:id/purge',
    { config: ENTITIES },
    async (request, reply) => {
      const entity = await deletedEntity(request)
      await purgeEntity(app.db, app.storage, requestActor(request), entity)
      reply.flash({ kind: 'success', text: `${isolate(entity.name)} was deleted for good, with its documents.` })
      return reply.redirect('/recycle-bin', 303)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/recycle-bin/documents/:id/restore',
    { config: DOCUMENTS },
    async (request, reply) => {
      const doc = await deletedDocument(request)
      await restoreDocument(app.db, requestActor(request), doc)
      reply.flash({ kind: 'success', text: `${isolate(doc.original_name)} was restored.` })
      return reply.redirect('/recycle-bin', 303)
    },
  )

  app.get<{ Params: { id: string } }>(
    '/recycle-bin/documents/:id/purge',
    { config: DOCUMENTS },
    async (request, reply) => {
      const doc = await deletedDocument(request)
      return reply.page('recycle-bin/purge-document', { title: `Delete ${isolate(doc.original_name)} for good?`, doc })
    },
  )

  app.post<{ Params: { id: string } }>(
    '/recycle-bin/documents/:id/purge',
    { config: DOCUMENTS },
    async (request, reply) => {
      const doc = await deletedDocument(request)
      await purgeDocument(app.db, app.storage, requestActor(request), doc)
      reply.flash({ kind: 'success', text: `${isolate(doc.original_name)} was deleted for good.` })
      return reply.redirect('/recycle-bin', 303)
    },
  )
}
