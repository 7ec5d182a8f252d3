/**
 * Which database failures are the database's state rather than a bug: it cannot be reached (stopped, its
 * socket gone, connections refused or cut, no pool connection free in time), or it is busy (a lock or
 * statement timeout ended the statement, or a deadlock or serialization failure rolled the transaction back). Both answer 503 with "nothing was saved", not a 500; and a
 * session read that fails this way must never look like "no such session" (@fastify/session takes an
 * error coded ENOENT for that, and clears the cookie).
 */
export type DatabaseTrouble = 'unavailable' | 'busy'

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])

export function databaseTrouble(error: unknown): DatabaseTrouble | undefined {
  if (!(error instanceof Error)) return undefined
  const { code, syscall } = error as { code?: string; syscall?: string }
  if (code === DatabaseUnavailableError.code) return 'unavailable'
  // A lock or statement timeout; or PostgreSQL chose this transaction to roll back to end a deadlock, or a
  // serialization failure: each rolled back whole, so nothing was saved and the same request may simply be
  // sent again.
  if (code === '55P03' || code === '57014' || code === '40P01' || code === '40001') return 'busy'
  if (code && /^(08|57P)/.test(code)) return 'unavailable'
  if (code && UNREACHABLE_CODES.has(code)) return 'unavailable'
  if (code === 'ENOENT' && syscall === 'connect') return 'unavailable'
  if (error.name === 'KnexTimeoutError') return 'unavailable'
  // node-postgres's words for a connection that died under a query, or under a transaction's ROLLBACK.
  const lost = /Connection terminated|connection timeout|connection error and is not queryable/i
  if (lost.test(error.message) || /the database system is (starting up|shutting down)/i.test(error.message)) {
    return 'unavailable'
  }
  return undefined
}

/** A failure to reach the database, with a code that no library mistakes for something else. */
export class DatabaseUnavailableError extends Error {
  static readonly code = 'KYC_DATABASE_UNAVAILABLE'
  readonly code = DatabaseUnavailableError.code
  readonly statusCode = 503
  constructor(cause: unknown) {
    super('The database cannot be reached', { cause })
  }
}
