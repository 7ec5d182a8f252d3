import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import pg from 'pg'

/** How the lane's connections are named in pg_stat_activity. */
export const READ_LANE_APPLICATION_NAME = 'kyc-desk read lane'

/** A statement as the lane is about to send it (the `statement` event). */
export interface LaneStatement {
  sql: string
  bindings: readonly unknown[]
}

/**
 * The read lane: a few PostgreSQL connections of its own, opened with node-postgres's `pg.Client` in its
 * pipeline mode (the `pipeline: true` option, documented at node-postgres.com/features/pipelining), shared
 * by every request for the short read-only statements that nearly every page runs (the session read, the
 * client gate, a page of the client list). It is built beside knex, not inside it: createDb makes one next
 * to its knex instance and hotRead hands it the SQL that knex compiled (`toSQL().toNative()`).
 *
 * Why it exists: on a pooled connection each statement waits for the previous one to finish and every one
 * wakes its server process afresh; on a pipelined connection the statements of concurrent requests follow
 * each other on the wire and the server works through them without waiting. Measured on this project's
 * two-core machine: SELECTs at 10 concurrent, 12,000/s from a pool of 10 against 26,000–47,000/s from one
 * pipelined connection, at a third of the client's CPU per statement.
 *
 * Only single statements outside transactions come here (each is its own implicit transaction, with a
 * Sync of its own, so one statement's error never touches another's), and only quick ones: a slow
 * statement holds up those queued behind it on its connection, so the connections are opened with a short
 * statement and lock timeout (`timeoutMs`) and hotRead runs a statement that runs out again on the pool.
 * Statements are prepared once per connection, named after a hash of their text (protocol-level prepared
 * statements: a pooler in transaction mode must support them, see README), and planned once too (a generic
 * plan, `plan_cache_mode`): so only statements whose best plan is the same for any parameters belong here
 * (a lookup by key, a page of the client list or of a name search of three characters or more); a filter
 * does not. A
 * connection that fails is dropped and replaced on next use, and a statement that was on it runs once more
 * on the new one (see rows).
 */
export class ReadLane extends EventEmitter<{ statement: [LaneStatement] }> {
  private readonly connection: pg.ClientConfig
  private readonly slots: (Promise<pg.Client> | undefined)[]
  private next = 0
  private closed = false

  constructor(connection: pg.ClientConfig, options: { size?: number; timeoutMs?: number } = {}) {
    super()
    const { size = 2, timeoutMs } = options
    this.connection = timeoutMs
      ? { ...connection, statement_timeout: timeoutMs, lock_timeout: timeoutMs }
      : { ...connection }
    this.slots = new Array(size).fill(undefined)
  }

  /** The connection of slot `index`, opened if there is none. */
  private client(index: number): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('The read lane is closed'))
    const existing = this.slots[index]
    if (existing) return existing
    const client = new pg.Client({
      ...this.connection,
      application_name: READ_LANE_APPLICATION_NAME,
      // Each statement is planned once per connection (see the class comment): the lane takes only statements
      // whose best plan does not depend on their parameters, so re-planning them per execution is wasted work.
      // Nor are they worth a parallel worker: in a parallel plan of a name search (an earlier design that
      // scanned 2,000 index entries), starting one took 2 ms of its 3.5 (EXPLAIN ANALYZE, bench database).
      options: '-c plan_cache_mode=force_generic_plan -c max_parallel_workers_per_gather=0',
      pipeline: true,
    })
    const drop = () => this.release(index, connecting)
    client.on('error', drop)
    client.on('end', drop)
    const connecting = client.connect().then(
      () => client,
      (error: unknown) => {
        drop()
        throw error
      },
    )
    this.slots[index] = connecting
    return connecting
  }

  /** Empties slot `index` if it still holds `connection` (a newer one may have taken its place). */
  private release(index: number, connection: Promise<pg.Client>): void {
    if (this.slots[index] === connection) this.slots[index] = undefined
  }

  private turn(): number {
    const index = this.next
    this.next = (this.next + 1) % this.slots.length
    return index
  }

  /**
   * Runs one statement (SQL with $1… placeholders) and returns its rows. A statement that fails because
   * its connection was lost (the server restarted, or ended the connection) runs once more, on a new
   * connection in the same slot: these are single read-only statements, so running one again changes
   * nothing. Any other error (a SQL error, a timeout) is the caller's.
   */
  async rows(sql: string, bindings: readonly unknown[]): Promise<Record<string, unknown>[]> {
    this.emit('statement', { sql, bindings })
    const query = { name: statementName(sql), text: sql, values: bindings as unknown[] }
    const index = this.turn()
    const connecting = this.client(index)
    const client = await connecting
    try {
      return (await client.query(query)).rows
    } catch (error) {
      if (!lostConnection(error)) throw error
      this.release(index, connecting)
      client.end().catch(() => {})
      return (await (await this.client(index)).query(query)).rows
    }
  }

  /** Ends the lane's connections; statements after this fail. */
  async close(): Promise<void> {
    this.closed = true
    const open = this.slots.filter((slot) => slot !== undefined)
    this.slots.fill(undefined)
    await Promise.all(open.map((slot) => slot.then((client) => client.end()).catch(() => {})))
  }
}

/**
 * Whether an error means the connection is gone, not that the statement failed: the server ending the
 * connection (SQLSTATE class 57P: admin shutdown, crash shutdown, cannot connect now; class 08:
 * connection exception), or any error that is not the server's answer to the statement (a socket
 * error such as EPIPE or ECONNRESET, or node-postgres's "Connection terminated").
 */
function lostConnection(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return /^(57P|08)/.test(error.code ?? '')
  return error instanceof Error
}

/** Names already derived, by statement text: the few statements the lane runs come back on every request. */
const names = new Map<string, string>()

/** The name a statement is prepared under: the same text always gets the same name, different texts never share one. */
function statementName(sql: string): string {
  let name = names.get(sql)
  if (name === undefined) {
    name = `kyc_${createHash('sha1').update(sql).digest('base64url')}`
    // A bound, should a query's shape vary without end (it does not today: about ten texts).
    if (names.size >= 1000) names.clear()
    names.set(sql, name)
  }
  return name
}
