import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import type { EntityActor } from '../entities/service.js'

export interface ClientAccessSettings {
  client_access_enabled: boolean
  allow_access_requests: boolean
  allow_sharing: boolean
  default_access: 'company' | 'owner'
  digest_hour: number
  time_zone: string
}

export async function readSettings(db: Db, companyId: string): Promise<ClientAccessSettings> {
  return db('companies')
    .where({ id: companyId })
    .first(
      'client_access_enabled',
      'allow_access_requests',
      'allow_sharing',
      'default_access',
      'digest_hour',
      'time_zone',
    )
}

/**
 * Saves the settings. Switching "Manage user access to clients" on changes nobody's access: every client
 * whose sharing was never set up gets a whole-company share, in the same transaction. Switching off keeps
 * every share, group and request, so switching on again brings the same configuration back.
 */
export async function saveSettings(
  db: Db,
  actor: EntityActor,
  next: Omit<ClientAccessSettings, 'time_zone'>,
): Promise<number> {
  return db.transaction(async (trx) => {
    const before: ClientAccessSettings = await trx('companies')
      .where({ id: actor.user.companyId })
      .forUpdate()
      .first('client_access_enabled', 'allow_access_requests', 'allow_sharing', 'default_access', 'digest_hour')
    await trx('companies').where({ id: actor.user.companyId }).update(next)
    let initialised = 0
    if (next.client_access_enabled && !before.client_access_enabled) {
      const rows = await trx.raw(
        `WITH fresh AS (
           UPDATE entities SET sharing_initialised = true
           WHERE company_id = ? AND NOT sharing_initialised RETURNING id
         )
         INSERT INTO client_shares (company_id, entity_id, whole_company, created_by)
         SELECT ?, id, true, ? FROM fresh
         ON CONFLICT DO NOTHING RETURNING id`,
        [actor.user.companyId, actor.user.companyId, actor.user.id],
      )
      initialised = rows.rowCount ?? 0
    }
    await auditTarget(trx, actor, 'company', actor.user.companyId, 'settings.client_access_changed', before, {
      ...next,
      whole_company_shares_added: initialised,
    })
    return initialised
  })
}
