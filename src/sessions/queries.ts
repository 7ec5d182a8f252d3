import type { Db } from '../db/knex.js'
import { browserInWords } from './user-agent.js'

export interface SessionRow {
  id: string
  user_agent: string | null
  /** The user agent in words (browserInWords). */
  browser?: string
  ip: string | null
  created_at: Date
  last_seen_at: Date
}

/** The live sessions of one user of one company (never the sid, which is a secret). */
export async function listSessionsOfUser(db: Db, companyId: string, userId: string): Promise<SessionRow[]> {
  const rows: SessionRow[] = await db('sessions')
    .where({ company_id: companyId, user_id: userId })
    .select('id', 'user_agent', 'ip', 'created_at', 'last_seen_at')
    .orderBy('last_seen_at', 'desc')
  return rows.map((row) => ({ ...row, browser: browserInWords(row.user_agent) }))
}

export interface SignedInUserRow {
  id: string
  name: string
  email: string
  sessions: number
  last_seen_at: Date
}

/**
 * Users of the company with at least one session, most recently seen first. Grouped by the whole primary key
 * of users (id, company_id), so that the user's other columns may be selected.
 */
export async function listSignedInUsers(db: Db, companyId: string): Promise<SignedInUserRow[]> {
  return db('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.company_id', companyId)
    .groupBy('u.id', 'u.company_id')
    .select(
      'u.id',
      'u.name',
      'u.email',
      db.raw('count(*)::int AS sessions'),
      db.raw('max(s.last_seen_at) AS last_seen_at'),
    )
    .orderBy('last_seen_at', 'desc')
}
