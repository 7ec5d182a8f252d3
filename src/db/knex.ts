import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { databaseTrouble } from './errors.js'
import { MigrationFiles } from './migration-files.js'
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
  return onLane<T>(lane, sql, bindings, compiled.method === 'first', () => query)
}

/** Runs a statement on the lane; one too slow for it runs again on the pool (`fallback`). */
async function onLane<T>(
  lane: ReadLane,
  sql: string,
  bindings: readonly unknown[],
  first: boolean,
  fallback: () => Knex.QueryBuilder,
): Promise<T> {
  let rows: Record<string, unknown>[]
  try {
    rows = await lane.rows(sql, bindings)
  } catch (error) {
    // Too slow for the lane (waiting on a lock, or a heavy page): the pool's connections wait on their own.
    if (databaseTrouble(error) !== 'busy') throw error
    return (await fallback()) as T
  }
  return (first ? rows[0] : rows) as T
}

/** What knex compiled for one shape of a hot read: its SQL, its bindings, and which of them are parameters. */
interface CompiledShape {
  sql: string
  bindings: readonly unknown[]
  /** For each binding, the name of the parameter that goes there, or undefined for a fixed value. */
  slots: readonly (string | undefined)[]
  first: boolean
}
/** A parameter's stand-in, in capitals so that a parameter lower-cased before it is bound is caught too. */
const PARAMETER = '\u0000KYC-PARAMETER:'
const compiledShapes = new WeakMap<ReadLane, Map<string, CompiledShape>>()

/**
 * hotRead for a statement that nearly every request makes, with knex building its SQL once per shape
 * instead of once per request (building it was a tenth of the server's CPU on the client list). `shape`
 * names everything that changes the SQL's text (e.g. `entities.list asc …`); `build` makes the query from
 * `params`, which it must use only as bound values, each one as it is (never tested, transformed or
 * written into the text): it is called once per shape with a stand-in for each parameter, to find where
 * each one is bound, and again with the real values only when the statement runs on the pool.
 */
export async function hotReadByShape<T, P extends Record<string, unknown>>(
  db: Db,
  shape: string,
  params: P,
  build: (params: P) => Knex.QueryBuilder,
): Promise<T> {
  const lane = readLanes.get(db)
  if (!lane) return (await build(params)) as T
  let shapes = compiledShapes.get(lane)
  if (!shapes) {
    shapes = new Map()
    compiledShapes.set(lane, shapes)
  }
  let compiled = shapes.get(shape)
  if (!compiled) {
    compiled = compileShape(shape, Object.keys(params), build as (params: Record<string, unknown>) => Knex.QueryBuilder)
    if (shapes.size >= 1000) shapes.clear()
    shapes.set(shape, compiled)
  }
  const { sql, bindings, slots, first } = compiled
  const values = bindings.map((value, i) => {
    const slot = slots[i]
    return slot === undefined ? value : params[slot]
  })
  return onLane<T>(lane, sql, values, first, () => build(params))
}

function compileShape(
  shape: string,
  names: readonly string[],
  build: (params: Record<string, unknown>) => Knex.QueryBuilder,
): CompiledShape {
  // Parameters this shape does not bind (undefined ones, say) are simply not found among the bindings.
  const compiled = build(Object.fromEntries(names.map((name) => [name, `${PARAMETER}${name}`]))).toSQL()
  const { sql, bindings } = compiled.toNative()
  const slots = bindings.map((value) =>
    typeof value === 'string' && value.startsWith(PARAMETER) ? value.slice(PARAMETER.length) : undefined,
  )
  const changed = (text: string) => text.toUpperCase().includes(PARAMETER)
  const misused = bindings.some((value, i) => slots[i] === undefined && typeof value === 'string' && changed(value))
  if (misused || changed(sql)) {
    throw new Error(
      `hotReadByShape ${shape}: a parameter must be bound as it is, never changed or written into the SQL`,
    )
  }
  return { sql, bindings, slots, first: compiled.method === 'first' }
}

/** A LIKE pattern for "contains `text`": its own %, _ and backslash escaped, so they match only themselves. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * How many rows `rows` has, counted up to `limit` + 1 (a count reads every row it counts, so a list that
 * may be long counts only as far as it will say: "more than `limit`" beyond). `SELECT count(*)::int AS n`,
 * to await with `.first()` or to use as a subquery.
 */
export function countUpTo(db: Db | Knex, rows: Knex.QueryBuilder, limit: number): Knex.QueryBuilder {
  return db
    .from(
      rows
        .select(db.raw('1'))
        .limit(limit + 1)
        .as('c'),
    )
    .select(db.raw('count(*)::int AS n'))
}

export const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new MigrationFiles(),
  tableName: 'knex_migrations',
}

/**
 * Runs every pending migration. knex's migration lock keeps two processes from racing; a process that finds
 * it taken (several starting together behind a load balancer) waits for the other to finish, up to
 * `waitMs`, then runs whatever is still pending (usually nothing), rather than failing to start.
 */
export async function migrateLatest(db: Db, waitMs = 120_000): Promise<string[]> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]]
      return applied
    } catch (error) {
      if ((error as Error).name !== 'MigrationLocked' || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}
