import type { FastifyReply } from 'fastify'
import type { DocumentStorage } from '../storage/document-storage.js'
import { downloadName } from './file-types.js'

/** What a stored file is sent with. */
export interface StoredFile {
  storage_key: string
  original_name: string
  media_type: string
  size_bytes: number | string
}

/**
 * Sends a stored file: its detected type, its length, a download name that follows that type, never sniffed
 * and never cached. `inline` opens it in the browser (for the types that are safe to show).
 */
export async function sendStoredFile(reply: FastifyReply, storage: DocumentStorage, file: StoredFile, inline = false) {
  const name = downloadName(file.original_name, file.media_type)
  const ascii = name.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_')
  const stream = await storage.get(file.storage_key)
  return reply
    .header('Content-Type', file.media_type === 'text/plain' ? 'text/plain; charset=utf-8' : file.media_type)
    .header('Content-Length', String(file.size_bytes))
    .header(
      'Content-Disposition',
      `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    )
    .header('X-Content-Type-Options', 'nosniff')
    .header('Cache-Control', 'private, no-store')
    .send(stream)
}
