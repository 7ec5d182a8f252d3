import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DeleteObjectCommand, GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { type DocumentStorage, inspector, type StoredObject } from './document-storage.js'

export type ServerSideEncryption = 'AES256' | 'aws:kms'

export interface S3StorageOptions {
  bucket: string
  region: string
  /** An S3-compatible server (MinIO, Ceph, s3rver…); undefined for AWS itself. */
  endpoint?: string | undefined
  /** Bucket in the path (`host/bucket/key`) rather than the host name; by default true when an endpoint is given. */
  forcePathStyle?: boolean | undefined
  /** Sent with every put (PutObject, or CreateMultipartUpload for a large file). */
  serverSideEncryption?: ServerSideEncryption | undefined
  /** The KMS key for `aws:kms`; without it S3 uses the account's default key. */
  sseKmsKeyId?: string | undefined
  /** For tests only: in production the SDK's default chain finds them (AWS_ACCESS_KEY_ID…, profile, role). */
  credentials?: S3ClientConfig['credentials']
  /** For tests only: the client to use instead of one built from these options. */
  client?: S3Client
}

/**
 * Parts of a multipart upload: S3's smallest, two uploaded at a time. An upload holds a few parts in memory
 * (those in flight, the one being filled, the one lib-storage's chunker last cut), never the whole file:
 * about 25 MB at most, whatever the file's size (test/storage/contract.test.ts measures it).
 */
const PART_SIZE = 5 * 1024 * 1024
const QUEUE_SIZE = 2

/** Same format as FileSystemStorage's keys: a key from the database never reaches S3 unchecked. */
function checkedKey(key: string): string {
  if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error('invalid storage key')
  return key
}

export function s3Client(options: S3StorageOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Since client-s3 3.729 the SDK adds a CRC32 checksum to every upload by default (an x-amz-checksum-crc32
    // header for a buffer, as Upload sends its parts; for a stream body, aws-chunked encoding with the checksum
    // in a trailer) and asks for checksums on GetObject. S3-compatible servers do not all follow: Cloudflare R2
    // answered NotImplemented to that header when the change came out, and s3rver (our test server) stores an
    // aws-chunked body's framing as the object's bytes. WHEN_REQUIRED sends and checks checksums only where the
    // S3 API requires one (none of the calls made here); each document's sha256 is in the database either way.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/**
 * Document bytes in an S3 bucket (or an S3-compatible server), one object per document, named by its key.
 * Same contract as FileSystemStorage: a put that fails leaves nothing behind, a missing key rejects with
 * code ENOENT, delete is idempotent.
 */
export class S3Storage implements DocumentStorage {
  readonly client: S3Client
  private readonly bucket: string
  private readonly encryption: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string }

  constructor(options: S3StorageOptions) {
    if (options.sseKmsKeyId && options.serverSideEncryption !== 'aws:kms') {
      throw new Error('an SSE KMS key id needs server-side encryption aws:kms')
    }
    this.client = options.client ?? s3Client(options)
    this.bucket = options.bucket
    this.encryption = {
      ...(options.serverSideEncryption ? { ServerSideEncryption: options.serverSideEncryption } : {}),
      ...(options.sseKmsKeyId ? { SSEKMSKeyId: options.sseKmsKeyId } : {}),
    }
  }

  async put(source: Readable): Promise<StoredObject> {
    const key = randomUUID()
    const { stream, result } = inspector()
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: stream, ...this.encryption },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // leavePartsOnError stays false: when a part or the source fails, Upload sends AbortMultipartUpload,
      // which deletes the parts already stored.
    })
    // The source's own failure is the one to report (as FileSystemStorage's pipeline would): Upload may
    // replace it with a failure of its AbortMultipartUpload.
    let sourceError: unknown
    const noteSourceError = (error: unknown) => {
      // An abort or premature close is the pipeline giving up on a source whose upload failed: not the cause.
      const code = (error as { code?: string; name?: string } | undefined)?.code
      if ((error as Error | undefined)?.name === 'AbortError' || code === 'ERR_STREAM_PREMATURE_CLOSE') return
      sourceError = error
    }
    source.once('error', noteSourceError)
    // Both run to the end before put answers, so nothing is still being written when it rejects. A source
    // that fails destroys the inspector with its error, which fails the upload; an upload that fails stops
    // reading, which ends the pipeline.
    const [piped, uploaded] = await Promise.allSettled([pipeline(source, stream), upload.done()])
    source.off('error', noteSourceError)
    if (piped.status === 'rejected' || uploaded.status === 'rejected') {
      // A CompleteMultipartUpload whose answer was lost may still have created the object: remove it, as
      // FileSystemStorage removes its partial file. Best effort: the failure that matters is the first one.
      await this.delete(key).catch(() => undefined)
      throw sourceError ?? (uploaded.status === 'rejected' ? uploaded.reason : (piped as PromiseRejectedResult).reason)
    }
    return { key, ...result() }
  }

  async get(key: string): Promise<Readable> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: checkedKey(key) }))
      if (!(Body instanceof Readable)) throw new Error('S3 answered GetObject without a stream body')
      return Body
    } catch (error) {
      if ((error as { name?: string }).name !== 'NoSuchKey') throw error
      // The shape of FileSystemStorage's rejection (fs.stat's ENOENT): one kind of "missing" for every storage.
      throw Object.assign(new Error(`ENOENT: no such stored object, ${key}`), { code: 'ENOENT', cause: error })
    }
  }

  async delete(key: string): Promise<void> {
    // DeleteObject answers 204 whether or not the object existed.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checkedKey(key) }))
  }
}
