import type { FastifyInstance } from 'fastify'
import { clientOf } from '../access/client-context.js'
import { isRiskLevel, RISK_LEVELS, type RiskLevel } from '../entities/reference.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { checkName, isolate } from '../forms/names.js'
import { type FormRerender, RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { fields, formBody, one } from '../http/schemas.js'
import {
  addCatalogueService,
  allocateService,
  allocationsOf,
  catalogue,
  changeServiceRisk,
  removeAllocation,
} from './service.js'

const ADMIN = { access: { permission: 'system_administrator' } } as const
const REMOVE = { access: { permission: 'delete_entity_service_relationships', client: 'params.id' } } as const

export default async function serviceRoutes(app: FastifyInstance) {
  app.addClientSection({
    id: 'services',
    order: 20,
    template: '/services/_client-section',
    async load(request, { entity }) {
      const [allocations, services] = await Promise.all([
        allocationsOf(app.db, entity.company_id, entity.id),
        catalogue(app.db, signedInUser(request).companyId),
      ])
      const allocated = new Set(allocations.map((a) => a.service_id))
      return { allocations, available: services.filter((s) => !allocated.has(s.id)) }
    },
  })

  const cataloguePage = async (
    request: Parameters<typeof signedInUser>[0],
    values = { name: '', risk_level: 'low' },
    errors = new FormErrors(),
  ) => ({
    title: 'Services',
    services: await catalogue(app.db, signedInUser(request).companyId),
    riskLevels: RISK_LEVELS,
    values,
    errors,
  })
  const newServiceOf = (body: unknown) => ({ name: text(body, 'name'), risk_level: text(body, 'risk_level') })
  /** The catalogue again, after a refused form: the new service's (with what was typed) or a risk change. */
  const catalogueAgain =
    (typed: boolean): FormRerender =>
    async (request, reply, errors) =>
      reply.page('services/index', await cataloguePage(request, typed ? newServiceOf(request.body) : undefined, errors))

  app.get('/settings/services', { config: ADMIN }, async (request, reply) =>
    reply.page('services/index', await cataloguePage(request)),
  )

  app.post(
    '/settings/services',
    {
      config: { ...ADMIN, once: true, form: catalogueAgain(true) },
      schema: { body: formBody(fields(['name', 'risk_level'])) },
    },
    async (request, reply) => {
      const values = newServiceOf(request.body)
      const errors = new FormErrors()
      checkName(errors, 'name', values.name, 100, 'Enter the name of the service')
      if (!isRiskLevel(values.risk_level)) errors.add('risk_level', 'Choose a risk level')
      RuleError.throwIf(errors)
      await addCatalogueService(app.db, requestActor(request), values.name, values.risk_level as RiskLevel)
      reply.flash({ kind: 'success', text: `${isolate(values.name)} was added to the services.` })
      return reply.redirect('/settings/services', 303)
    },
  )

  app.post<{ Params: { serviceId: string } }>(
    '/settings/services/:serviceId',
    { config: { ...ADMIN, form: catalogueAgain(false) }, schema: { body: formBody({ risk_level: one(100) }) } },
    async (request, reply) => {
      const user = signedInUser(request)
      const service = (await catalogue(app.db, user.companyId)).find((s) => s.id === request.params.serviceId)
      if (!service) throw new NotFoundError('service')
      const risk = text(request.body, 'risk_level')
      if (!isRiskLevel(risk))
        throw new RuleError(`risk-${service.id}`, `Choose a risk level for ${isolate(service.name)}`)
      await changeServiceRisk(app.db, requestActor(request), service, risk)
      reply.flash({ kind: 'success', text: `The risk level of ${isolate(service.name)} is now ${risk}.` })
      return reply.redirect('/settings/services', 303)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/entities/:id/services',
    {
      config: {
        access: { permission: 'edit_entities', client: 'params.id' },
        once: true,
        form: (request, reply, errors) => reply.clientPage(clientOf(request), errors),
      },
      schema: { body: formBody({ service_id: one(100) }) },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const serviceId = text(request.body, 'service_id')
      const service = (await catalogue(app.db, signedInUser(request).companyId)).find((s) => s.id === serviceId)
      if (!service) throw new RuleError('service_id', 'Choose a service from the list')
      const added = await allocateService(app.db, requestActor(request), entity.id, service)
      reply.flash({
        kind: added ? 'success' : 'info',
        text: added ? `${isolate(service.name)} was added.` : `${isolate(service.name)} was already allocated.`,
      })
      return reply.redirect(`/entities/${entity.id}#services`, 303)
    },
  )

  const allocationOf = async (companyId: string, entityId: string, allocationId: string) => {
    const allocation = isUuid(allocationId)
      ? (await allocationsOf(app.db, companyId, entityId)).find((a) => a.id === allocationId)
      : undefined
    if (!allocation) throw new NotFoundError('allocation')
    return allocation
  }

  app.get<{ Params: { id: string; allocationId: string } }>(
    '/entities/:id/services/:allocationId/remove',
    { config: REMOVE },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const allocation = await allocationOf(entity.company_id, entity.id, request.params.allocationId)
      return reply.page('services/remove', {
        title: `Remove ${isolate(allocation.name)} from ${isolate(entity.name)}?`,
        entity,
        allocation,
      })
    },
  )

  app.post<{ Params: { id: string; allocationId: string } }>(
    '/entities/:id/services/:allocationId/remove',
    { config: REMOVE },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const allocation = await allocationOf(entity.company_id, entity.id, request.params.allocationId)
      await removeAllocation(app.db, requestActor(request), entity.id, allocation)
      reply.flash({ kind: 'success', text: `${isolate(allocation.name)} was removed from ${isolate(entity.name)}.` })
      return reply.redirect(`/entities/${entity.id}#services`, 303)
    },
  )
}
