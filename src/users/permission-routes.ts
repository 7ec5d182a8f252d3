import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isPermissionKey, type PermissionKey, permissionLabel } from '../access/permissions.js'
import { FormErrors } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { allValues, NotFoundError, signedInUser } from '../http/params.js'
import { formBody, many, one } from '../http/schemas.js'
import { isHtmxPartialRequest } from '../plugins/app/render.js'
import type { ManagedUser } from './queries.js'
import { setPermissions, setShareAllClients, togglePermission } from './service.js'
import { routeUser } from './target.js'
import { permissionRows } from './view-model.js'

const MANAGE = { access: { permission: 'manage_user_accounts' } } as const

function permissionsPage(reply: FastifyReply, target: ManagedUser, errors = new FormErrors()) {
  const actor = signedInUser(reply.request)
  return reply.page('users/permissions', {
    title: `Permissions of ${isolate(target.name)}`,
    target,
    rows: permissionRows(actor, target),
    errors,
    mayShareAll: actor.permissions.has('system_administrator'),
  })
}

/**
 * What an htmx toggle answers: the switched row, the rows whose included state changed (out of band)
 * and a status message for the aria-live region. The same partial for a change and for a refusal.
 */
function toggleResult(
  reply: FastifyReply,
  target: ManagedUser,
  key: PermissionKey,
  after: ManagedUser,
  status: { kind: 'success' | 'error'; text: string },
) {
  const actor = signedInUser(reply.request)
  const beforeRows = permissionRows(actor, target)
  const rows = permissionRows(actor, after)
  const changed = rows.filter(
    (row, i) => row.key !== key && (row.state !== beforeRows[i]?.state || row.locked !== beforeRows[i]?.locked),
  )
  return reply.page('users/_toggle-result', {
    title: `Permissions of ${isolate(target.name)}`,
    target,
    row: rows.find((r) => r.key === key),
    changed,
    status,
  })
}

type ToggleRequest = FastifyRequest<{ Params: { id: string; key: string } }>

export default async function permissionRoutes(app: FastifyInstance) {
  app.get<{ Params: { id: string } }>('/settings/users/:id/permissions', { config: MANAGE }, async (request, reply) => {
    const target = await routeUser(request)
    return permissionsPage(reply, target)
  })

  const submittedKeys = (body: unknown) => [...new Set(allValues(body, 'permissions'))]

  /** Without JavaScript: the whole set in one form, saved at once. */
  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/permissions',
    {
      config: {
        ...MANAGE,
        // A refused set is not kept: the page shows what is stored, with the reason. (The form as sent cannot
        // be shown back: rows included in another permission are disabled, so they send nothing.)
        form: async (request, reply, errors) =>
          permissionsPage(reply, await routeUser(request as FastifyRequest<{ Params: { id: string } }>), errors),
      },
      schema: { body: formBody({ permissions: many(100) }) },
    },
    async (request, reply) => {
      const target = await routeUser(request)
      const submitted = submittedKeys(request.body)
      const keys = submitted.filter(isPermissionKey)
      if (keys.length !== submitted.length) throw new RuleError('permissions', 'Choose permissions from the list.')
      const result = await setPermissions(app.db, requestActor(request), target.id, keys)
      reply.flash({
        kind: 'success',
        text: result.changed
          ? `The permissions of ${isolate(target.name)} were saved.`
          : `Nothing changed: the permissions of ${isolate(target.name)} were already as shown.`,
      })
      return reply.redirect(`/settings/users/${target.id}/permissions`, 303)
    },
  )

  /**
   * With htmx: one permission switched On or Off (a refusal answers the same partial, with the reason).
   * Without htmx (a crafted request: the page's no-JS form posts the whole set) the page itself.
   */
  app.post<{ Params: { id: string; key: string } }>(
    '/settings/users/:id/permissions/:key',
    {
      config: {
        ...MANAGE,
        form: async (request, reply, errors) => {
          const target = await routeUser(request as ToggleRequest)
          const key = (request as ToggleRequest).params.key as PermissionKey
          if (!isHtmxPartialRequest(request)) return permissionsPage(reply, target, errors)
          const text = `Not changed: ${errors.list[0]?.message ?? ''}`
          return toggleResult(reply, target, key, target, { kind: 'error', text })
        },
      },
      schema: { body: formBody({ on: one(10) }) },
    },
    async (request, reply) => {
      const target = await routeUser(request as FastifyRequest<{ Params: { id: string } }>)
      const { key } = request.params
      if (!isPermissionKey(key)) throw new NotFoundError('permission')
      const on = (request.body as Record<string, unknown> | undefined)?.on === '1'
      const result = await togglePermission(app.db, requestActor(request), target.id, key, on)
      const status = {
        kind: 'success' as const,
        text: `${permissionLabel(key)} is now ${on ? 'On' : 'Off'} for ${isolate(target.name)}.`,
      }
      if (!isHtmxPartialRequest(request)) {
        reply.flash(status)
        return reply.redirect(`/settings/users/${target.id}/permissions`, 303)
      }
      return toggleResult(reply, target, key, { ...target, granted: result.after }, status)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/share-all',
    { config: { access: { permission: 'system_administrator' } }, schema: { body: formBody({ share_all: one(10) }) } },
    async (request, reply) => {
      const target = await routeUser(request)
      const on = (request.body as Record<string, unknown> | undefined)?.share_all === '1'
      await setShareAllClients(app.db, requestActor(request), target.id, on)
      reply.flash({
        kind: 'success',
        text: `All clients are ${on ? 'now' : 'no longer'} shared with ${isolate(target.name)}.`,
      })
      return reply.redirect(`/settings/users/${target.id}/permissions`, 303)
    },
  )
}
