import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'
import type { CurrentUser } from '../types.js'
import { effectivePermissions, type PermissionKey } from './permissions.js'

/**
 * The client access rule of SPEC section 3 — the only place that decides which client relationships a
 * user may open. While the company's "Manage user access to clients" is off, everyone has access (the
 * route's permission still applies). While it is on, a user has access when any one of these holds:
 */
export const ACCESS_PATHS = ['administrator', 'owner', 'share_all', 'whole_company', 'direct', 'group'] as const
export type AccessPath = (typeof ACCESS_PATHS)[number]

/** What the rule needs to know about a user: the signed-in user, or another one (digests, emails). */
export type AccessSubject = Pick<CurrentUser, 'id' | 'companyId' | 'permissions' | 'shareAllClients' | 'company'>

type Conn = Db | Knex.Transaction

/** Whether the user may open every client of the company, whatever its owner and shares. */
function seesEveryClient(user: AccessSubject, paths: readonly AccessPath[]): boolean {
  return (
    !user.company.clientAccessEnabled ||
    (paths.includes('administrator') && user.permissions.has('system_administrator')) ||
    (paths.includes('share_all') && user.shareAllClients)
  )
}

/**
 * The rule as one SQL boolean expression over the entity aliased `alias`. Facts about the user that do
 * not depend on the client (settings, administrator, share-all) are decided here once, so the per-row
 * part is the owner test and one index-only probe of the client's shares. `paths` exists so the
 * property-based test can prove that dropping any one path is noticed.
 */
export function hasAccessSql(
  db: Conn,
  user: AccessSubject,
  alias = 'e',
  paths: readonly AccessPath[] = ACCESS_PATHS,
): Knex.Raw {
  if (seesEveryClient(user, paths)) return db.raw('true')
  const perRow: string[] = []
  const bindings: Knex.RawBinding[] = []
  if (paths.includes('owner')) {
    perRow.push(`${alias}.owner_user_id = ?`)
    bindings.push(user.id)
  }
  // Every kind of share in one subquery, answered by one index-only probe of the client's shares
  // (client_shares_by_entity_idx). The user's groups are an uncorrelated subquery, which PostgreSQL reads
  // once per statement into a hash (a "hashed SubPlan"), not once per client. It is a LIMIT 1 scalar
  // subquery rather than EXISTS on purpose: an EXISTS may be planned as a hash of every share of the
  // company, which made a filtered list of a restricted user take 43 ms instead of 3 ms.
  const shareTests: string[] = []
  if (paths.includes('whole_company')) shareTests.push('s.whole_company')
  const shareBindings: Knex.RawBinding[] = []
  if (paths.includes('direct')) {
    shareTests.push('s.user_id = ?')
    shareBindings.push(user.id)
  }
  if (paths.includes('group')) {
    shareTests.push('s.group_id IN (SELECT gm.group_id FROM group_members gm WHERE gm.user_id = ?)')
    shareBindings.push(user.id)
  }
  if (shareTests.length > 0) {
    perRow.push(
      `(SELECT true FROM client_shares s WHERE s.entity_id = ${alias}.id AND (${shareTests.join(' OR ')}) LIMIT 1) IS NOT NULL`,
    )
    bindings.push(...shareBindings)
  }
  return perRow.length === 0 ? db.raw('false') : db.raw(`(${perRow.join(' OR ')})`, bindings)
}

/** Live clients of the user's company that the user may open: for lists, counts, searches, digests. */
export function accessibleClientsPredicate(db: Conn, user: AccessSubject, alias = 'e') {
  return (query: Knex.QueryBuilder) =>
    query
      .where(`${alias}.company_id`, user.companyId)
      .whereNull(`${alias}.deleted_at`)
      .where(hasAccessSql(db, user, alias))
}

/**
 * One part of the clients a user may open, for counting them (the Reports): the parts of countingParts are
 * disjoint and together are the clients of hasAccessSql. `tally` says the part may be counted from the tallies
 * the database keeps (migrations/20261205000001_report_tallies.ts): 'all' the company's live clients, 'shared'
 * those shared with the whole company. `where` is the part as a predicate over client_report_facts (the live
 * clients' facts, keyed by client id as `id`, with `owner_user_id` and `shared`) aliased `alias`.
 */
export interface CountingPart {
  tally?: 'all' | 'shared'
  where: Knex.Raw
}

/**
 * The rule of hasAccessSql, split for counting. Whoever sees every client has one part, the tallies. A
 * restricted user has the whole-company part (a tally) and the clients that reach them otherwise and are not
 * shared with the whole company, read from the indexes of their own shares, their groups' shares and the
 * clients they own: a few thousand rows at most, where testing every client would read 100,000.
 */
export function countingParts(
  db: Conn,
  user: AccessSubject,
  alias = 'f',
  paths: readonly AccessPath[] = ACCESS_PATHS,
): CountingPart[] {
  if (seesEveryClient(user, paths)) return [{ tally: 'all', where: db.raw('true') }]
  const parts: CountingPart[] = []
  const whole = paths.includes('whole_company')
  if (whole) parts.push({ tally: 'shared', where: db.raw(`${alias}.shared`) })
  const arms: string[] = []
  const bindings: Knex.RawBinding[] = []
  if (paths.includes('owner')) {
    arms.push('SELECT o.id FROM entities o WHERE o.owner_user_id = ? AND o.deleted_at IS NULL')
    bindings.push(user.id)
  }
  if (paths.includes('direct')) {
    arms.push('SELECT s.entity_id FROM client_shares s WHERE s.user_id = ?')
    bindings.push(user.id)
  }
  if (paths.includes('group')) {
    arms.push(
      'SELECT s.entity_id FROM group_members gm JOIN client_shares s ON s.group_id = gm.group_id WHERE gm.user_id = ?',
    )
    bindings.push(user.id)
  }
  if (arms.length > 0) {
    const rest = `${alias}.id IN (${arms.join(' UNION ALL ')})`
    parts.push({ where: db.raw(whole ? `(NOT ${alias}.shared AND ${rest})` : rest, bindings) })
  }
  return parts
}

/**
 * The same rule read the other way: the active users of the company who have access to one client
 * (the reverse of hasAccessSql, used to find whom to email). Checked against the same reference model.
 */
export function usersWithAccessSql(db: Conn, entityId: string, alias = 'u'): Knex.Raw {
  return db.raw(
    `(
      NOT c.client_access_enabled
      OR EXISTS (SELECT 1 FROM user_permissions p WHERE p.user_id = ${alias}.id AND p.permission = 'system_administrator')
      OR ${alias}.share_all_clients
      OR EXISTS (SELECT 1 FROM entities oe WHERE oe.id = ? AND oe.owner_user_id = ${alias}.id)
      OR EXISTS (SELECT 1 FROM client_shares s WHERE s.entity_id = ? AND (
           s.whole_company OR s.user_id = ${alias}.id
           OR s.group_id IN (SELECT gm.group_id FROM group_members gm WHERE gm.user_id = ${alias}.id)))
    )`,
    [entityId, entityId],
  )
}

/** Loads the facts the rule needs about any user of a company (for work done outside a request). */
export async function accessSubject(db: Conn, userId: string): Promise<AccessSubject | undefined> {
  const row = await db('users as u')
    .join('companies as c', 'c.id', 'u.company_id')
    .where('u.id', userId)
    .select(
      'u.id',
      'u.company_id',
      'u.share_all_clients',
      'c.client_access_enabled',
      'c.allow_sharing',
      'c.allow_access_requests',
      db.raw(
        "coalesce((SELECT array_agg(p.permission) FROM user_permissions p WHERE p.user_id = u.id), '{}') AS granted",
      ),
    )
    .first()
  if (!row) return undefined
  return {
    id: row.id,
    companyId: row.company_id,
    permissions: effectivePermissions(row.granted as PermissionKey[]),
    shareAllClients: row.share_all_clients,
    company: {
      clientAccessEnabled: row.client_access_enabled,
      allowSharing: row.allow_sharing,
      allowAccessRequests: row.allow_access_requests,
    },
  }
}

/**
 * Who may share or remove access on a client (SPEC section 3): administrators and the owner always;
 * with "Allow sharing options" on, every user with access. Whole-company shares and the owner stay with
 * administrators and the owner.
 */
export type SharingRights = ReturnType<typeof sharingRights>

export function sharingRights(user: AccessSubject, client: { owner_user_id: string }, hasAccess: boolean) {
  const principal = user.permissions.has('system_administrator') || client.owner_user_id === user.id
  return {
    mayShare: principal || (user.company.allowSharing && hasAccess),
    mayShareWithCompany: principal,
    mayChangeOwner: principal,
  }
}

/**
 * The sharing rule as SQL over the client aliased `alias`: the clients this user may share (and so decide
 * access requests for). The same rule as sharingRights, for lists.
 */
export function maySharePredicate(db: Conn, user: AccessSubject, alias = 'e') {
  return (query: Knex.QueryBuilder) => {
    if (user.permissions.has('system_administrator')) return query
    return query.where((w) => {
      w.where(`${alias}.owner_user_id`, user.id)
      if (user.company.allowSharing) w.orWhere(hasAccessSql(db, user, alias))
    })
  }
}

/**
 * The sharing rule read the other way, as SQL over the user aliased `alias` (joined with their company
 * as `c`): the users who may share one client — to email about a request for it.
 */
export function usersWhoMayShareSql(db: Conn, client: { id: string; owner_user_id: string }, alias = 'u') {
  return (query: Knex.QueryBuilder) =>
    query.where((w) =>
      w
        .whereExists(
          db('user_permissions as p').whereRaw(`p.user_id = ${alias}.id`).where('p.permission', 'system_administrator'),
        )
        .orWhere(`${alias}.id`, client.owner_user_id)
        .orWhere((x) => x.where('c.allow_sharing', true).where(usersWithAccessSql(db, client.id, alias))),
    )
}

/** Whether the user has access to one client (SPEC section 3), for a decision inside a transaction. */
export async function hasAccessTo(db: Conn, user: AccessSubject, entityId: string): Promise<boolean> {
  const row = await db('entities as e')
    .where('e.id', entityId)
    .first(db.raw('? AS ok', [hasAccessSql(db, user)]))
  return Boolean(row?.ok)
}
