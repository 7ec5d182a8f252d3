import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import { loadConfig } from '../src/config.js'

t.test('defaults: port 3000, embedded database, a session secret generated once under the data folder', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kyc-config-'))
  const config = loadConfig({ DATA_DIR: dataDir })
  t.equal(config.port, 3000)
  t.equal(config.databaseUrl, undefined)
  t.equal(config.production, false)
  t.equal(config.seedDemo, true)
  t.equal(config.idleTimeoutMinutes, 30)
  t.equal(config.absoluteTimeoutHours, 12)
  const file = path.join(dataDir, 'session-secret')
  t.ok(existsSync(file))
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only')
  t.equal(config.sessionSecret, readFileSync(file, 'utf8').trim())
  t.ok(config.sessionSecret.length >= 64)
  t.equal(loadConfig({ DATA_DIR: dataDir }).sessionSecret, config.sessionSecret, 'kept between starts')
})

t.test('values from the environment, checked', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    DATABASE_URL: 'postgres://u:p@db/kyc',
    SESSION_SECRET: 'x'.repeat(40),
    NODE_ENV: 'production',
    TRUST_PROXY: 'true',
    SESSION_IDLE_MINUTES: '15',
  })
  t.equal(config.port, 8080)
  t.equal(config.databaseUrl, 'postgres://u:p@db/kyc')
  t.equal(config.production, true)
  t.equal(config.seedDemo, false, 'no demo data in production unless SEED_DEMO=true')
  t.equal(config.trustProxy, true)
  t.equal(config.idleTimeoutMinutes, 15)
  t.equal(loadConfig({ SESSION_SECRET: 'x'.repeat(40), TRUST_PROXY: '10.0.0.1' }).trustProxy, '10.0.0.1')
  t.throws(() => loadConfig({ PORT: 'abc', SESSION_SECRET: 'x'.repeat(40) }), /PORT must be a positive whole number/)
  t.throws(() => loadConfig({ SESSION_SECRET: 'short' }), /at least 32 characters/)
})

t.test('document storage: files by default, or an S3 bucket, checked at startup', async (t) => {
  const secret = { SESSION_SECRET: 'x'.repeat(40) }
  t.same(loadConfig(secret).documentStorage, { kind: 'filesystem' })
  t.same(loadConfig({ ...secret, DOCUMENT_STORAGE: 'filesystem', S3_BUCKET: 'ignored' }).documentStorage, {
    kind: 'filesystem',
  })
  t.same(loadConfig({ ...secret, DOCUMENT_STORAGE: 's3', S3_BUCKET: 'kyc-docs' }).documentStorage, {
    kind: 's3',
    bucket: 'kyc-docs',
    region: 'us-east-1',
    endpoint: undefined,
    forcePathStyle: false,
    serverSideEncryption: undefined,
    sseKmsKeyId: undefined,
  })
  t.same(
    loadConfig({
      ...secret,
      DOCUMENT_STORAGE: 's3',
      S3_BUCKET: 'kyc-docs',
      S3_REGION: 'eu-west-3',
      S3_ENDPOINT: 'http://minio:9000',
      S3_SSE: 'aws:kms',
      S3_SSE_KMS_KEY_ID: 'alias/kyc',
    }).documentStorage,
    {
      kind: 's3',
      bucket: 'kyc-docs',
      region: 'eu-west-3',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      serverSideEncryption: 'aws:kms',
      sseKmsKeyId: 'alias/kyc',
    },
    'path-style by default with an endpoint',
  )
  const s3 = { ...secret, DOCUMENT_STORAGE: 's3', S3_BUCKET: 'kyc-docs' }
  t.match(loadConfig({ ...s3, S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'false' }).documentStorage, {
    forcePathStyle: false,
  })
  t.match(loadConfig({ ...s3, S3_FORCE_PATH_STYLE: 'true', S3_SSE: 'AES256' }).documentStorage, {
    forcePathStyle: true,
    serverSideEncryption: 'AES256',
  })
  t.throws(() => loadConfig({ ...secret, DOCUMENT_STORAGE: 'foo' }), /DOCUMENT_STORAGE must be "filesystem" or "s3"/)
  t.throws(() => loadConfig({ ...secret, DOCUMENT_STORAGE: 's3' }), /S3_BUCKET is required/)
  t.throws(() => loadConfig({ ...s3, S3_ENDPOINT: 'minio:9000' }), /S3_ENDPOINT must be an http/)
  t.throws(() => loadConfig({ ...s3, S3_FORCE_PATH_STYLE: 'yes' }), /S3_FORCE_PATH_STYLE must be "true" or "false"/)
  t.throws(() => loadConfig({ ...s3, S3_SSE: 'aes256' }), /S3_SSE must be "AES256" or "aws:kms"/)
  t.throws(
    () => loadConfig({ ...s3, S3_SSE: 'AES256', S3_SSE_KMS_KEY_ID: 'k' }),
    /S3_SSE_KMS_KEY_ID needs S3_SSE=aws:kms/,
  )
})

t.test('storageFromConfig: the storage the configuration names', async (t) => {
  const { storageFromConfig } = await import('../src/storage/from-config.js')
  const { FileSystemStorage } = await import('../src/storage/document-storage.js')
  const { S3Storage } = await import('../src/storage/s3-storage.js')
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kyc-config-'))
  const secret = { SESSION_SECRET: 'x'.repeat(40), DATA_DIR: dataDir }
  const files = storageFromConfig(loadConfig(secret))
  t.ok(files instanceof FileSystemStorage)
  const { key } = await files.put(Readable.from([Buffer.from('bytes')]))
  t.ok(existsSync(path.join(dataDir, 'documents', key.slice(0, 2), key)), 'under DATA_DIR/documents')
  const s3 = storageFromConfig(
    loadConfig({ ...secret, DOCUMENT_STORAGE: 's3', S3_BUCKET: 'kyc-docs', S3_ENDPOINT: 'http://minio:9000' }),
  )
  t.ok(s3 instanceof S3Storage)
  if (!(s3 instanceof S3Storage)) return
  t.teardown(() => s3.client.destroy())
  t.equal(s3.client.config.forcePathStyle, true)
  t.equal(await s3.client.config.region(), 'us-east-1')
  t.equal(await s3.client.config.requestChecksumCalculation(), 'WHEN_REQUIRED')
})
