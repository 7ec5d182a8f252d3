import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { connectDatabase } from './db/connect.js'
import { createDb, migrateLatest } from './db/knex.js'
import { JobQueue } from './jobs/queue.js'
import { demoLogins, seedDemoCompany } from './seed/demo.js'
import { storageFromConfig } from './storage/from-config.js'

const config = loadConfig()
const database = await connectDatabase(config).catch((error: unknown) => {
  // The reason alone, without a stack: these failures are about this machine (a data directory in use, a
  // taken port), and the message says what to do. exit() rather than a rejection, which may print `undefined`.
  process.stderr.write(`KYC Desk could not start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
const db = createDb(database.url, config.dbTimeouts)
await migrateLatest(db)
// Files under DATA_DIR/documents, or an S3 bucket (DOCUMENT_STORAGE=s3).
const storage = storageFromConfig(config)
if (config.seedDemo) await seedDemoCompany(db, storage, config.publicUrl)

// The job queue (pg-boss on the same PostgreSQL) runs outbox delivery, the daily digest and the sweeps; the
// app starts it once ready and stops it gracefully on close (src/jobs/plugin.ts).
const app = await buildApp({ config, db, storage, jobs: new JobQueue({ connectionString: database.url }) })

/**
 * SIGTERM or SIGINT: stop accepting connections, let the requests in flight finish (a request arriving on a
 * kept-alive connection meanwhile is answered 503 with Connection: close, so a load balancer sends it
 * elsewhere), let running jobs finish or hand them back to the queue (src/jobs/plugin.ts), close the pool.
 * If that takes longer than SHUTDOWN_GRACE_SECONDS the process exits anyway, with status 1: whatever
 * transaction was still open is rolled back by PostgreSQL when its connection goes, so nothing is
 * half-written.
 */
let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  app.log.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down')
  const deadline = setTimeout(() => {
    app.log.error({ graceSeconds: config.shutdownGraceSeconds }, 'grace period over: exiting with work unfinished')
    process.exit(1)
  }, config.shutdownGraceSeconds * 1_000)
  deadline.unref()
  let status = 0
  try {
    await app.close()
    await db.destroy()
    await database.stop()
    app.log.info('shut down cleanly')
  } catch (err) {
    app.log.error({ err }, 'shutdown failed')
    status = 1
  }
  process.exit(status)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

await app.listen({ port: config.port, host: config.host })
const logins = config.seedDemo ? await demoLogins(db) : []
const lines = [
  '',
  `KYC Desk is running at http://localhost:${config.port}`,
  database.embedded ? '(embedded PostgreSQL, data in .data/postgres)' : '(PostgreSQL from DATABASE_URL)',
]
if (logins.length > 0) {
  lines.push('Demo logins:')
  for (const login of logins) lines.push(`  ${login.profile}: ${login.email} / ${login.password}`)
}
process.stdout.write(`${lines.join('\n')}\n\n`)
