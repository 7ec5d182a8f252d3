import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isPermissionKey, type PermissionKey, permissionLabel } from '../access/permissions.js'
import { FormErrors } from '../forms/form-errors.js'
import { requestActor } from '../http/actor.js'
import { allValues, NotFoundError, signedInUser } from '../http/params.js'
import { formBody, many, one } from '../http/schemas.js'
import { isHtmxPartialRequest } from '../plugins/app/render.js'
import type { ManagedUser } from './queries.js'
import { setPermissions, setShareAllClients, togglePermission, UserRuleError } from './service.js'
import { routeUser } from './target.js'
import { permissionRows } from './view-model.js'

const MANAGE = { access: { permission: 'manage_user_accounts' } } as const

function permissionsPage(
  reply: FastifyReply,
  target: ManagedUser,
  errors = new FormErrors(),
  granted?: ReadonlySet<PermissionKey>,
) {
  const actor = signedInUser(reply.request)
  return reply.page('users/permissions', {
    title: `Permissions of ${target.name}`,
    target,
    rows: permissionRows(actor, target, granted),
    errors,
    mayShareAll: actor.permissions.has('system_administrator'),
  })
}

export default async function permissionRoutes(app: FastifyInstance) {
  app.get<{ Params: { id: string } }>('/settings/users/:id/permissions', { config: MANAGE }, async (request, reply) => {
    const target = await routeUser(request)
    return permissionsPage(reply, target)
  })

  /** Without JavaScript: the whole set in one form, saved at once. */
  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/permissions',
    { config: MANAGE, schema: { body: formBody({ permissions: many(100) }) } },
    async (request, reply) => {
      const target = await routeUser(request)
      const submitted = allValues(request.body, 'permissions')
      const keys = [...new Set(submitted)].filter(isPermissionKey)
      if (keys.length !== new Set(submitted).size) {
        return permissionsPage(
          reply.code(422),
          target,
          new FormErrors().add('permissions', 'Choose permissions from the list.'),
        )
      }
      try {
        const result = await setPermissions(app.db, requestActor(request), target.id, keys)
        reply.flash({
          kind: 'success',
          text: result.changed
            ? `The permissions of ${target.name} were saved.`
            : `Nothing changed: the permissions of ${target.name} were already as shown.`,
        })
        return reply.redirect(`/settings/users/${target.id}/permissions`, 303)
      } catch (error) {
        if (!(error instanceof UserRuleError)) throw error
        return permissionsPage(
          reply.code(409),
          target,
          new FormErrors().add('permissions', error.message),
          new Set(keys),
        )
      }
    },
  )

  /**
   * With htmx: one permission switched On or Off. Answers with that row, the rows whose included state
   * changed (out of band) and a status message for the aria-live region.
   */
  app.post<{ Params: { id: string; key: string } }>(
    '/settings/users/:id/permissions/:key',
    { config: MANAGE, schema: { body: formBody({ on: one(10) }) } },
    async (request, reply) => {
      const target = await routeUser(request as FastifyRequest<{ Params: { id: string } }>)
      const { key } = request.params
      if (!isPermissionKey(key)) throw new NotFoundError('permission')
      const on = (request.body as Record<string, unknown> | undefined)?.on === '1'
      const actor = signedInUser(request)
      const beforeRows = permissionRows(actor, target)
      let status: { kind: 'success' | 'error'; text: string }
      let after: ManagedUser = target
      try {
        const result = await togglePermission(app.db, requestActor(request), target.id, key, on)
        after = { ...target, granted: result.after }
        status = { kind: 'success', text: `${permissionLabel(key)} is now ${on ? 'On' : 'Off'} for ${target.name}.` }
      } catch (error) {
        if (!(error instanceof UserRuleError)) throw error
        reply.code(409)
        status = { kind: 'error', text: `Not changed: ${error.message}` }
      }
      const rows = permissionRows(actor, after)
      if (!isHtmxPartialRequest(request)) {
        reply.flash(status)
        return reply.redirect(`/settings/users/${target.id}/permissions`, 303)
      }
      const changed = rows.filter(
        (row, i) => row.key !== key && (row.state !== beforeRows[i]?.state || row.locked !== beforeRows[i]?.locked),
      )
      return reply.page('users/_toggle-result', {
        title: `Permissions of ${target.name}`,
        target,
        row: rows.find((r) => r.key === key),
        changed,
        status,
      })
    },
  )

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/share-all',
    { config: { access: { permission: 'system_administrator' } }, schema: { body: formBody({ share_all: one(10) }) } },
    async (request, reply) => {
      const target = await routeUser(request)
      const on = (request.body as Record<string, unknown> | undefined)?.share_all === '1'
      await setShareAllClients(app.db, requestActor(request), target.id, on)
      reply.flash({ kind: 'success', text: `All clients are ${on ? 'now' : 'no longer'} shared with ${target.name}.` })
      return reply.redirect(`/settings/users/${target.id}/permissions`, 303)
    },
  )
}
