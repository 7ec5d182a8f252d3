import type { FastifyRequest } from 'fastify'
import { RuleError } from '../forms/rule-error.js'
import type { DocumentStorage } from '../storage/document-storage.js'
import { type StoredUpload, storeUpload, tooLarge } from './service.js'

/**
 * Reads an upload form (its one `file` part) and stores the file's bytes, checked: the whole request is read
 * before anything is recorded, so a second file, or a request cut short, leaves nothing behind, and the error
 * page's "nothing was changed" is true. Staff uploads and the portal's both come through here.
 */
export async function receiveUpload(
  request: FastifyRequest,
  storage: DocumentStorage,
  maxBytes: number,
): Promise<StoredUpload> {
  const chooseFile = new RuleError('file', 'Choose a file to upload')
  if (!request.isMultipart()) throw chooseFile
  const parts = request.multipartParts ?? request.parts()
  let upload: StoredUpload | undefined
  try {
    for await (const part of parts) {
      if (part.type !== 'file') continue
      if (part.fieldname !== 'file' || !part.filename) {
        part.file.resume()
        continue
      }
      if (upload) throw new RuleError('file', 'Upload one file at a time')
      upload = await storeUpload(storage, { filename: part.filename, stream: part.file }, maxBytes)
    }
  } catch (error) {
    await upload?.discard()
    // @fastify/multipart's own limits, in the same words as ours.
    const code = (error as { code?: string }).code
    if (code === 'FST_FILES_LIMIT') throw new RuleError('file', 'Upload one file at a time')
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(maxBytes)
    throw error
  }
  if (!upload) throw chooseFile
  return upload
}
