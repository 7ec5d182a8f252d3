import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { buildApp, LOG_REDACT } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { createDb, type Db } from '../../src/db/knex.js'
import { type DocumentStorage, FileSystemStorage } from '../../src/storage/document-storage.js'
import { testDatabase } from './database.js'

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: '/nonexistent',
    sessionSecret: 'test-secret-test-secret-test-secret-0123456789',
    production: false,
    idleTimeoutMinutes: 30,
    absoluteTimeoutHours: 12,
    trustProxy: false,
    logLevel: 'info',
    seedDemo: false,
    publicUrl: 'http://kyc.test',
    smtpUrl: undefined,
    mailFrom: 'KYC Desk <no-reply@kyc.test>',
    maxUploadBytes: 1024 * 1024,
    cacheTemplates: false,
    dbTimeouts: { statementMs: 15_000, lockMs: 5_000, readLaneMs: 500, acquireMs: 10_000 },
    documentStorage: { kind: 'filesystem' },
    shutdownGraceSeconds: 20,
    ...overrides,
  }
}

export interface TestApp {
  app: FastifyInstance
  db: Db
  url: string
  /** Every log line the app wrote, as text. */
  logs: string[]
  /** The folder of this app's document storage. */
  storageDir: string
}

/**
 * A fresh database and an app over it, closed at the end of the test. `extraRoutes` registers routes
 * that exist only in the test (to exercise the guard) before the app is ready.
 */
export async function testApp(
  t: Test,
  overrides: Partial<Config> = {},
  extraRoutes?: (app: FastifyInstance) => void,
  storage?: DocumentStorage,
  /** `via` maps the database URL the app connects to (a proxy the test can cut); `db` stays direct. */
  options: { via?: (url: string) => string | Promise<string> } = {},
): Promise<TestApp> {
  const config = testConfig(overrides)
  const { db, url } = await testDatabase(t, config.dbTimeouts)
  let appDb = db
  if (options.via) {
    appDb = createDb(await options.via(url), config.dbTimeouts)
    t.teardown(() => appDb.destroy())
  }
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk))
      cb()
    },
  })
  const storageDir = mkdtempSync(path.join(tmpdir(), 'kyc-docs-'))
  t.teardown(() => rmSync(storageDir, { recursive: true, force: true }))
  const app = await buildApp({
    config,
    db: appDb,
    storage: storage ?? new FileSystemStorage(storageDir),
    // No job queue (buildApp's `jobs`): no job runs by itself; tests run the work directly.
    logger: { level: 'info', stream, redact: { paths: LOG_REDACT, censor: '[redacted]' } },
  })
  extraRoutes?.(app)
  await app.ready()
  t.teardown(() => app.close())
  return { app, db, url, logs, storageDir }
}

/** The CSRF token a page carries (meta tag or hidden field). */
export function csrfFrom(html: string): string {
  const m = /name="csrf-token" content="([^"]+)"/.exec(html) ?? /name="_csrf" value="([^"]+)"/.exec(html)
  if (!m?.[1]) throw new Error('no CSRF token on the page')
  return m[1]
}

/**
 * A person with a browser, over app.inject: keeps cookies, follows nothing by itself, and sends forms
 * with the CSRF token of the last page it read.
 */
export class Visitor {
  cookies = new Map<string, string>()
  lastHtml = ''
  /** The CSRF token of the last page that carried one (htmx partials do not). */
  csrfToken = ''

  constructor(readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async request(opts: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({
      ...opts,
      headers: { ...(opts.headers ?? {}), cookie: this.cookieHeader() },
    })
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const expired = c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())
      if (expired) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    if (String(res.headers['content-type'] ?? '').startsWith('text/html')) {
      this.lastHtml = res.body
      const token =
        /name="csrf-token" content="([^"]+)"/.exec(res.body) ?? /name="_csrf" value="([^"]+)"/.exec(res.body)
      if (token?.[1]) this.csrfToken = token[1]
    }
    return res
  }

  get(url: string, headers: Record<string, string> = {}) {
    return this.request({ method: 'GET', url, headers })
  }

  /** Posts a form as a browser would, with the CSRF token of the last page unless one is given. */
  post(
    url: string,
    fields: Record<string, string | string[]>,
    opts: { csrf?: string | null; headers?: Record<string, string> } = {},
  ) {
    const params = new URLSearchParams()
    if (opts.csrf === undefined && !this.csrfToken) throw new Error('no CSRF token seen yet: get a page first')
    const token = opts.csrf === undefined ? this.csrfToken : opts.csrf
    if (token !== null) params.append('_csrf', token)
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) params.append(k, one)
    return this.request({
      method: 'POST',
      url,
      payload: params.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers ?? {}) },
    })
  }

  /** A route of the route table, as a user would call it: a GET, or a form POST with these fields. */
  send(method: string, url: string, fields: Record<string, string> = {}) {
    return method === 'POST' ? this.post(url, fields) : this.request({ method: method as 'GET', url })
  }

  async login(email: string, password: string): Promise<LightMyRequestResponse> {
    await this.get('/login')
    const res = await this.post('/login', { email, password })
    if (res.statusCode !== 303) throw new Error(`login as ${email} failed with ${res.statusCode}`)
    return res
  }
}

/** Text of a page without tags, whitespace folded: what a person reads. */
export function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<\/?(?:strong|em|b|i|a|span|code|abbr|bdi)\b[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
}

/** A multipart/form-data body as a browser sends it: fields in order, then the file. */
export function multipartBody(
  fields: [string, string][],
  file?: { field: string; filename: string; content: Buffer; type?: string },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----kyc${Math.random().toString(16).slice(2)}`
  const chunks: Buffer[] = []
  for (const [name, value] of fields) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  if (file) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    )
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** A small, valid PDF. */
export const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
)
