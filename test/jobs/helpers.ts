import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import type { Db } from '../../src/db/knex.js'
import type { JobDefinition } from '../../src/jobs/definitions.js'
import { JobQueue } from '../../src/jobs/queue.js'
import type { MailTransport } from '../../src/mail/outbox.js'
import { FileSystemStorage } from '../../src/storage/document-storage.js'
import { testConfig } from '../helpers/app.js'

/**
 * An app over the test's database with a job queue of its own (pg-boss on the same database, polling every
 * half second so that tests wait little), started as the server starts it: when the app is ready.
 */
export async function appWithQueue(
  t: Test,
  opts: {
    db: Db
    url: string
    jobs?: readonly JobDefinition[]
    work?: boolean
    transport?: MailTransport
    config?: Partial<Config>
  },
): Promise<{ app: FastifyInstance; queue: JobQueue; storage: FileSystemStorage }> {
  const storageDir = mkdtempSync(path.join(tmpdir(), 'kyc-jobs-'))
  t.teardown(() => rmSync(storageDir, { recursive: true, force: true }))
  const storage = new FileSystemStorage(storageDir)
  const queue = new JobQueue({
    connectionString: opts.url,
    jobs: opts.jobs,
    work: opts.work ?? true,
    pollingIntervalSeconds: 0.5,
    maxConnections: 3,
  })
  const app = await buildApp({
    config: testConfig(opts.config),
    db: opts.db,
    logger: false,
    storage,
    mail: opts.transport ? { transport: opts.transport } : undefined,
    jobs: queue,
  })
  await app.ready()
  t.teardown(() => app.close())
  return { app, queue, storage }
}

/** Waits until `check` answers something truthy other than an empty array (checked every 100 ms), or fails after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value && !(Array.isArray(value) && value.length === 0)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** pg-boss's rows of one job, oldest first. */
export function jobRows(db: Db, name: string) {
  return db.withSchema('pgboss').from('job').where({ name }).orderBy('created_on')
}
