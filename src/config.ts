import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { DbSettings, DbTimeouts } from './db/knex.js'

/** Where document bytes are kept (DOCUMENT_STORAGE; README: Document storage). */
export type DocumentStorageConfig =
  | { kind: 'filesystem' }
  | {
      kind: 's3'
      bucket: string
      region: string
      /** An S3-compatible server (MinIO…); undefined for AWS. */
      endpoint: string | undefined
      forcePathStyle: boolean
      serverSideEncryption: 'AES256' | 'aws:kms' | undefined
      sseKmsKeyId: string | undefined
    }

/** Everything KYC Desk reads from the environment, in one place (README: Configuration). */
export interface Config {
  port: number
  host: string
  /** Empty when the embedded PostgreSQL should be started. */
  databaseUrl: string | undefined
  dataDir: string
  sessionSecret: string
  /** Secure cookies and no demo seed unless asked for. */
  production: boolean
  idleTimeoutMinutes: number
  absoluteTimeoutHours: number
  trustProxy: boolean | string
  logLevel: string
  seedDemo: boolean
  /** The address people use to reach KYC Desk, for links in emails. */
  publicUrl: string
  /** SMTP server for outgoing email (smtp://user:pass@host:port); without it mail stays in the outbox. */
  smtpUrl: string | undefined
  mailFrom: string
  /** Largest document upload, in bytes (MAX_UPLOAD_MB). */
  maxUploadBytes: number
  /** Compile each template once (production); in development templates are re-read on every render. */
  cacheTemplates: boolean
  /**
   * How long the database may take (DB_*_MS): one slow statement must not hold up every page; and whether
   * it has a read lane (DB_READ_LANE).
   */
  dbTimeouts: Required<DbTimeouts> & DbSettings
  /**
   * How long SIGTERM waits for requests in flight and running jobs before the process ends anyway
   * (SHUTDOWN_GRACE_SECONDS, default 8: within `docker stop`'s 10 s before it kills).
   */
  shutdownGraceSeconds: number
  /** Files under DATA_DIR/documents, or an S3 bucket; S3 credentials come from the AWS SDK's default chain. */
  documentStorage: DocumentStorageConfig
}

/**
 * The project's folder (views/, public/, seeds/, .data/): the nearest folder above this file with a
 * package.json. From the TypeScript sources that is one up; from the compiled build (build/src/config.js,
 * `npm run build`) it is the project itself, and in the container image it is /app.
 */
export const ROOT_DIR = projectRoot(import.meta.dirname)

function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) return path.resolve(from, '..')
  }
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got "${value}"`)
  return n
}

/** DB_READ_LANE: `on` (the default) or `off` (every hot read on the pool; README: With an external PostgreSQL). */
export function readLaneFrom(env: NodeJS.ProcessEnv): boolean {
  const value = env.DB_READ_LANE
  if (value === undefined || value === '' || value === 'on') return true
  if (value === 'off') return false
  throw new Error(`DB_READ_LANE must be "on" or "off", got "${value}"`)
}

/**
 * DOCUMENT_STORAGE: `filesystem` (the default) or `s3`, with S3_BUCKET (required), S3_REGION (us-east-1),
 * S3_ENDPOINT, S3_FORCE_PATH_STYLE (true when an endpoint is given), S3_SSE (AES256 or aws:kms) and
 * S3_SSE_KMS_KEY_ID. The S3_* variables are read only for `s3`.
 */
export function documentStorageFrom(env: NodeJS.ProcessEnv): DocumentStorageConfig {
  const kind = env.DOCUMENT_STORAGE || 'filesystem'
  if (kind === 'filesystem') return { kind }
  if (kind !== 's3') throw new Error(`DOCUMENT_STORAGE must be "filesystem" or "s3", got "${kind}"`)
  const bucket = env.S3_BUCKET
  if (!bucket) throw new Error('S3_BUCKET is required when DOCUMENT_STORAGE=s3')
  const endpoint = env.S3_ENDPOINT || undefined
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new Error(`S3_ENDPOINT must be an http:// or https:// address, got "${endpoint}"`)
  }
  const pathStyle = env.S3_FORCE_PATH_STYLE
  if (pathStyle !== undefined && pathStyle !== '' && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new Error(`S3_FORCE_PATH_STYLE must be "true" or "false", got "${pathStyle}"`)
  }
  const sse = env.S3_SSE || undefined
  if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms') {
    throw new Error(`S3_SSE must be "AES256" or "aws:kms", got "${sse}"`)
  }
  const sseKmsKeyId = env.S3_SSE_KMS_KEY_ID || undefined
  if (sseKmsKeyId && sse !== 'aws:kms') throw new Error('S3_SSE_KMS_KEY_ID needs S3_SSE=aws:kms')
  return {
    kind,
    bucket,
    region: env.S3_REGION || 'us-east-1',
    endpoint,
    forcePathStyle: pathStyle ? pathStyle === 'true' : endpoint !== undefined,
    serverSideEncryption: sse,
    sseKmsKeyId,
  }
}

/** The session secret: SESSION_SECRET, or one generated once and kept in .data/session-secret. */
function sessionSecretFrom(env: NodeJS.ProcessEnv, dataDir: string): string {
  const given = env.SESSION_SECRET
  if (given) {
    if (given.length < 32) throw new Error('SESSION_SECRET must be at least 32 characters long')
    return given
  }
  const file = path.join(dataDir, 'session-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('hex')
  writeFileSync(file, `${secret}\n`, { mode: 0o600 })
  return secret
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production'
  const dataDir = path.resolve(env.DATA_DIR ?? path.join(ROOT_DIR, '.data'))
  const trustProxy = env.TRUST_PROXY
  return {
    port: intFrom(env.PORT, 3000, 'PORT'),
    host: env.HOST ?? '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    sessionSecret: sessionSecretFrom(env, dataDir),
    production,
    idleTimeoutMinutes: intFrom(env.SESSION_IDLE_MINUTES, 30, 'SESSION_IDLE_MINUTES'),
    absoluteTimeoutHours: intFrom(env.SESSION_ABSOLUTE_HOURS, 12, 'SESSION_ABSOLUTE_HOURS'),
    trustProxy: trustProxy === undefined || trustProxy === '' ? false : trustProxy === 'true' ? true : trustProxy,
    logLevel: env.LOG_LEVEL ?? 'info',
    seedDemo: env.SEED_DEMO ? env.SEED_DEMO === 'true' : !production,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${intFrom(env.PORT, 3000, 'PORT')}`).replace(/\/+$/, ''),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? 'KYC Desk <no-reply@kyc-desk.invalid>',
    maxUploadBytes: intFrom(env.MAX_UPLOAD_MB, 20, 'MAX_UPLOAD_MB') * 1024 * 1024,
    cacheTemplates: production,
    dbTimeouts: {
      statementMs: intFrom(env.DB_STATEMENT_TIMEOUT_MS, 15_000, 'DB_STATEMENT_TIMEOUT_MS'),
      lockMs: intFrom(env.DB_LOCK_TIMEOUT_MS, 5_000, 'DB_LOCK_TIMEOUT_MS'),
      readLaneMs: intFrom(env.DB_READ_LANE_TIMEOUT_MS, 500, 'DB_READ_LANE_TIMEOUT_MS'),
      acquireMs: intFrom(env.DB_ACQUIRE_TIMEOUT_MS, 10_000, 'DB_ACQUIRE_TIMEOUT_MS'),
      readLane: readLaneFrom(env),
    },
    shutdownGraceSeconds: intFrom(env.SHUTDOWN_GRACE_SECONDS, 8, 'SHUTDOWN_GRACE_SECONDS'),
    documentStorage: documentStorageFrom(env),
  }
}
