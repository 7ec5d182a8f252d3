import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  effectivePermissions,
  isPermissionKey,
  PERMISSION_KEYS,
  PERMISSIONS,
  type PermissionKey,
} from '../access/permissions.js'
import { whyNotManageUser } from '../access/users.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { requestActor } from '../http/actor.js'
import { allValues, pageNumber, signedInUser, withQuery } from '../http/params.js'
import { fields, formBody, MAX_PARAM, many, one, query } from '../http/schemas.js'
import { listUsers, type ManagedUser, USERS_PAGE_SIZE, type UserListFilters } from './queries.js'
import {
  createUser,
  resendInvitation,
  setActive,
  UserNotFoundError,
  UserRuleError,
  updateDetails,
  validateDetails,
} from './service.js'
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
      const partial = request.headers['hx-target'] === 'user-results'
      return reply.page(partial ? 'users/_results' : 'users/index', {
        title: 'Users',
        filters,
        rows,
        total,
        pages,
        permissions: PERMISSIONS,
        prevUrl: filters.page > 1 ? withQuery('/settings/users', query, { page: filters.page - 1 }) : undefined,
        nextUrl: filters.page < pages ? withQuery('/settings/users', query, { page: filters.page + 1 }) : undefined,
      })
    },
  )

  const newUserForm = (
    reply: FastifyReply,
    values: { name: string; email: string; permissions: string[] },
    errors = new FormErrors(),
  ) =>
    reply.page('users/new', {
      title: 'Add a user',
      values,
      errors,
      permissions: PERMISSIONS.map((p) => ({ ...p, held: signedInUser(reply.request).permissions.has(p.key) })),
    })

  app.get('/settings/users/new', { config: MANAGE }, async (_request, reply) =>
    newUserForm(reply, { name: '', email: '', permissions: [] }),
  )

  app.post('/settings/users', { config: MANAGE, schema: { body: USER_FORM_NEW } }, async (request, reply) => {
    const values = {
      name: text(request.body, 'name'),
      email: text(request.body, 'email'),
      permissions: allValues(request.body, 'permissions'),
    }
    const errors = new FormErrors()
    for (const p of validateDetails(values)) errors.add(p.field, p.message)
    const keys = values.permissions.filter(isPermissionKey)
    if (keys.length !== values.permissions.length) errors.add('permissions', 'Choose permissions from the list')
    if (!errors.any) {
      try {
        const user = await createUser(app.db, requestActor(request), values, keys)
        reply.flash({
          kind: 'success',
          text: `${user.name} was added. An invitation to set a password was sent to ${user.email}.`,
        })
        return reply.redirect(`/settings/users/${user.id}`, 303)
      } catch (error) {
        if (!(error instanceof UserRuleError)) throw error
        errors.add(error.field, error.message)
      }
    }
    return newUserForm(reply.code(422), values, errors)
  })

  const editPage = (
    reply: FastifyReply,
    target: ManagedUser,
    values = { name: target.name, email: target.email },
    errors = new FormErrors(),
  ) =>
    reply.page('users/edit', {
      title: `User: ${target.name}`,
      target,
      values,
      errors,
      // The same rule the service refuses with: controls that would be refused are not offered.
      refusal: whyNotManageUser(signedInUser(reply.request), target),
      isSelf: target.id === signedInUser(reply.request).id,
    })

  app.get<{ Params: { id: string } }>('/settings/users/:id', { config: MANAGE }, async (request, reply) => {
    const target = await routeUser(request)
    return editPage(reply, target)
  })

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id',
    { config: MANAGE, schema: { body: USER_FORM } },
    async (request, reply) => {
      const target = await routeUser(request)
      const values = { name: text(request.body, 'name'), email: text(request.body, 'email') }
      const errors = new FormErrors()
      for (const p of validateDetails(values)) errors.add(p.field, p.message)
      if (!errors.any) {
        try {
          await updateDetails(app.db, requestActor(request), target.id, values)
          reply.flash({ kind: 'success', text: `The details of ${values.name} were saved.` })
          return reply.redirect(`/settings/users/${target.id}`, 303)
        } catch (error) {
          if (!(error instanceof UserRuleError)) throw error
          errors.add(error.field === 'user' ? 'name' : error.field, error.message)
        }
      }
      return editPage(reply.code(422), target, values, errors)
    },
  )

  app.get<{ Params: { id: string } }>('/settings/users/:id/deactivate', { config: MANAGE }, async (request, reply) => {
    const target = await routeUser(request)
    if (target)
      return reply.page('users/deactivate', { title: `Deactivate ${target.name}?`, target, errors: new FormErrors() })
  })

  for (const [path, active] of [
    ['deactivate', false],
    ['reactivate', true],
  ] as const) {
    app.post<{ Params: { id: string } }>(`/settings/users/:id/${path}`, { config: MANAGE }, async (request, reply) => {
      const target = await routeUser(request)
      try {
        await setActive(app.db, requestActor(request), target.id, active)
        reply.flash({
          kind: 'success',
          text: active
            ? `${target.name} was reactivated and can sign in again.`
            : `${target.name} was deactivated and signed out of every session.`,
        })
        return reply.redirect(`/settings/users/${target.id}`, 303)
      } catch (error) {
        if (!(error instanceof UserRuleError)) throw error
        const errors = new FormErrors().add('confirm', error.message)
        if (active) return editPage(reply.code(409), target, undefined, new FormErrors().add('name', error.message))
        return reply.code(409).page('users/deactivate', { title: `Deactivate ${target.name}?`, target, errors })
      }
    })
  }

  app.post<{ Params: { id: string } }>('/settings/users/:id/invitation', { config: MANAGE }, async (request, reply) => {
    const target = await routeUser(request)
    try {
      await resendInvitation(app.db, requestActor(request), target.id)
      reply.flash({
        kind: 'success',
        text: `A new invitation was sent to ${target.email}. Earlier links no longer work.`,
      })
    } catch (error) {
      if (!(error instanceof UserRuleError || error instanceof UserNotFoundError)) throw error
      reply.flash({ kind: 'error', text: error.message })
    }
    return reply.redirect(`/settings/users/${target.id}`, 303)
  })
}
