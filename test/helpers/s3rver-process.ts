/**
 * s3rver in a process of its own (test/helpers/s3rver.ts starts it), so that what a test measures in its
 * own process — memory above all — is the client's alone. Arguments: port, directory. Says 'ready' over IPC,
 * and ends when its parent goes.
 *
 * Two additions of ours, in front of s3rver's own routes:
 * - GET /__received answers every request received so far (method, path with query, headers), so a test can
 *   see what went out on the wire.
 * - s3rver 3.7.1 has no AbortMultipartUpload: it answers 405 MethodNotAllowed and keeps the parts. Real S3
 *   deletes them, so this answers that request as S3 does (204, the upload's parts removed).
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import S3rver from 's3rver'

const [port, directory] = process.argv.slice(2)
if (!port || !directory) throw new Error('usage: s3rver-process.ts <port> <directory>')

const received: { method: string; url: string; headers: Record<string, string | string[] | undefined> }[] = []
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true })
server.middleware.unshift(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/__received') {
    ctx.status = 200
    ctx.body = JSON.stringify(received)
    return
  }
  received.push({ method: ctx.method, url: ctx.url, headers: { ...ctx.headers } })
  const uploadId = ctx.query.uploadId
  if (ctx.method === 'DELETE' && typeof uploadId === 'string') {
    if (!/^[0-9a-f]+$/.test(uploadId)) throw new Error('unexpected upload id')
    const bucket = ctx.path.split('/')[1] ?? ''
    // Where s3rver's FilesystemStore keeps the parts of an unfinished upload.
    rmSync(path.join(directory, bucket, '._S3rver_uploads', uploadId), { recursive: true, force: true })
    ctx.status = 204
    ctx.body = ''
    return
  }
  await next()
})
await server.run()
process.on('disconnect', () => process.exit(0))
process.send?.('ready')
