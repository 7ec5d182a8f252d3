import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import type { Db } from '../db/knex.js'

type Callback = Parameters<FastifyRateLimitStore['incr']>[1]

/** What the plugin passes to `child` at run time: the route's limit, with the route itself as routeInfo. */
interface RouteLimit {
  routeInfo?: { method?: string | string[]; url?: string }
}

/**
 * A store for @fastify/rate-limit that counts in PostgreSQL (rate_limit_hits), so that a limit holds across
 * every app process on the database, not per process. One statement per hit: the counter and its window
 * are read and written together, so racing requests (in one process or several) each count once. A window
 * that has ended starts again at 1.
 */
export function postgresRateLimitStore(db: Db) {
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    readonly #prefix: string

    constructor(_globalOptions?: unknown, prefix = '') {
      this.#prefix = prefix
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      db.raw<{ rows: { count: number; ttl: number }[] }>(
        `INSERT INTO rate_limit_hits AS h (key, count, expires_at)
         VALUES (:key, 1, clock_timestamp() + make_interval(secs => :seconds))
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN h.expires_at <= clock_timestamp() THEN 1 ELSE h.count + 1 END,
           expires_at = CASE WHEN h.expires_at <= clock_timestamp() THEN excluded.expires_at ELSE h.expires_at END
         RETURNING count, greatest(0, ceil(extract(epoch FROM expires_at - clock_timestamp()) * 1000))::int AS ttl`,
        { key: this.#prefix + key, seconds: timeWindow / 1000 },
      ).then(
        (result) => {
          const row = result.rows[0]
          callback(null, { current: row?.count ?? 1, ttl: row?.ttl ?? timeWindow })
        },
        (error: Error) => callback(error),
      )
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): PostgresRateLimitStore {
      const info = (routeOptions as unknown as RouteLimit).routeInfo
      return new PostgresRateLimitStore(undefined, `${this.#prefix}${String(info?.method)} ${info?.url}|`)
    }
  }
}

/** Deletes counters whose window has ended (job rate_limits.sweep). */
export async function deleteExpiredRateLimits(db: Db): Promise<number> {
  return db('rate_limit_hits').where('expires_at', '<', db.raw('now()')).delete()
}
