import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { ROOT_DIR } from '../src/config.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'
import { createDb, migrateLatest } from '../src/db/knex.js'
import { freePort } from './free-port.js'

export { freePort }

export const TEMPLATE_DB = 'kyc_test_template'

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/**
 * The PostgreSQL the suite runs on: DATABASE_URL (its user needs CREATEDB) or an embedded server under
 * .data/test-postgres/run-<pid>, created for the run and removed after it. Creates the migrated template database every test file copies.
 */
export async function prepareTestServer(): Promise<{ adminUrl: string; stop: () => Promise<void> }> {
  let adminUrl = process.env.DATABASE_URL
  let stop = async () => {}
  if (!adminUrl) {
    // A cluster of its own for each run, so two runs (or a run beside `npm start`) never share one.
    const dir = path.join(ROOT_DIR, '.data', 'test-postgres', `run-${process.pid}`)
    mkdirSync(path.dirname(dir), { recursive: true })
    const server = await startEmbeddedPostgres(dir, await freePort())
    adminUrl = server.url('postgres')
    stop = async () => {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    // Leftovers of an interrupted run.
    const stale = await client.query("SELECT datname FROM pg_database WHERE datname LIKE 'kyc_t_%'")
    for (const row of stale.rows) await client.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`)
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${TEMPLATE_DB}`)
  } finally {
    await client.end()
  }
  const db = createDb(withDatabase(adminUrl, TEMPLATE_DB))
  await migrateLatest(db)
  await db.destroy()
  return { adminUrl, stop }
}

/** A database of its own for a benchmark, copied from the migrated template (dropped first if left over). */
export async function benchDatabase(adminUrl: string, name: string) {
  const admin = createDb(adminUrl)
  await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`)
  await admin.destroy()
  return createDb(withDatabase(adminUrl, name))
}
