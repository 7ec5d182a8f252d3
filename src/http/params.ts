import type { FastifyRequest } from 'fastify'
import type { CurrentUser } from '../types.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}

/**
 * Whether a string is a real calendar day written YYYY-MM-DD between the years 1000 and 9999 (JavaScript
 * rolls 30 February over to March and accepts year 0; PostgreSQL refuses both).
 */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && date.getUTCFullYear() >= 1000
}

/** A page number from the query: a whole number from 1, else 1. */
export function pageNumber(value: unknown): number {
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : 1
}

/**
 * Which rows of a list numbered page by page a page shows, for views/components/list-range.eta ("26–50
 * of 112"): page `page` of `size` rows, `shown` of them on it, of `total` (more than that with `moreThan`).
 */
export function pageRange(page: number, size: number, shown: number, total: number, moreThan = false) {
  const from = (page - 1) * size + 1
  return { from, to: from + shown - 1, total, moreThan }
}

/** The signed-in user of a route the guard protects. */
export function signedInUser(request: FastifyRequest): CurrentUser {
  if (!request.user) throw new Error('the guard admits only signed-in users to this route')
  return request.user
}

/** Every value of a form field that may repeat (checkboxes, multi-selects). */
export function allValues(body: unknown, field: string): string[] {
  const value = (body as Record<string, unknown> | undefined)?.[field]
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  return typeof value === 'string' ? [value] : []
}

/** The query string of a list page with one value changed (for pagination links). */
export function withQuery(
  path: string,
  query: Record<string, string | number | undefined>,
  change: Record<string, string | number>,
): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...query, ...change }))
    if (v !== undefined && v !== '' && !(k === 'page' && v === 1)) params.set(k, String(v))
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/**
 * For a change that must find its row in the state the page showed (not yet deleted, still in the bin):
 * a racing request that got there first leaves 0 rows, and this one then changes and audits nothing.
 */
export function exactlyOne(count: number, what: string): void {
  if (count !== 1) throw new NotFoundError(what)
}

/** Thrown for anything that does not exist for this user; rendered as the same 404 page as any unknown URL. */
export class NotFoundError extends Error {
  readonly statusCode = 404
  constructor(what = 'not found') {
    super(what)
  }
}

/** `value` when it is one of `choices` (a query parameter that must name one of a list), else undefined. */
export function oneOf<T extends string>(choices: readonly T[], value: unknown): T | undefined {
  return (choices as readonly unknown[]).includes(value) ? (value as T) : undefined
}
