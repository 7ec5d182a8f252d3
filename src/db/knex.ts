import { createRequire } from 'node:module'
import path from 'node:path'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { ROOT_DIR } from '../config.js'
import { databaseTrouble } from './errors.js'
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

  constructor(config: Knex.Config & { readLaneTimeoutMs?: number }) {
    super(config)
    const connection = config.connection as pg.ClientConfig
    const laneMs = config.readLaneTimeoutMs
    // A statement on the lane holds up every statement queued behind it on its connection, so it gets a
    // short timeout of its own; one that runs out is run again on the pool (hotRead).
    this.readLane = new ReadLane(
      laneMs ? { ...connection, statement_timeout: laneMs, lock_timeout: laneMs } : connection,
    )
  }

  override async destroy(callback?: unknown) {
    await this.readLane.close()
    return super.destroy(callback)
  }
}

/** How long the database may take, in milliseconds (README: Configuration). Absent: no limit. */
export interface DbTimeouts {
  /** Any one statement (PostgreSQL's statement_timeout). */
  statementMs?: number
  /** Waiting for a lock (lock_timeout): a statement stuck behind another's lock fails instead of hanging. */
  lockMs?: number
  /** A statement on the read lane, after which it runs again on the pool. */
  readLaneMs?: number
  /** Waiting for a free pool connection. */
  acquireMs?: number
}

export function createDb(connectionString: string, timeouts: DbTimeouts = {}, pool = { min: 0, max: 10 }): Db {
  const connection: pg.ClientConfig = { connectionString }
  if (timeouts.statementMs) connection.statement_timeout = timeouts.statementMs
  if (timeouts.lockMs) connection.lock_timeout = timeouts.lockMs
  // A transaction left open by a crashed request must not hold its locks for ever.
  if (timeouts.statementMs) connection.idle_in_transaction_session_timeout = timeouts.statementMs * 4
  return knexFactory({
    client: PgClientWithReadLane,
    connection,
    pool,
    acquireConnectionTimeout: timeouts.acquireMs ?? 60_000,
    readLaneTimeoutMs: timeouts.readLaneMs,
  } as Knex.Config)
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
  let rows: Record<string, unknown>[]
  try {
    rows = await lane.rows(sql, bindings)
  } catch (error) {
    // Too slow for the lane (waiting on a lock, or a heavy page): the pool's connections wait on their own.
    if (databaseTrouble(error) !== 'busy') throw error
    return (await query) as T
  }
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
