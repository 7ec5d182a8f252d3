import type { FastifyInstance } from 'fastify'
import { clientOf } from '../access/client-context.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { one, query } from '../http/schemas.js'
import { ALLOWED_DESCRIPTION, downloadName } from './file-types.js'
import { documentsOf, findDocument, type StoredUpload, softDeleteDocument, storeUpload, tooLarge } from './service.js'

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
      const chooseFile = new RuleError('file', 'Choose a file to upload')
      if (!request.isMultipart()) throw chooseFile
      const parts = request.multipartParts ?? request.parts()
      // The whole request is read before anything is recorded: a second file, or a request cut short, leaves
      // no document behind, so the error page's "nothing was changed" is true.
      let upload: StoredUpload | undefined
      try {
        for await (const part of parts) {
          if (part.type !== 'file') continue
          if (part.fieldname !== 'file' || !part.filename) {
            part.file.resume()
            continue
          }
          if (upload) throw new RuleError('file', 'Upload one file at a time')
          upload = await storeUpload(
            app.storage,
            { filename: part.filename, stream: part.file },
            app.config.maxUploadBytes,
          )
        }
      } catch (error) {
        await upload?.discard()
        // @fastify/multipart's own limits, in the same words as ours.
        const code = (error as { code?: string }).code
        if (code === 'FST_FILES_LIMIT') throw new RuleError('file', 'Upload one file at a time')
        if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(app.config.maxUploadBytes)
        throw error
      }
      if (!upload) throw chooseFile
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
      const name = downloadName(doc.original_name, doc.media_type)
      const ascii = name.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_')
      const stream = await app.storage.get(doc.storage_key)
      return reply
        .header('Content-Type', doc.media_type === 'text/plain' ? 'text/plain; charset=utf-8' : doc.media_type)
        .header('Content-Length', String(doc.size_bytes))
        .header(
          'Content-Disposition',
          `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        )
        .header('X-Content-Type-Options', 'nosniff')
        .header('Cache-Control', 'private, no-store')
        .send(stream)
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
