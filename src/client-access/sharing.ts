import type { Knex } from 'knex'
import { type AccessSubject, hasAccessTo, sharingRights } from '../access/client-access.js'
import { containsPattern, type Db } from '../db/knex.js'
import type { Entity } from '../entities/queries.js'
import { type EntityActor, entityAudit } from '../entities/service.js'
import { sharingRefused } from './refusal.js'

export interface SharingView {
  hasAccess: boolean
  wholeCompany: { shareId: string } | undefined
  groups: { shareId: string; id: string; name: string }[]
  users: { shareId: string; id: string; name: string }[]
  owner: { id: string; name: string }
  rights: ReturnType<typeof sharingRights>
  receivesDigest: boolean
  pendingRequest: { id: string; created_at: Date } | undefined
  candidateUsers: { id: string; name: string }[]
  candidateGroups: { id: string; name: string }[]
  /** The active users who may be made owner (only for a reader who may change the owner). */
  ownerChoices: { id: string; name: string }[]
}

export const CANDIDATES_SHOWN = 20

/**
 * Everything the Sharing options dialog shows to this user about this client. Users to add are found by
 * name (`find`), at most 20 at a time, so the dialog stays small in a company of thousands.
 */
export async function sharingView(db: Db, user: AccessSubject, entity: Entity, find = ''): Promise<SharingView> {
  const [hasAccess, shares, optOut, pending] = await Promise.all([
    hasAccessTo(db, user, entity.id),
    db('client_shares as s')
      .leftJoin('groups as g', 'g.id', 's.group_id')
      .leftJoin('users as u', 'u.id', 's.user_id')
      .where('s.entity_id', entity.id)
      .select('s.id', 's.whole_company', 's.group_id', 'g.name as group_name', 's.user_id', 'u.name as user_name')
      .orderByRaw('lower(coalesce(g.name, u.name))'),
    db('digest_opt_outs').where({ user_id: user.id, entity_id: entity.id }).first('user_id'),
    db('access_requests')
      .where({ entity_id: entity.id, requester_id: user.id, status: 'pending' })
      .first('id', 'created_at'),
  ])
  const rights = sharingRights(user, entity, hasAccess)
  const groups = shares.filter((s) => s.group_id).map((s) => ({ shareId: s.id, id: s.group_id, name: s.group_name }))
  const users = shares.filter((s) => s.user_id).map((s) => ({ shareId: s.id, id: s.user_id, name: s.user_name }))
  const whole = shares.find((s) => s.whole_company)
  let candidateUsers: { id: string; name: string }[] = []
  let candidateGroups: { id: string; name: string }[] = []
  if (rights.mayShare) {
    const like = containsPattern(find)
    ;[candidateUsers, candidateGroups] = await Promise.all([
      find
        ? db('users')
            .where({ company_id: user.companyId, active: true })
            .whereNotIn(
              'id',
              users.map((u) => u.id),
            )
            .whereILike('name', like)
            .select('id', 'name')
            .orderByRaw('lower(name)')
            .limit(CANDIDATES_SHOWN)
        : Promise.resolve([]),
      db('groups')
        .where({ company_id: user.companyId })
        .whereNotIn(
          'id',
          groups.map((g) => g.id),
        )
        .whereILike('name', like)
        .select('id', 'name')
        .orderByRaw('lower(name)')
        .limit(CANDIDATES_SHOWN),
    ])
  }
  const ownerChoices: { id: string; name: string }[] = rights.mayChangeOwner
    ? await db('users')
        .where({ company_id: user.companyId, active: true })
        .select('id', 'name')
        .orderByRaw('lower(name)')
    : []
  return {
    hasAccess,
    ownerChoices,
    wholeCompany: whole ? { shareId: whole.id } : undefined,
    groups,
    users,
    owner: { id: entity.owner_user_id, name: entity.owner_name },
    rights,
    receivesDigest: hasAccess && !optOut,
    pendingRequest: pending,
    candidateUsers,
    candidateGroups,
  }
}

/**
 * Locks the client's row for the rest of the transaction and reads its owner afresh, so that rights are
 * decided on what is stored, not on a read taken before another request changed the owner.
 */
async function lockClient(trx: Knex.Transaction, entity: Entity): Promise<Entity> {
  const row = await trx('entities as e')
    .join('users as u', 'u.id', 'e.owner_user_id')
    .where('e.id', entity.id)
    .forUpdate('e')
    .first('e.owner_user_id', 'u.name as owner_name')
  return { ...entity, owner_user_id: row.owner_user_id, owner_name: row.owner_name }
}

async function rightsFor(trx: Knex.Transaction, actor: EntityActor, entity: Entity) {
  return sharingRights(actor.user, entity, await hasAccessTo(trx, actor.user, entity.id))
}

export type ShareTarget = { kind: 'user'; id: string } | { kind: 'group'; id: string } | { kind: 'company' }

/** Shares a client with a user of the company, a group of it, or the whole company. */
export async function addShare(db: Db, actor: EntityActor, client: Entity, target: ShareTarget): Promise<string> {
  return db.transaction(async (trx) => {
    const entity = await lockClient(trx, client)
    const rights = await rightsFor(trx, actor, entity)
    if (!rights.mayShare) throw sharingRefused('You cannot share this client.')
    const companyId = actor.user.companyId
    let label: string
    const row: Record<string, unknown> = { company_id: companyId, entity_id: entity.id, created_by: actor.user.id }
    if (target.kind === 'company') {
      if (!rights.mayShareWithCompany)
        throw sharingRefused('Only administrators and the owner share a client with the whole company.')
      row.whole_company = true
      label = 'the whole company'
    } else {
      const table = target.kind === 'user' ? 'users' : 'groups'
      const found = await trx(table).where({ company_id: companyId, id: target.id }).first('name')
      if (!found) throw sharingRefused(`Choose a ${target.kind} from the list.`)
      row[target.kind === 'user' ? 'user_id' : 'group_id'] = target.id
      label = found.name
    }
    const inserted = await trx('client_shares').insert(row).onConflict().ignore().returning('id')
    await trx('entities').where({ id: entity.id }).update({ sharing_initialised: true })
    if (inserted.length > 0) {
      await entityAudit(trx, actor, entity.id, 'sharing.added', undefined, {
        [target.kind]: target.kind === 'company' ? true : target.id,
        name: label,
      })
    }
    return label
  })
}

/** Removes one share. Removing the whole-company share stays with administrators and the owner. */
export async function removeShare(db: Db, actor: EntityActor, client: Entity, shareId: string): Promise<string> {
  return db.transaction(async (trx) => {
    const entity = await lockClient(trx, client)
    const share = await trx('client_shares as s')
      .leftJoin('groups as g', 'g.id', 's.group_id')
      .leftJoin('users as u', 'u.id', 's.user_id')
      .where({ 's.id': shareId, 's.entity_id': entity.id })
      .first('s.id', 's.whole_company', 's.user_id', 's.group_id', 'g.name as group_name', 'u.name as user_name')
    if (!share) throw sharingRefused('That access was already removed.')
    const rights = await rightsFor(trx, actor, entity)
    if (!rights.mayShare || (share.whole_company && !rights.mayShareWithCompany)) {
      throw sharingRefused(
        share.whole_company
          ? 'Only administrators and the owner remove whole-company access.'
          : 'You cannot remove access to this client.',
      )
    }
    await trx('client_shares').where({ id: share.id }).delete()
    const label = share.whole_company ? 'the whole company' : (share.group_name ?? share.user_name)
    const kind = share.whole_company ? 'company' : share.group_id ? 'group' : 'user'
    await entityAudit(
      trx,
      actor,
      entity.id,
      'sharing.removed',
      { [kind]: share.whole_company ? true : (share.group_id ?? share.user_id), name: label },
      undefined,
    )
    return label as string
  })
}

export async function changeOwner(db: Db, actor: EntityActor, client: Entity, ownerId: string): Promise<string> {
  return db.transaction(async (trx) => {
    const entity = await lockClient(trx, client)
    const rights = await rightsFor(trx, actor, entity)
    if (!rights.mayChangeOwner) throw sharingRefused('Only administrators and the owner change the owner.')
    const owner = await trx('users')
      .where({ company_id: actor.user.companyId, id: ownerId, active: true })
      .first('id', 'name')
    if (!owner) throw sharingRefused('Choose an active user of your company as owner.')
    if (owner.id === entity.owner_user_id) return owner.name
    await trx('entities').where({ id: entity.id }).update({ owner_user_id: owner.id, updated_at: trx.fn.now() })
    await entityAudit(
      trx,
      actor,
      entity.id,
      'entity.owner_changed',
      { owner: entity.owner_user_id, name: entity.owner_name },
      { owner: owner.id, name: owner.name },
    )
    return owner.name as string
  })
}

/** The reader's own "Receive daily digest" for one client. */
export async function setDigest(db: Db, user: AccessSubject, entityId: string, receive: boolean): Promise<void> {
  if (receive) await db('digest_opt_outs').where({ user_id: user.id, entity_id: entityId }).delete()
  else
    await db('digest_opt_outs')
      .insert({ company_id: user.companyId, user_id: user.id, entity_id: entityId })
      .onConflict()
      .ignore()
}
