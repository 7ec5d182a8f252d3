import type { FastifyInstance, FastifyReply } from 'fastify'
import { clientOf } from '../access/client-context.js'
import { mayChooseOwner, maySetServiced } from '../access/entities.js'
import { userNames } from '../audit/queries.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import type { FormRerender } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isCalendarDate, isUuid, oneOf, signedInUser, withQuery } from '../http/params.js'
import { fields, formBody, MAX_PARAM, query } from '../http/schemas.js'
import { htmxTarget } from '../plugins/app/render.js'
import { anyRiskWaiting, recheckWaiting } from '../risk/risk-state.js'
import { clientReference } from './page.js'
import {
  activeUsersOf,
  decodeCursor,
  ENTITY_SORTS,
  type Entity,
  type EntityListFilters,
  encodeCursor,
  listEntities,
  REVIEW_FILTERS,
  RISK_FILTERS,
} from './queries.js'
import { isCountryCode, isKind, isStatus } from './reference.js'
import {
  createEntity,
  ENTITY_FIELDS,
  type EntityInput,
  softDeleteEntity,
  updateEntity,
  validateEntity,
} from './service.js'

export const ENTITY = (permission: 'read_data' | 'edit_entities' | 'delete_entities') =>
  ({ access: { permission, client: 'params.id' } }) as const

const ENTITY_FORM = formBody(fields([...ENTITY_FIELDS, 'version']))

function inputFrom(body: unknown): EntityInput {
  return Object.fromEntries(ENTITY_FIELDS.map((f) => [f, text(body, f)])) as unknown as EntityInput
}

export default async function entityRoutes(app: FastifyInstance) {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/entities',
    {
      config: { access: { permission: 'read_data' } },
      schema: {
        querystring: query(
          fields(
            [
              'q',
              'kind',
              'status',
              'owner',
              'risk',
              'review',
              'stale',
              'country',
              'from',
              'to',
              'sort',
              'after',
              'before',
            ],
            MAX_PARAM,
          ),
        ),
      },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const q = request.query
      const sort = oneOf(ENTITY_SORTS, q.sort) ?? 'name'
      const filters: EntityListFilters = {
        q: (q.q ?? '').trim().slice(0, 200),
        kind: isKind(q.kind) ? q.kind : '',
        status: isStatus(q.status) ? q.status : '',
        owner: isUuid(q.owner) ? q.owner : '',
        risk: oneOf(RISK_FILTERS, q.risk) ?? '',
        review: oneOf(REVIEW_FILTERS, q.review) ?? '',
        outOfDate: q.stale === '1',
        country: q.country === 'none' || isCountryCode(q.country) ? (q.country as string) : '',
        from: isCalendarDate(q.from) ? (q.from as string) : '',
        to: isCalendarDate(q.to) ? (q.to as string) : '',
        sort,
        after: decodeCursor(q.after, sort),
        before: decodeCursor(q.before, sort),
      }
      // The risk column and filters read each client's risk state: when the list finds clients waiting for
      // a recheck (a change since), it rechecks a batch and reads again; beyond a batch it says some wait.
      let list = await listEntities(app.db, user, filters)
      let riskWaiting = 0
      // (An empty page has no row to say it: the question is asked on its own.)
      if (list.rows.length > 0 ? list.riskWaiting : await anyRiskWaiting(app.db, user.companyId)) {
        riskWaiting = (await recheckWaiting(app.db, user.companyId)).waiting
        list = await listEntities(app.db, user, filters)
      }
      const { rows, hasBefore, hasAfter, range } = list
      const base = {
        q: filters.q,
        kind: filters.kind,
        status: filters.status,
        owner: filters.owner,
        risk: filters.risk,
        review: filters.review,
        stale: filters.outOfDate ? '1' : undefined,
        country: filters.country,
        from: filters.from,
        to: filters.to,
        sort: filters.sort === 'name' ? undefined : filters.sort,
      }
      const first = rows[0]
      const last = rows.at(-1)
      const partial = htmxTarget(request) === 'entity-results'
      return reply.page(partial ? 'entities/_results' : 'entities/index', {
        title: 'Client relationships',
        filters,
        // The owner filter names the owner (chosen from a client's page): one of the company's users.
        ownerName:
          filters.owner && filters.owner !== user.id && !partial
            ? (await userNames(app.db, user.companyId, [filters.owner])).get(filters.owner)
            : undefined,
        rows,
        range,
        riskWaiting,
        // The Reports tab's export of the list as filtered (src/reports/routes.ts), for who may see reports.
        csvUrl: user.permissions.has('view_reports')
          ? withQuery('/entities.csv', { ...base, sort: undefined }, {})
          : undefined,
        // The column headers sort the list (from its first page), as "Sort by" does.
        sortUrls: {
          name: withQuery('/entities', { ...base, sort: undefined }, {}),
          changed: withQuery('/entities', base, { sort: 'changed' }),
          risk: withQuery('/entities', base, { sort: 'risk' }),
          review: withQuery('/entities', base, { sort: 'review' }),
        },
        ...clientReference,
        prevUrl:
          hasBefore && first
            ? withQuery('/entities', base, { before: encodeCursor({ key: first.sort_key, id: first.id }) })
            : undefined,
        nextUrl:
          hasAfter && last
            ? withQuery('/entities', base, { after: encodeCursor({ key: last.sort_key, id: last.id }) })
            : undefined,
      })
    },
  )

  const form = async (
    reply: FastifyReply,
    opts: { entity?: Entity; values: Partial<EntityInput>; errors?: FormErrors },
  ) => {
    const user = signedInUser(reply.request)
    return reply.page('entities/form', {
      title: opts.entity ? `Edit ${isolate(opts.entity.name)}` : 'New client relationship',
      entity: opts.entity,
      values: opts.values,
      errors: opts.errors ?? new FormErrors(),
      owners: await activeUsersOf(app.db, user.companyId),
      mayChooseOwner: mayChooseOwner(user),
      maySetServiced: maySetServiced(user),
      ...clientReference,
    })
  }
  /**
   * The form again after a refusal, with what was typed; after a save refused because someone else saved
   * first, it carries the stored client's version, so saving again is a deliberate choice.
   */
  const formAgain: FormRerender = (request, reply, errors, refusal) =>
    form(reply, {
      entity: (refusal?.current as Entity | undefined) ?? request.client?.entity,
      values: inputFrom(request.body),
      errors,
    })

  app.get('/entities/new', { config: { access: { permission: 'edit_entities' } } }, async (request, reply) =>
    form(reply, { values: { kind: 'individual', status: 'prospect', owner_user_id: signedInUser(request).id } }),
  )

  app.post(
    '/entities',
    { config: { access: { permission: 'edit_entities' }, once: true, form: formAgain }, schema: { body: ENTITY_FORM } },
    async (request, reply) => {
      const user = signedInUser(request)
      const owners = new Set((await activeUsersOf(app.db, user.companyId)).map((o) => o.id))
      const values = validateEntity(inputFrom(request.body), user, owners)
      const id = await createEntity(app.db, requestActor(request), values)
      reply.flash({ kind: 'success', text: `${isolate(values.name)} was created.` })
      return reply.redirect(`/entities/${id}`, 303)
    },
  )

  app.get<{ Params: { id: string } }>('/entities/:id', { config: ENTITY('read_data') }, async (request, reply) =>
    reply.clientPage(clientOf(request)),
  )

  app.get<{ Params: { id: string } }>(
    '/entities/:id/edit',
    { config: ENTITY('edit_entities') },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const values = Object.fromEntries(
        ENTITY_FIELDS.map((f) => {
          const stored = (entity as unknown as Record<string, unknown>)[f]
          // A ticked checkbox sends "yes".
          return [f, stored === true ? 'yes' : stored === false ? '' : (stored ?? '')]
        }),
      ) as Partial<EntityInput>
      return form(reply, { entity, values })
    },
  )

  app.post<{ Params: { id: string } }>(
    '/entities/:id',
    { config: { ...ENTITY('edit_entities'), form: formAgain }, schema: { body: ENTITY_FORM } },
    async (request, reply) => {
      const user = signedInUser(request)
      const entity = clientOf(request).entity
      const owners = new Set((await activeUsersOf(app.db, user.companyId)).map((o) => o.id))
      owners.add(entity.owner_user_id) // keeping a deactivated owner is allowed; choosing one is not
      const values = validateEntity(inputFrom(request.body), user, owners, entity)
      const version = text(request.body, 'version')
      const changed = await updateEntity(app.db, requestActor(request), entity.id, values, version)
      reply.flash({ kind: 'success', text: changed ? `${isolate(values.name)} was saved.` : 'Nothing was changed.' })
      return reply.redirect(`/entities/${entity.id}`, 303)
    },
  )

  app.get<{ Params: { id: string } }>(
    '/entities/:id/delete',
    { config: ENTITY('delete_entities') },
    async (request, reply) => {
      const entity = clientOf(request).entity
      return reply.page('entities/delete', { title: `Move ${isolate(entity.name)} to the recycle bin?`, entity })
    },
  )

  app.post<{ Params: { id: string } }>(
    '/entities/:id/delete',
    { config: ENTITY('delete_entities') },
    async (request, reply) => {
      const entity = clientOf(request).entity
      await softDeleteEntity(app.db, requestActor(request), entity)
      reply.flash({ kind: 'success', text: `${isolate(entity.name)} was moved to the recycle bin.` })
      return reply.redirect('/entities', 303)
    },
  )
}
