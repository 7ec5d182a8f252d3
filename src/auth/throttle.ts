import type { Db } from '../db/knex.js'

/**
 * Sign-in throttling by growing delays, not by a lock that anyone can trigger. Failures are counted in the
 * database (so every server process sees them) over a window, along three lines:
 * - the address and the account together: what one guesser does to one account (a success clears it);
 * - the account from every address: a guesser spread over many addresses, delayed gently (a short cap),
 *   so that they cannot keep its owner out; only attempts whose password was checked count here;
 * - the address against every account: one address trying many accounts.
 * After its free failures, each further failure doubles the wait before the next attempt, up to its cap.
 */
export const THROTTLE = {
  windowMinutes: 15,
  pair: { free: 3, capSeconds: 15 * 60 },
  account: { free: 10, capSeconds: 30 },
  address: { free: 50, capSeconds: 15 * 60 },
} as const

/** Seconds to wait after the last of `failures` failures, for a line with `free` free ones. */
export function delaySeconds(failures: number, line: { free: number; capSeconds: number }): number {
  if (failures < line.free) return 0
  return Math.min(2 ** (failures - line.free), line.capSeconds)
}

interface Counts {
  pair_n: number
  pair_last: Date | null
  account_n: number
  account_last: Date | null
  address_n: number
  address_last: Date | null
  now: Date
}

/** Whole seconds this address must still wait before trying this account again; 0 when it may try now. */
export async function secondsToWait(db: Db, email: string, ip: string): Promise<number> {
  const { rows } = await db.raw<{ rows: Counts[] }>(
    `WITH recent AS (
       SELECT lower(email) = lower(:email) AS same_account, ip = :ip AS same_address, throttled, created_at
       FROM login_attempts
       WHERE NOT succeeded
         AND created_at > now() - make_interval(mins => :window)
         AND (lower(email) = lower(:email) OR ip = :ip)
     ), pair_cleared AS (
       SELECT max(created_at) AS at FROM login_attempts
       WHERE succeeded AND lower(email) = lower(:email) AND ip = :ip
         AND created_at > now() - make_interval(mins => :window)
     )
     SELECT
       count(*) FILTER (WHERE same_account AND same_address AND created_at > coalesce((SELECT at FROM pair_cleared), '-infinity')) AS pair_n,
       max(created_at) FILTER (WHERE same_account AND same_address) AS pair_last,
       count(*) FILTER (WHERE same_account AND NOT throttled) AS account_n,
       max(created_at) FILTER (WHERE same_account AND NOT throttled) AS account_last,
       count(*) FILTER (WHERE same_address) AS address_n,
       max(created_at) FILTER (WHERE same_address) AS address_last,
       now() AS now
     FROM recent`,
    { email, ip, window: THROTTLE.windowMinutes },
  )
  const c = rows[0] as Counts
  const now = new Date(c.now).getTime()
  const waitFor = (failures: number, last: Date | null, line: { free: number; capSeconds: number }) =>
    last ? Math.max(0, new Date(last).getTime() + delaySeconds(failures, line) * 1000 - now) : 0
  const ms = Math.max(
    waitFor(c.pair_n, c.pair_last, THROTTLE.pair),
    waitFor(c.account_n, c.account_last, THROTTLE.account),
    waitFor(c.address_n, c.address_last, THROTTLE.address),
  )
  return Math.ceil(ms / 1000)
}
