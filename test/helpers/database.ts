import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { createDb, type Db, type DbTimeouts } from '../../src/db/knex.js'

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_ADMIN_URL
  if (!url)
    throw new Error('Run the tests with `npm test` (it starts the test database and sets TEST_DATABASE_ADMIN_URL)')
  return url
}

export function databaseUrl(name: string): string {
  const u = new URL(adminUrl())
  u.pathname = `/${name}`
  return u.toString()
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A database of its own for one test file, copied from the migrated template; dropped at the end. */
export async function testDatabase(t: Test, timeouts: DbTimeouts = {}): Promise<{ db: Db; url: string }> {
  const name = `kyc_t_${randomBytes(6).toString('hex')}`
  const template = process.env.TEST_TEMPLATE_DB ?? 'kyc_test_template'
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`))
  const url = databaseUrl(name)
  const db = createDb(url, timeouts)
  t.teardown(async () => {
    await db.destroy()
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  })
  return { db, url }
}
