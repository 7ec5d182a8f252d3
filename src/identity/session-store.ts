import type { FastifySessionObject } from '@fastify/session'
import type { Knex } from 'knex'
import { DatabaseUnavailableError, databaseTrouble } from '../db/errors.js'
import { type Db, hotReadByShape } from '../db/knex.js'
import { type UserRow, userWithPermissions } from './user-row.js'

type Callback = (err?: unknown) => void

/**
 * A store failure as @fastify/session must see it: an error it passes on (to a 503 page), never one coded
 * ENOENT, which it would take for "no such session" and answer by clearing the user's cookie.
 */
function storeFailure(error: unknown): Error {
  const trouble = databaseTrouble(error)
  if (trouble === 'unavailable' || (error as { code?: string })?.code === 'ENOENT') {
    return new DatabaseUnavailableError(error)
  }
  return error instanceof Error ? error : new Error(String(error))
}
type GetCallback = (err: unknown, session?: FastifySessionObject | null) => void

export interface SessionTimeouts {
  idleMinutes: number
  absoluteHours: number
}

/**
 * A @fastify/session store over knex. The user, company, browser and address are kept in columns of
 * their own, so all sessions of one user can be listed and ended at once (Signout Users), from any
 * server process. A session past its idle or absolute timeout is never returned.
 */
export class PgSessionStore {
  /**
   * The user row read with each session (same query), handed to the current-user hook of the same request
   * by takeUser(), so a signed-in request costs one round trip for both. Entries live for that one hand-over.
   */
  private readonly usersRead = new Map<string, UserRow | null>()

  constructor(
    private readonly db: Db,
    private readonly timeouts: SessionTimeouts,
  ) {}

  set(sid: string, session: FastifySessionObject, callback: Callback): void {
    const row = {
      sid,
      data: JSON.stringify(session),
      user_id: session.userId ?? null,
      company_id: session.companyId ?? null,
      user_agent: session.userAgent ?? null,
      ip: session.ip ?? null,
    }
    this.db('sessions')
      .insert(row)
      .onConflict('sid')
      .merge(['data', 'user_id', 'company_id', 'user_agent', 'ip', 'last_seen_at'])
      .then(
        () => callback(),
        (error) => callback(storeFailure(error)),
      )
  }

  get(sid: string, callback: GetCallback): void {
    const { db } = this
    const params = { sid, idle: this.timeouts.idleMinutes, absolute: this.timeouts.absoluteHours }
    hotReadByShape<{ data: FastifySessionObject; user_row: UserRow | null } | undefined, typeof params>(
      db,
      'sessions.get',
      params,
      (p) =>
        db('sessions as s')
          .leftJoin(db.raw('LATERAL (?) AS su ON true', [userWithPermissions(db).whereRaw('u.id = s.user_id')]))
          .where('s.sid', p.sid)
          .whereRaw('s.last_seen_at > now() - make_interval(mins => ?)', [p.idle])
          .whereRaw('s.created_at > now() - make_interval(hours => ?)', [p.absolute])
          .first('s.data', db.raw('CASE WHEN su.id IS NULL THEN NULL ELSE to_jsonb(su) END AS user_row')),
    ).then(
      (row) => {
        if (row) {
          if (this.usersRead.size > 10_000) this.usersRead.clear()
          this.usersRead.set(sid, row.user_row)
        }
        callback(null, row ? row.data : null)
      },
      (error) => callback(storeFailure(error)),
    )
  }

  /** The user read with this session in this request, if any (undefined when it was not read). */
  takeUser(sid: string): UserRow | null | undefined {
    const row = this.usersRead.get(sid)
    this.usersRead.delete(sid)
    return row
  }

  destroy(sid: string, callback: Callback): void {
    this.db('sessions')
      .where({ sid })
      .delete()
      .then(
        () => callback(),
        (error) => callback(storeFailure(error)),
      )
  }
}

const TOUCH_EVERY_MS = 60_000
/** When this process last marked each session seen; bounded, entries are dropped once stale. */
const lastTouched = new Map<string, number>()

/**
 * Marks a session as seen at most once a minute, so idle time is measured without a write (or even a
 * query) per request. Each process remembers its own last write; the UPDATE's condition keeps several
 * processes from writing more often than that between them.
 */
export async function touchSession(db: Db, sid: string, now = Date.now()): Promise<void> {
  const last = lastTouched.get(sid)
  if (last !== undefined && now - last < TOUCH_EVERY_MS) return
  if (lastTouched.size > 50_000) {
    for (const [key, at] of lastTouched) if (now - at >= TOUCH_EVERY_MS) lastTouched.delete(key)
  }
  lastTouched.set(sid, now)
  await db('sessions')
    .where({ sid })
    .whereRaw("last_seen_at < now() - interval '1 minute'")
    .update({ last_seen_at: db.fn.now() })
}

/** Deletes sessions past their timeouts; run periodically. */
export async function deleteExpiredSessions(db: Db, timeouts: SessionTimeouts): Promise<number> {
  return db('sessions')
    .whereRaw('last_seen_at <= now() - make_interval(mins => ?)', [timeouts.idleMinutes])
    .orWhereRaw('created_at <= now() - make_interval(hours => ?)', [timeouts.absoluteHours])
    .delete()
}

/**
 * Ends every session of one user (sign-out everywhere, a new password), or every one but `keepSid`'s: the rows
 * go, and any session that started before now is refused from now on (users.sessions_valid_after), so that a
 * request still running cannot bring its session back by saving it. Returns how many rows went and the
 * moment from which sessions count (the kept session's new start).
 */
export async function endSessionsOfUser(
  db: Db | Knex.Transaction,
  userId: string,
  keepSid?: string,
): Promise<{ ended: number; validAfter: Date }> {
  const [row] = await db('users')
    .where({ id: userId })
    .update({ sessions_valid_after: db.fn.now() })
    .returning('sessions_valid_after')
  const ended = await db('sessions')
    .where({ user_id: userId })
    .modify((q) => (keepSid ? q.whereNot({ sid: keepSid }) : q))
    .delete()
  return { ended, validAfter: new Date(row?.sessions_valid_after ?? Date.now()) }
}

/** Ends every session of one user (sign-out everywhere, deactivation). */
export async function deleteSessionsOfUser(db: Db | Knex.Transaction, userId: string): Promise<number> {
  return (await endSessionsOfUser(db, userId)).ended
}
