import { createHash } from 'node:crypto'
import pg from 'pg'

/** How the lane's connections are named in pg_stat_activity. */
export const READ_LANE_APPLICATION_NAME = 'kyc-desk read lane'

/**
 * The read lane: two PostgreSQL connections in node-postgres's pipeline mode, shared by every request,
 * for the short read-only statements that nearly every page runs (the session read, the client gate, a
 * page of the client list). On a pooled connection each statement waits for the previous one to finish
 * and every one wakes its server process afresh; on a pipelined connection the statements of concurrent
 * requests follow each other on the wire and the server works through them without waiting. Measured on
 * this project's two-core machine: SELECTs at 10 concurrent, 12,000/s from a pool of 10 against
 * 26,000–47,000/s from one pipelined connection, at a third of the client's CPU per statement.
 *
 * Only single statements outside transactions come here (each is its own implicit transaction, with a
 * Sync of its own, so one statement's error never touches another's), and only quick ones: a slow
 * statement would hold up those queued behind it. Statements are prepared once per connection, named
 * after a hash of their text. A connection that fails is dropped and replaced on next use, and a
 * statement that was on it runs once more on the new one (see rows).
 */
export class ReadLane {
  private readonly slots: (Promise<pg.Client> | undefined)[]
  private next = 0
  private closed = false

  constructor(
    private readonly connection: pg.ClientConfig,
    size = 2,
  ) {
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
      pipeline: true,
    } as pg.ClientConfig)
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
   * nothing. Any other error (a SQL error) is the caller's.
   */
  async rows(sql: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> {
    const query = { name: statementName(sql), text: sql, values: values as unknown[] }
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

/** The name a statement is prepared under: the same text always gets the same name, different texts never share one. */
function statementName(sql: string): string {
  return `kyc_${createHash('sha1').update(sql).digest('base64url')}`
}
