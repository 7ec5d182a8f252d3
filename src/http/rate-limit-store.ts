import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import type { Db } from '../db/knex.js'

type Callback = Parameters<FastifyRateLimitStore['incr']>[1]

/** What the plugin passes to `child` at run time: the route's limit, with the route itself as routeInfo. */
interface RouteLimit {
  routeInfo?: { method?: string | string[]; url?: string }
}

/** What this process has seen of one counter: its own hits in the window, and when the window ends. */
interface LocalCount {
  hits: number
  expiresAt: number
}

/**
 * A store for @fastify/rate-limit that counts in PostgreSQL (rate_limit_hits), so that a limit holds across
 * every app process on the database, not per process. One statement per hit: the counter and its window
 * are read and written together, so racing requests (in one process or several) each count once. A window
 * that has ended starts again at 1.
 *
 * A flood from one address must not become database load: each process also counts its own hits per key,
 * and once those alone pass the limit within a window the database has told it of, it refuses without
 * asking (its own hits are some of the shared count, so the shared count is over the limit too). The table
 * is UNLOGGED: counters lost in a crash only give a minute's grace.
 */
export function postgresRateLimitStore(db: Db) {
  const local = new Map<string, LocalCount>()
  // Windows that have ended are forgotten at most once a minute, on a hit (the map holds at most the keys of
  // a window or two).
  let nextPrune = Date.now() + 60_000
  const prune = (now: number) => {
    if (now < nextPrune) return
    nextPrune = now + 60_000
    for (const [key, count] of local) if (count.expiresAt <= now) local.delete(key)
  }

  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    readonly #prefix: string

    constructor(_globalOptions?: unknown, prefix = '') {
      this.#prefix = prefix
    }

    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      const full = this.#prefix + key
      const now = Date.now()
      prune(now)
      const seen = local.get(full)
      const mine = seen && seen.expiresAt > now ? seen : { hits: 0, expiresAt: now + timeWindow }
      mine.hits++
      local.set(full, mine)
      if (mine.hits > max) {
        callback(null, { current: mine.hits, ttl: mine.expiresAt - now })
        return
      }
      db.raw<{ rows: { count: number; ttl: number }[] }>(
        `INSERT INTO rate_limit_hits AS h (key, count, expires_at)
         VALUES (:key, 1, clock_timestamp() + make_interval(secs => :seconds))
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN h.expires_at <= clock_timestamp() THEN 1 ELSE h.count + 1 END,
           expires_at = CASE WHEN h.expires_at <= clock_timestamp() THEN excluded.expires_at ELSE h.expires_at END
         RETURNING count, greatest(0, ceil(extract(epoch FROM expires_at - clock_timestamp()) * 1000))::int AS ttl`,
        { key: full, seconds: timeWindow / 1000 },
      ).then(
        (result) => {
          const row = result.rows[0]
          const current = row?.count ?? 1
          const ttl = row?.ttl ?? timeWindow
          // The window as the database has it; a new one counts this process's hits from this one.
          mine.expiresAt = Date.now() + ttl
          if (current === 1) mine.hits = 1
          callback(null, { current, ttl })
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
