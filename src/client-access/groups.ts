import type { Knex } from 'knex'
import { auditTarget } from '../audit/audit.js'
import { containsPattern, type Db } from '../db/knex.js'
import type { EntityActor } from '../entities/service.js'
import { RuleError } from '../forms/rule-error.js'
import { NotFoundError } from '../http/params.js'

export interface GroupRow {
  id: string
  name: string
  members: number
  clients: number
}

export async function listGroups(db: Db, companyId: string): Promise<GroupRow[]> {
  return db('groups as g')
    .where('g.company_id', companyId)
    .select(
      'g.id',
      'g.name',
      db.raw('(SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS members'),
      db.raw(
        '(SELECT count(*)::int FROM client_shares s JOIN entities e ON e.id = s.entity_id WHERE s.group_id = g.id AND e.deleted_at IS NULL) AS clients',
      ),
    )
    .orderByRaw('lower(g.name)')
}

export async function findGroup(db: Db | Knex.Transaction, companyId: string, id: string) {
  return db('groups').where({ company_id: companyId, id }).first('id', 'name')
}

/** The group, locked for the rest of the transaction: changes to one group and its members are serialised. */
function lockGroup(
  trx: Knex.Transaction,
  companyId: string,
  id: string,
): Promise<{ id: string; name: string } | undefined> {
  return trx('groups').where({ company_id: companyId, id }).forUpdate().first('id', 'name')
}

export async function groupMembers(db: Db, groupId: string): Promise<{ id: string; name: string; email: string }[]> {
  return db('group_members as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where('m.group_id', groupId)
    .select('u.id', 'u.name', 'u.email')
    .orderByRaw('lower(u.name)')
}

function audit(
  trx: Knex.Transaction,
  actor: EntityActor,
  groupId: string,
  action: string,
  before?: unknown,
  after?: unknown,
) {
  return auditTarget(trx, actor, 'group', groupId, action, before, after)
}

/** Only users of the actor's company can be members: others are silently not found. */
async function companyUserIds(trx: Knex.Transaction, companyId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows: { id: string }[] = await trx('users').where({ company_id: companyId }).whereIn('id', ids).select('id')
  return rows.map((r) => r.id)
}

export async function createGroup(db: Db, actor: EntityActor, name: string, memberIds: string[]): Promise<string> {
  try {
    return await db.transaction(async (trx) => {
      const [group] = await trx('groups').insert({ company_id: actor.user.companyId, name }).returning('id')
      const members = await companyUserIds(trx, actor.user.companyId, memberIds)
      if (members.length > 0) {
        await trx('group_members').insert(
          members.map((user_id) => ({ company_id: actor.user.companyId, group_id: group.id, user_id })),
        )
      }
      await audit(trx, actor, group.id, 'group.created', undefined, { name, members })
      return group.id as string
    })
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new RuleError('name', 'There is already a group with this name')
    throw error
  }
}

/** Renames a group and sets its members to exactly `memberIds`; the audit row lists who joined and left. */
export async function updateGroup(
  db: Db,
  actor: EntityActor,
  groupId: string,
  name: string,
  memberIds: string[],
): Promise<void> {
  try {
    await db.transaction(async (trx) => {
      const group = await lockGroup(trx, actor.user.companyId, groupId)
      if (!group) throw new NotFoundError('group')
      const before: string[] = (await trx('group_members').where({ group_id: groupId }).select('user_id')).map(
        (r: { user_id: string }) => r.user_id,
      )
      const after = await companyUserIds(trx, actor.user.companyId, memberIds)
      const added = after.filter((id) => !before.includes(id))
      const removed = before.filter((id) => !after.includes(id))
      if (group.name !== name) await trx('groups').where({ id: groupId }).update({ name })
      if (removed.length > 0)
        await trx('group_members').where({ group_id: groupId }).whereIn('user_id', removed).delete()
      if (added.length > 0) {
        await trx('group_members').insert(
          added.map((user_id) => ({ company_id: actor.user.companyId, group_id: groupId, user_id })),
        )
      }
      if (group.name !== name || added.length > 0 || removed.length > 0) {
        await audit(
          trx,
          actor,
          groupId,
          'group.changed',
          { name: group.name, members: before },
          { name, members: after, added, removed },
        )
      }
    })
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new RuleError('name', 'There is already a group with this name')
    throw error
  }
}

/** How many users and clients lose access through this group (users who keep access another way still count as members). */
export async function groupDeletionImpact(db: Db, groupId: string): Promise<{ members: number; clients: number }> {
  const row = await db.raw(
    `SELECT (SELECT count(*)::int FROM group_members WHERE group_id = ?) AS members,
            (SELECT count(*)::int FROM client_shares s JOIN entities e ON e.id = s.entity_id
              WHERE s.group_id = ? AND e.deleted_at IS NULL) AS clients`,
    [groupId, groupId],
  )
  return row.rows[0]
}

export async function deleteGroup(db: Db, actor: EntityActor, groupId: string): Promise<void> {
  await db.transaction(async (trx) => {
    const group = await lockGroup(trx, actor.user.companyId, groupId)
    if (!group) return
    const members = (await trx('group_members').where({ group_id: groupId }).select('user_id')).map(
      (r: { user_id: string }) => r.user_id,
    )
    const clients = (await trx('client_shares').where({ group_id: groupId }).select('entity_id')).map(
      (r: { entity_id: string }) => r.entity_id,
    )
    await trx('groups').where({ id: groupId }).delete()
    await audit(trx, actor, groupId, 'group.deleted', { name: group.name, members, clients }, undefined)
  })
}

export interface PickedUser {
  id: string
  name: string
  email: string
  active: boolean
}

/** These users of the company (the members a group form holds), by name. */
export async function usersByIds(db: Db, companyId: string, ids: readonly string[]): Promise<PickedUser[]> {
  if (ids.length === 0) return []
  return db('users')
    .where('company_id', companyId)
    .whereIn('id', ids)
    .select('id', 'name', 'email', 'active')
    .orderByRaw('lower(name), id')
}

export const FOUND_USERS_LIMIT = 20

/**
 * Users of the company whose name or email contains `text`, apart from those already picked: the first 20
 * by name, and whether there are more (then the reader narrows the search).
 */
export async function findUsers(
  db: Db,
  companyId: string,
  text: string,
  picked: readonly string[],
): Promise<{ users: PickedUser[]; more: boolean }> {
  const pattern = containsPattern(text.toLowerCase())
  const q = db('users')
    .where('company_id', companyId)
    .where((w) => w.whereRaw('lower(name) LIKE ?', [pattern]).orWhereRaw('lower(email) LIKE ?', [pattern]))
    .select('id', 'name', 'email', 'active')
    .orderByRaw('lower(name), id')
    .limit(FOUND_USERS_LIMIT + 1)
  if (picked.length > 0) q.whereNotIn('id', picked)
  const rows: PickedUser[] = await q
  return { users: rows.slice(0, FOUND_USERS_LIMIT), more: rows.length > FOUND_USERS_LIMIT }
}
