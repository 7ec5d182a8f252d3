import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  effectivePermissions,
  isPermissionKey,
  PERMISSION_KEYS,
  PERMISSIONS,
  type PermissionKey,
} from '../access/permissions.js'
import { whyNotManageUser } from '../access/users.js'
import { hasTwoFactor } from '../auth/two-factor.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import type { FormRerender } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { allValues, pageNumber, pageRange, signedInUser, withQuery } from '../http/params.js'
import { fields, formBody, MAX_PARAM, many, one, query } from '../http/schemas.js'
import { htmxTarget } from '../plugins/app/render.js'
import { listUsers, type ManagedUser, USERS_PAGE_SIZE, type UserListFilters } from './queries.js'
import { createUser, resendInvitation, setActive, updateDetails } from './service.js'
import { routeUser } from './target.js'

const MANAGE = { access: { permission: 'manage_user_accounts' } } as const
const USER_FORM = formBody(fields(['name', 'email']))
const USER_FORM_NEW = formBody({ ...fields(['name', 'email']), permissions: many(100) })

function filtersFrom(query: Record<string, string | undefined>): UserListFilters {
  const status = query.status === 'deactivated' || query.status === 'all' ? query.status : 'active'
  return {
    q: (query.q ?? '').trim().slice(0, 200),
    permission: isPermissionKey(query.permission) ? query.permission : '',
    status,
    page: pageNumber(query.page),
  }
}

export default async function userRoutes(app: FastifyInstance) {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/settings/users',
    {
      config: MANAGE,
      schema: { querystring: query({ q: one(MAX_PARAM), permission: one(100), status: one(100), page: one(20) }) },
    },
    async (request, reply) => {
      const filters = filtersFrom(request.query)
      const granting = PERMISSION_KEYS.filter(
        (k) => filters.permission && effectivePermissions([k]).has(filters.permission as PermissionKey),
      )
      const { rows, total } = await listUsers(app.db, signedInUser(request).companyId, filters, granting)
      const pages = Math.max(1, Math.ceil(total / USERS_PAGE_SIZE))
      const query = {
        q: filters.q,
        permission: filters.permission,
        status: filters.status === 'active' ? undefined : filters.status,
      }
      const partial = htmxTarget(request) === 'user-results'
      return reply.page(partial ? 'users/_results' : 'users/index', {
        title: 'Users',
        filters,
        rows,
        total,
        pages,
        range: pageRange(filters.page, USERS_PAGE_SIZE, rows.length, total),
        permissions: PERMISSIONS,
        prevUrl: filters.page > 1 ? withQuery('/settings/users', query, { page: filters.page - 1 }) : undefined,
        nextUrl: filters.page < pages ? withQuery('/settings/users', query, { page: filters.page + 1 }) : undefined,
      })
    },
  )

  const newUserValues = (body: unknown) => ({
    name: text(body, 'name'),
    email: text(body, 'email'),
    permissions: allValues(body, 'permissions'),
  })
  const newUserForm = (reply: FastifyReply, values: ReturnType<typeof newUserValues>, errors = new FormErrors()) =>
    reply.page('users/new', {
      title: 'Add a user',
      values,
      errors,
      permissions: PERMISSIONS.map((p) => ({ ...p, held: signedInUser(reply.request).permissions.has(p.key) })),
    })

  app.get('/settings/users/new', { config: MANAGE }, async (_request, reply) => newUserForm(reply, newUserValues({})))

  app.post(
    '/settings/users',
    {
      config: {
        ...MANAGE,
        once: true,
        form: (request, reply, errors) => newUserForm(reply, newUserValues(request.body), errors),
      },
      schema: { body: USER_FORM_NEW },
    },
    async (request, reply) => {
      const values = newUserValues(request.body)
      const user = await createUser(app.db, requestActor(request), values, values.permissions)
      reply.flash({
        kind: 'success',
        text: `${isolate(user.name)} was added. An invitation to set a password was sent to ${user.email}.`,
      })
      return reply.redirect(`/settings/users/${user.id}`, 303)
    },
  )

  const editPage = async (
    reply: FastifyReply,
    target: ManagedUser,
    values = { name: target.name, email: target.email },
    errors = new FormErrors(),
  ) =>
    reply.page('users/edit', {
      title: `User: ${isolate(target.name)}`,
      target,
      twoFactor: await hasTwoFactor(app.db, target.id),
      values,
      // A refusal about the user as a whole is shown beside their name.
      errors: errors.moved('user', 'name'),
      // The same rule the service refuses with: controls that would be refused are not offered.
      refusal: whyNotManageUser(signedInUser(reply.request), target),
      isSelf: target.id === signedInUser(reply.request).id,
    })
  const detailsOf = (body: unknown) => ({ name: text(body, 'name'), email: text(body, 'email') })
  /** The user's page again after a refused form on it: with what was typed (details) or as stored (buttons). */
  const editPageAgain =
    (typed: boolean): FormRerender =>
    async (request, reply, errors) => {
      const target = await routeUser(request as FastifyRequest<{ Params: { id: string } }>)
      return editPage(reply, target, typed ? detailsOf(request.body) : undefined, errors)
    }

  app.get<{ Params: { id: string } }>('/settings/users/:id', { config: MANAGE }, async (request, reply) => {
    const target = await routeUser(request)
    return editPage(reply, target)
  })

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id',
    { config: { ...MANAGE, form: editPageAgain(true) }, schema: { body: USER_FORM } },
    async (request, reply) => {
      const target = await routeUser(request)
      const values = detailsOf(request.body)
      await updateDetails(app.db, requestActor(request), target.id, values)
      reply.flash({ kind: 'success', text: `The details of ${isolate(values.name)} were saved.` })
      return reply.redirect(`/settings/users/${target.id}`, 303)
    },
  )

  const deactivatePage = (reply: FastifyReply, target: ManagedUser, errors = new FormErrors()) =>
    reply.page('users/deactivate', {
      title: `Deactivate ${isolate(target.name)}?`,
      target,
      errors: errors.moved('user', 'confirm'),
    })

  app.get<{ Params: { id: string } }>('/settings/users/:id/deactivate', { config: MANAGE }, async (request, reply) =>
    deactivatePage(reply, await routeUser(request)),
  )

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/deactivate',
    {
      config: {
        ...MANAGE,
        form: async (request, reply, errors) =>
          deactivatePage(reply, await routeUser(request as FastifyRequest<{ Params: { id: string } }>), errors),
      },
    },
    async (request, reply) => {
      const target = await routeUser(request)
      await setActive(app.db, requestActor(request), target.id, false)
      reply.flash({ kind: 'success', text: `${isolate(target.name)} was deactivated and signed out of every session.` })
      return reply.redirect(`/settings/users/${target.id}`, 303)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/reactivate',
    { config: { ...MANAGE, form: editPageAgain(false) } },
    async (request, reply) => {
      const target = await routeUser(request)
      await setActive(app.db, requestActor(request), target.id, true)
      reply.flash({ kind: 'success', text: `${isolate(target.name)} was reactivated and can sign in again.` })
      return reply.redirect(`/settings/users/${target.id}`, 303)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/invitation',
    { config: { ...MANAGE, form: editPageAgain(false) } },
    async (request, reply) => {
      const target = await routeUser(request)
      await resendInvitation(app.db, requestActor(request), target.id)
      reply.flash({
        kind: 'success',
        text: `A new invitation was sent to ${target.email}. Earlier links no longer work.`,
      })
      return reply.redirect(`/settings/users/${target.id}`, 303)
    },
  )
}
