import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import type { RiskLevel } from '../entities/reference.js'
import { type EntityActor, entityAudit } from '../entities/service.js'
import { RuleError } from '../forms/rule-error.js'
import { exactlyOne } from '../http/params.js'

export interface CatalogueService {
  id: string
  name: string
  risk_level: RiskLevel
}

export async function catalogue(db: Db, companyId: string): Promise<CatalogueService[]> {
  return db('services').where({ company_id: companyId }).select('id', 'name', 'risk_level').orderByRaw('lower(name)')
}

/** Adds a service to the company's catalogue (administrators). */
export async function addCatalogueService(db: Db, actor: EntityActor, name: string, risk: RiskLevel): Promise<void> {
  try {
    await db.transaction(async (trx) => {
      const [row] = await trx('services')
        .insert({ company_id: actor.user.companyId, name, risk_level: risk })
        .returning('id')
      await auditTarget(trx, actor, 'service', row.id, 'service.created', undefined, { name, risk_level: risk })
    })
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new RuleError('name', 'There is already a service with this name')
    throw error
  }
}

export async function changeServiceRisk(
  db: Db,
  actor: EntityActor,
  service: CatalogueService,
  risk: RiskLevel,
): Promise<void> {
  await db.transaction(async (trx) => {
    // Read under a lock: the audit row's "before" is what was stored, not what this request's page showed.
    const stored = await trx('services')
      .where({ id: service.id, company_id: actor.user.companyId })
      .forUpdate()
      .first('risk_level')
    if (!stored || stored.risk_level === risk) return
    await trx('services').where({ id: service.id }).update({ risk_level: risk })
    await auditTarget(
      trx,
      actor,
      'service',
      service.id,
      'service.risk_changed',
      { risk_level: stored.risk_level },
      { risk_level: risk },
    )
  })
}

export interface Allocation {
  id: string
  service_id: string
  name: string
  risk_level: RiskLevel
  created_at: Date
}

export async function allocationsOf(db: Db, companyId: string, entityId: string): Promise<Allocation[]> {
  return db('entity_services as a')
    .join('services as s', 's.id', 'a.service_id')
    .where({ 'a.company_id': companyId, 'a.entity_id': entityId })
    .select('a.id', 'a.service_id', 's.name', 's.risk_level', 'a.created_at')
    .orderByRaw('lower(s.name)')
}

export async function allocateService(
  db: Db,
  actor: EntityActor,
  entityId: string,
  service: CatalogueService,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const rows = await trx('entity_services')
      .insert({
        company_id: actor.user.companyId,
        entity_id: entityId,
        service_id: service.id,
        created_by: actor.user.id,
      })
      .onConflict(['entity_id', 'service_id', 'company_id'])
      .ignore()
      .returning('id')
    if (rows.length === 0) return false
    await trx('entities').where({ id: entityId }).update({ updated_at: trx.fn.now() })
    await entityAudit(trx, actor, entityId, 'entity.service_added', undefined, {
      service: service.name,
      risk_level: service.risk_level,
    })
    return true
  })
}

export async function removeAllocation(
  db: Db,
  actor: EntityActor,
  entityId: string,
  allocation: Allocation,
): Promise<void> {
  await db.transaction(async (trx) => {
    exactlyOne(await trx('entity_services').where({ id: allocation.id, entity_id: entityId }).delete(), 'service')
    await trx('entities').where({ id: entityId }).update({ updated_at: trx.fn.now() })
    await entityAudit(
      trx,
      actor,
      entityId,
      'entity.service_removed',
      { service: allocation.name, risk_level: allocation.risk_level },
      undefined,
    )
  })
}
