import { createRequire } from 'node:module'
import path from 'node:path'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { ROOT_DIR } from '../config.js'
import { ReadLane } from './read-lane.js'

// Return bigint counts as numbers (our counts stay far below 2^53) and dates as Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = Knex

// knex ships no types for its dialect classes; this is its PostgreSQL client.
const require = createRequire(import.meta.url)
const KnexPgClient = require('knex/lib/dialects/postgres/index.js') as typeof Knex.Client

/** knex's PostgreSQL client, with the read lane (see hotRead) beside its pool and closed with it. */
class PgClientWithReadLane extends KnexPgClient {
  readonly readLane: ReadLane

  constructor(config: Knex.Config) {
    super(config)
    // knex has parsed the connection string into node-postgres's options by now.
    this.readLane = new ReadLane(config.connection as pg.ClientConfig)
  }

  override async destroy(callback?: unknown) {
    await this.readLane.close()
    return super.destroy(callback)
  }
}

export function createDb(connectionString: string, pool = { min: 0, max: 10 }): Db {
  return knexFactory({ client: PgClientWithReadLane, connection: connectionString, pool })
}

/**
 * Runs a short, read-only select that nearly every request makes (the session read, the client gate, a page
 * of the client list) on the database's read lane: prepared once, and pipelined with the same statements of
 * other requests. Answers as knex would (`.first()` gives the first row). Inside a transaction, or for a
 * query built on anything but a database from createDb, it runs as an ordinary knex query.
 */
export async function hotRead<T>(db: Db | Knex.Transaction, query: Knex.QueryBuilder): Promise<T> {
  const lane = db.isTransaction ? undefined : (db.client as Partial<PgClientWithReadLane>).readLane
  if (!lane) return (await query) as T
  const compiled = query.toSQL()
  const { sql, bindings } = compiled.toNative()
  if (db.listenerCount('query') > 0) db.emit('query', { sql, bindings, method: compiled.method, readLane: true })
  const rows = await lane.rows(sql, bindings)
  return (compiled.method === 'first' ? rows[0] : rows) as T
}

export const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(ROOT_DIR, 'migrations'),
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
}

/** Runs every pending migration; knex's migration lock keeps two processes from racing. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]]
  return applied
}
