/**
 * One contract for every DocumentStorage, run against FileSystemStorage (a temporary folder) and S3Storage
 * (s3rver, a real S3-speaking server started here): what comes back and what is stored, never how.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import t, { type Test } from 'tap'
import { freePort } from '../../scripts/free-port.js'
import { flushStorageDeletions } from '../../src/documents/service.js'
import { type DocumentStorage, FileSystemStorage, HEAD_BYTES } from '../../src/storage/document-storage.js'
import { S3Storage } from '../../src/storage/s3-storage.js'
import { multipartBody, PDF_BYTES, testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aStorageDeletion, aUser, PASSWORD } from '../helpers/factories.js'
import { S3_BUCKET, startS3rver, type TestS3 } from '../helpers/s3rver.js'

const MB = 1024 * 1024
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** A storage under test, and a look at what it holds from outside it. */
interface Subject {
  name: string
  storage: DocumentStorage
  /** The keys of the objects it holds. */
  storedKeys(): Promise<string[]>
  /** Every file its backend keeps (for S3, multipart parts too): what a failure may not leave behind. */
  files(): string[]
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * `size` random bytes made 64 KB at a time as they are read, never all in memory; `failAt` makes the stream
 * fail once that many bytes have gone out; `onRead` is told how many bytes have gone out after each chunk.
 * `sha256()` and `head()` describe what was produced.
 */
function generated(size: number, options: { failAt?: number; onRead?: (sent: number) => void } = {}) {
  const hash = createHash('sha256')
  const head: Buffer[] = []
  let sent = 0
  const stream = new Readable({
    read() {
      if (options.failAt !== undefined && sent >= options.failAt) return this.destroy(new Error('source broke'))
      if (sent >= size) return this.push(null)
      const chunk = randomBytes(Math.min(64 * 1024, size - sent))
      hash.update(chunk)
      if (sent < HEAD_BYTES) head.push(chunk.subarray(0, HEAD_BYTES - sent))
      sent += chunk.length
      options.onRead?.(sent)
      this.push(chunk)
    },
  })
  return { stream, sha256: () => hash.digest('hex'), head: () => Buffer.concat(head) }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Length and sha256 of a stream, read without keeping it. */
async function digestOf(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of stream) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { size, sha256: hash.digest('hex') }
}

/** A full garbage collection, so memory readings count live objects only (no --expose-gc needed). */
function collector(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

function fileSystemSubject(t: Test): Subject {
  const root = mkdtempSync(path.join(tmpdir(), 'kyc-contract-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const files = () =>
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
      .sort()
  return {
    name: 'FileSystemStorage',
    storage: new FileSystemStorage(root),
    storedKeys: async () => files().map((file) => path.basename(file)),
    files,
  }
}

function s3Subject(t: Test, s3: TestS3): Subject {
  const storage = new S3Storage(s3.options)
  t.teardown(() => storage.client.destroy())
  return { name: 'S3Storage', storage, storedKeys: () => s3.objectKeys(), files: () => s3.files() }
}

const s3 = await startS3rver(t)

for (const subject of [fileSystemSubject(t), s3Subject(t, s3)]) {
  const { storage } = subject

  t.test(`${subject.name}: a small file comes back byte for byte, with its size, sha256 and head`, async (t) => {
    const bytes = Buffer.from('%PDF-1.4\nsmall document\n')
    const stored = await storage.put(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]))
    t.equal(stored.size, bytes.length)
    t.equal(stored.sha256, sha256(bytes))
    t.same(stored.head, bytes, 'a file shorter than the head is all head')
    t.same(await readAll(await storage.get(stored.key)), bytes)
    t.ok((await subject.storedKeys()).includes(stored.key), 'stored under its key')
  })

  t.test(`${subject.name}: a zero-byte file is stored and comes back empty`, async (t) => {
    const stored = await storage.put(Readable.from([]))
    t.equal(stored.size, 0)
    t.equal(stored.sha256, sha256(Buffer.alloc(0)))
    t.equal(stored.head.length, 0)
    t.equal((await readAll(await storage.get(stored.key))).length, 0)
    t.ok((await subject.storedKeys()).includes(stored.key))
  })

  t.test(`${subject.name}: a 12 MB stream (more than two 5 MB parts) comes back whole`, async (t) => {
    const source = generated(12 * MB)
    const stored = await storage.put(source.stream)
    t.equal(stored.size, 12 * MB)
    t.equal(stored.sha256, source.sha256())
    t.equal(stored.head.length, HEAD_BYTES)
    t.same(stored.head, source.head(), 'the head is the first 64 KB')
    t.same(await digestOf(await storage.get(stored.key)), { size: 12 * MB, sha256: stored.sha256 })
  })

  t.test(`${subject.name}: keys are fresh UUIDs, never taken from the input`, async (t) => {
    const bytes = Buffer.from('same bytes twice')
    // A stream that carries a name, as fs.ReadStream does: the storage must not use it.
    const named = () => Object.assign(Readable.from([bytes]), { path: '../../etc/passwd', filename: 'a.pdf' })
    const first = await storage.put(named())
    const second = await storage.put(named())
    t.match(first.key, UUID)
    t.match(second.key, UUID)
    t.not(first.key, second.key, 'the same bytes get a new key')
    const keys = await subject.storedKeys()
    t.ok(keys.includes(first.key) && keys.includes(second.key))
    t.notOk(
      keys.some((key) => !UUID.test(key)),
      'nothing stored under any other name',
    )
  })

  t.test(`${subject.name}: a missing key rejects with code ENOENT; a malformed key is refused`, async (t) => {
    await t.rejects(storage.get(randomUUID()), { code: 'ENOENT' })
    await t.rejects(storage.get('../../etc/passwd'), { message: 'invalid storage key' })
    await t.rejects(storage.delete('../../etc/passwd'), { message: 'invalid storage key' })
  })

  t.test(`${subject.name}: delete removes the object and can be repeated`, async (t) => {
    const stored = await storage.put(Readable.from([Buffer.from('to be deleted')]))
    await storage.delete(stored.key)
    t.notOk((await subject.storedKeys()).includes(stored.key), 'gone from the listing')
    await t.rejects(storage.get(stored.key), { code: 'ENOENT' })
    await t.resolves(storage.delete(stored.key), 'deleting again succeeds')
    await t.resolves(storage.delete(randomUUID()), 'deleting a key never stored succeeds')
  })

  t.test(`${subject.name}: a source that fails midway rejects put and leaves nothing behind`, async (t) => {
    const before = subject.files()
    // After 11 MB: for S3, two 5 MB parts have been cut and sent by then, so the multipart upload must be undone.
    await t.rejects(storage.put(generated(12 * MB, { failAt: 11 * MB }).stream), { message: 'source broke' })
    t.same(subject.files(), before, 'no object, no partial file, no uploaded part')
    await t.rejects(storage.put(generated(MB, { failAt: 100 * 1024 }).stream), { message: 'source broke' })
    t.same(subject.files(), before, 'nor for a small file')
  })

  t.test(`${subject.name}: a 50 MB stream passes through without being held in memory`, async (t) => {
    const gc = collector()
    const used = () => {
      gc()
      return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
    }
    // Measured every 5 MB read from the source, after a full collection (so garbage waiting for the collector
    // is not counted): a storage that held the file would show up to 50 MB there; S3Storage holds a few 5 MB
    // parts at a time. The bound is generous on purpose: under 30 MB, at every point and after. By bytes, not
    // by a timer: a full collection takes ~35 ms under tap, and one every few chunks slows the put to minutes.
    const samples = [used()]
    const source = generated(50 * MB, {
      onRead(sent) {
        if (sent % (5 * MB) === 0) samples.push(used())
      },
    })
    const stored = await storage.put(source.stream)
    const after = used()
    // The lowest reading is the baseline: what earlier tests left may be freed during this one.
    const baseline = Math.min(...samples, after)
    const peak = Math.max(...samples)
    t.equal(stored.size, 50 * MB)
    t.equal(stored.sha256, source.sha256())
    t.equal(samples.length, 11, 'measured before, and at every 5 MB')
    t.ok(peak - baseline < 30 * MB, `peak growth ${((peak - baseline) / MB).toFixed(1)} MB is under 30 MB`)
    t.ok(after - baseline < 30 * MB, `growth after ${((after - baseline) / MB).toFixed(1)} MB is under 30 MB`)
    await storage.delete(stored.key)
  })
}

/** The requests s3rver received for one key. */
async function requestsFor(key: string) {
  return (await s3.received()).filter((request) => request.url.split('?')[0]?.endsWith(`/${key}`))
}

t.test('S3Storage: the server-side encryption header goes out with every put when configured', async (t) => {
  const aes = new S3Storage({ ...s3.options, serverSideEncryption: 'AES256' })
  const kms = new S3Storage({ ...s3.options, serverSideEncryption: 'aws:kms', sseKmsKeyId: 'alias/kyc-documents' })
  const none = new S3Storage(s3.options)
  t.teardown(() => {
    for (const storage of [aes, kms, none]) storage.client.destroy()
  })

  const small = await aes.put(Readable.from([Buffer.from('small')]))
  const [put] = (await requestsFor(small.key)).filter((request) => request.method === 'PUT')
  t.equal(put?.headers['x-amz-server-side-encryption'], 'AES256', 'on PutObject')

  const large = await aes.put(generated(12 * MB).stream)
  const sent = await requestsFor(large.key)
  const create = sent.find((request) => request.method === 'POST' && request.url.includes('?uploads'))
  t.equal(create?.headers['x-amz-server-side-encryption'], 'AES256', 'on CreateMultipartUpload (S3 asks it there)')
  t.equal(sent.filter((request) => request.url.includes('partNumber=')).length, 3, 'a 12 MB file goes in 3 parts')
  t.notOk(
    sent.some(
      (request) => 'x-amz-checksum-crc32' in request.headers || 'x-amz-sdk-checksum-algorithm' in request.headers,
    ),
    'no optional checksums (requestChecksumCalculation WHEN_REQUIRED)',
  )

  const withKey = await kms.put(Readable.from([Buffer.from('kms')]))
  const [kmsPut] = await requestsFor(withKey.key)
  t.equal(kmsPut?.headers['x-amz-server-side-encryption'], 'aws:kms')
  t.equal(kmsPut?.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'alias/kyc-documents')

  const plain = await none.put(Readable.from([Buffer.from('plain')]))
  t.notOk(
    (await requestsFor(plain.key)).some((request) => 'x-amz-server-side-encryption' in request.headers),
    'not sent when not configured',
  )
  t.throws(
    () => new S3Storage({ ...s3.options, serverSideEncryption: 'AES256', sseKmsKeyId: 'k' }),
    /needs server-side encryption aws:kms/,
  )
})

t.test('S3Storage: a multipart upload whose source fails is aborted, and no object is created', async (t) => {
  const storage = new S3Storage(s3.options)
  t.teardown(() => storage.client.destroy())
  const from = (await s3.received()).length
  await t.rejects(storage.put(generated(12 * MB, { failAt: 11 * MB }).stream), { message: 'source broke' })
  const sent = (await s3.received()).slice(from)
  const create = sent.find((request) => request.url.includes('?uploads'))
  const key = create?.url.split('?')[0]?.split('/').pop() ?? ''
  t.match(key, UUID)
  t.ok(
    sent.some((request) => request.method === 'DELETE' && request.url.includes('uploadId=')),
    'AbortMultipartUpload was sent',
  )
  t.notOk(
    sent.some((request) => request.method === 'POST' && request.url.includes('uploadId=')),
    'CompleteMultipartUpload never was',
  )
  t.notOk((await s3.objectKeys()).includes(key))
})

t.test(
  'S3Storage: when S3 cannot be reached, a large upload reports that, not the stream it stopped reading',
  async (t) => {
    const closed = await freePort()
    const storage = new S3Storage({ ...s3.options, endpoint: `http://127.0.0.1:${closed}` })
    t.teardown(() => storage.client.destroy())
    // An upload as it arrives: a stream fed 64 KB at a time, still arriving when the first part fails.
    const source = new PassThrough()
    let written = 0
    const feed = setInterval(() => {
      if (source.destroyed || written >= 24 * MB) {
        clearInterval(feed)
        if (!source.destroyed) source.end()
        return
      }
      source.write(Buffer.alloc(64 * 1024, 1))
      written += 64 * 1024
    }, 2)
    t.teardown(() => clearInterval(feed))
    await t.rejects(storage.put(source), { code: 'ECONNREFUSED' }, 'the connection error, not an AbortError')
  },
)

t.test('the app with S3Storage: a document uploaded, downloaded, purged, and the sweep', async (t) => {
  const storage = new S3Storage(s3.options)
  t.teardown(() => storage.client.destroy())
  const { app, db } = await testApp(t, {}, undefined, storage)
  const company = await aCompany(db, 'Alpha Advisers')
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const clerk = await aUser(db, { company, permissions: ['upload_entity_documents', 'download_entity_documents'] })
  const remover = await aUser(db, { company, permissions: ['permanently_delete_documents'] })
  const entity = await anEntity(db, { company, owner: admin, name: 'Docs Ltd' })
  const v = new Visitor(app)
  await v.login(clerk.email, PASSWORD)
  await v.get(`/entities/${entity.id}`)
  const body = multipartBody([['_csrf', v.csrfToken]], {
    field: 'file',
    filename: 'passport.pdf',
    content: PDF_BYTES,
    type: 'application/pdf',
  })
  const upload = await v.request({
    method: 'POST',
    url: `/entities/${entity.id}/documents`,
    payload: body.payload,
    headers: body.headers,
  })
  t.equal(upload.statusCode, 303)
  const doc = await db('documents').where({ entity_id: entity.id }).first()
  t.equal(doc.sha256, sha256(PDF_BYTES))
  t.ok((await s3.objectKeys()).includes(doc.storage_key), 'the bytes are in the bucket under the row’s key')
  const object = await s3.client.send(new GetObjectCommand({ Bucket: S3_BUCKET, Key: doc.storage_key }))
  t.same(
    Buffer.from(
      await (object.Body as Readable & { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    ),
    PDF_BYTES,
  )

  const download = await v.get(`/entities/${entity.id}/documents/${doc.id}`)
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], 'application/pdf')
  t.same(download.rawPayload, PDF_BYTES)

  const r = new Visitor(app)
  await r.login(remover.email, PASSWORD)
  await r.get(`/entities/${entity.id}/documents/${doc.id}/delete`)
  t.equal((await r.post(`/entities/${entity.id}/documents/${doc.id}/delete`, {})).statusCode, 303)
  t.ok((await s3.objectKeys()).includes(doc.storage_key), 'in the recycle bin, the bytes stay')
  t.match(visibleText((await r.get(`/recycle-bin/documents/${doc.id}/purge`)).body), 'Delete passport.pdf for good?')
  t.equal((await r.post(`/recycle-bin/documents/${doc.id}/purge`, {})).statusCode, 303)
  t.equal((await db('documents')).length, 0)
  t.notOk((await s3.objectKeys()).includes(doc.storage_key), 'purged: the bytes are gone from the bucket')
  t.equal((await db('storage_deletions')).length, 0)

  // The sweep (job storage.sweep): bytes whose rows are gone, one of them already removed.
  const orphan = await storage.put(Readable.from([Buffer.from('bytes whose row is gone')]))
  await aStorageDeletion(db, orphan.key)
  await aStorageDeletion(db, randomUUID())
  t.equal(await flushStorageDeletions(db, storage), 2)
  t.notOk((await s3.objectKeys()).includes(orphan.key))
  t.equal((await db('storage_deletions')).length, 0)
})
