import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'

export interface StoredObject {
  key: string
  size: number
  sha256: string
  /** The first bytes, for detecting the type from the content. */
  head: Buffer
}

/** Where document bytes live. Keys are generated here, never derived from a user's file name. */
export interface DocumentStorage {
  put(source: Readable): Promise<StoredObject>
  get(key: string): Promise<Readable>
  delete(key: string): Promise<void>
}

export const HEAD_BYTES = 64 * 1024

/** Hashes, counts and keeps the first bytes of a stream as it passes. */
export function inspector() {
  const hash = createHash('sha256')
  const head: Buffer[] = []
  let size = 0
  let headSize = 0
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      if (headSize < HEAD_BYTES) {
        head.push(chunk.subarray(0, HEAD_BYTES - headSize))
        headSize += Math.min(chunk.length, HEAD_BYTES - headSize)
      }
      cb(null, chunk)
    },
  })
  return { stream, result: () => ({ size, sha256: hash.digest('hex'), head: Buffer.concat(head) }) }
}

/** Files under a directory (default .data/documents), two levels of fan-out by key. */
export class FileSystemStorage implements DocumentStorage {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error('invalid storage key')
    return path.join(this.root, key.slice(0, 2), key)
  }

  async put(source: Readable): Promise<StoredObject> {
    const key = randomUUID()
    const file = this.pathOf(key)
    await mkdir(path.dirname(file), { recursive: true })
    const { stream, result } = inspector()
    try {
      await pipeline(source, stream, createWriteStream(file, { flags: 'wx', mode: 0o600 }))
    } catch (error) {
      await rm(file, { force: true })
      throw error
    }
    return { key, ...result() }
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key)
    await stat(file)
    return createReadStream(file)
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true })
  }
}
