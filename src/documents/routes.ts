import type { FastifyInstance } from 'fastify'
import { clientOf } from '../access/client-context.js'
import { isolate } from '../forms/names.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { one, query } from '../http/schemas.js'
import { ALLOWED_DESCRIPTION } from './file-types.js'
import { receiveUpload } from './receive.js'
import { sendStoredFile } from './send-file.js'
import { documentsOf, findDocument, softDeleteDocument } from './service.js'

const INLINE_TYPES = new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'text/plain'])

export default async function documentRoutes(app: FastifyInstance) {
  app.addClientSection({
    id: 'documents',
    order: 30,
    template: '/documents/_client-section',
    async load(_request, { entity }) {
      return {
        documents: await documentsOf(app.db, entity.company_id, entity.id),
        allowedTypes: ALLOWED_DESCRIPTION,
        maxUploadMb: Math.round(app.config.maxUploadBytes / 1024 / 1024),
      }
    },
  })

  app.post<{ Params: { id: string } }>(
    '/entities/:id/documents',
    {
      config: {
        access: { permission: 'upload_entity_documents', client: 'params.id' },
        multipart: true,
        once: true,
        form: (request, reply, errors) => reply.clientPage(clientOf(request), errors),
      },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const upload = await receiveUpload(request, app.storage, app.config.maxUploadBytes)
      await upload.record(app.db, requestActor(request), entity.id)
      const uploaded = upload.name
      reply.flash({ kind: 'success', text: `${uploaded} was uploaded.` })
      return reply.redirect(`/entities/${entity.id}#documents`, 303)
    },
  )

  const documentOf = async (companyId: string, entityId: string, documentId: string) => {
    const doc = isUuid(documentId)
      ? await findDocument(app.db, companyId, documentId, { entityId, deleted: false })
      : undefined
    if (!doc) throw new NotFoundError('document')
    return doc
  }

  app.get<{ Params: { id: string; documentId: string }; Querystring: { inline?: string } }>(
    '/entities/:id/documents/:documentId',
    {
      config: { access: { permission: 'download_entity_documents', client: 'params.id' } },
      schema: { querystring: query({ inline: one(10) }) },
    },
    async (request, reply) => {
      const doc = await documentOf(signedInUser(request).companyId, request.params.id, request.params.documentId)
      const inline = request.query.inline === '1' && INLINE_TYPES.has(doc.media_type)
      return sendStoredFile(reply, app.storage, doc, inline)
    },
  )

  const DELETE = { access: { permission: 'permanently_delete_documents', client: 'params.id' } } as const
  app.get<{ Params: { id: string; documentId: string } }>(
    '/entities/:id/documents/:documentId/delete',
    { config: DELETE },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const doc = await documentOf(entity.company_id, entity.id, request.params.documentId)
      return reply.page('documents/delete', {
        title: `Move ${isolate(doc.original_name)} to the recycle bin?`,
        entity,
        doc,
      })
    },
  )

  app.post<{ Params: { id: string; documentId: string } }>(
    '/entities/:id/documents/:documentId/delete',
    { config: DELETE },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const doc = await documentOf(entity.company_id, entity.id, request.params.documentId)
      await softDeleteDocument(app.db, requestActor(request), doc)
      reply.flash({ kind: 'success', text: `${isolate(doc.original_name)} was moved to the recycle bin.` })
      return reply.redirect(`/entities/${entity.id}#documents`, 303)
    },
  )
}
