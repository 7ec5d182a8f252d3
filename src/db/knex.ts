import path from 'node:path'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { ROOT_DIR } from '../config.js'
import { databaseTrouble } from './errors.js'
import { ReadLane } from './read-lane.js'

// Return bigint counts as numbers (our counts stay far below 2^53) and dates as Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = Knex

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

/** The database's timeouts, and whether it has a read lane (DB_READ_LANE; absent: it has). */
export interface DbSettings extends DbTimeouts {
  /** false: every hotRead runs on knex's pool (for a pooler without protocol-level prepared statements). */
  readLane?: boolean
}

/** The read lane of each database createDb made (none when it was switched off). */
const readLanes = new WeakMap<Db, ReadLane>()

/** The read lane beside `db`, if it has one. */
export function readLaneOf(db: Db): ReadLane | undefined {
  return readLanes.get(db)
}

/**
 * knex over node-postgres (knex's own `pg` client, its pool of up to 10), and beside it, unless
 * `settings.readLane` is false, the read lane (see hotRead): a separate object with connections of its
 * own, opened on first use and ended by the database's `destroy`.
 */
export function createDb(connectionString: string, settings: DbSettings = {}, pool = { min: 0, max: 10 }): Db {
  const connection: pg.ClientConfig = { connectionString }
  if (settings.statementMs) connection.statement_timeout = settings.statementMs
  if (settings.lockMs) connection.lock_timeout = settings.lockMs
  // A transaction left open by a crashed request must not hold its locks for ever.
  if (settings.statementMs) connection.idle_in_transaction_session_timeout = settings.statementMs * 4
  // A statement on the lane holds up every statement queued behind it on its connection, so it gets a
  // short timeout of its own; one that runs out is run again on the pool (hotRead).
  const lane = settings.readLane === false ? undefined : new ReadLane(connection, { timeoutMs: settings.readLaneMs })
  const db = knexFactory({
    client: 'pg',
    // node-postgres's own settings (lock_timeout is missing from knex's type of them).
    connection: { ...connection } as Knex.PgConnectionConfig,
    pool,
    acquireConnectionTimeout: settings.acquireMs ?? 60_000,
  })
  if (!lane) return db
  readLanes.set(db, lane)
  // knex's destroy, and then the lane's connections with it: whoever ends the database ends both.
  const destroyPool = db.destroy.bind(db) as (callback?: unknown) => Promise<void>
  Object.defineProperty(db, 'destroy', {
    configurable: true,
    value: (callback?: unknown) => lane.close().then(() => destroyPool(callback)),
  })
  return db
}

/**
 * Runs a short, read-only select that nearly every request makes (the session read, the client gate, a page
 * of the client list) on the database's read lane: prepared once, and pipelined with the same statements of
 * other requests. Answers as knex would (`.first()` gives the first row). Inside a transaction, on a
 * database without a lane (switched off, or not made by createDb), it runs as an ordinary knex query; so
 * does a statement that runs out of the lane's timeout or waits too long on a lock there.
 */
export async function hotRead<T>(db: Db | Knex.Transaction, query: Knex.QueryBuilder): Promise<T> {
  const lane = db.isTransaction ? undefined : readLanes.get(db)
  if (!lane) return (await query) as T
  const compiled = query.toSQL()
  const { sql, bindings } = compiled.toNative()
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
