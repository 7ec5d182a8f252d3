import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasAccessTo } from '../access/client-access.js'
import { clientOf } from '../access/client-context.js'
import type { Entity } from '../entities/queries.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { checkName, isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { allValues, isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { fields, formBody, MAX_PARAM, many, one, query } from '../http/schemas.js'
import { isHtmxPartialRequest } from '../plugins/app/render.js'
import type { Flash } from '../types.js'
import {
  createGroup,
  deleteGroup,
  findGroup,
  findUsers,
  groupDeletionImpact,
  groupMembers,
  listGroups,
  updateGroup,
  usersByIds,
} from './groups.js'
import { sharingRefused } from './refusal.js'
import { countRequestsToDecide, decideRequest, findRequest, requestAccess, requestsToDecide } from './requests.js'
import { readSettings, saveSettings } from './settings.js'
import { addShare, changeOwner, removeShare, type ShareTarget, setDigest, sharingView } from './sharing.js'

const ADMIN = { access: { permission: 'system_administrator' } } as const
const GROUP_FORM = formBody({ name: one(), members: many(100), find: one(MAX_PARAM), action: one(20) })
/** Every form of the Sharing options dialog posts some of these. */
const SHARING_FORM = formBody(fields(['share_with', 'owner', 'digest', 'message', 'find']))
const CLIENT = { access: { permission: 'read_data', client: 'params.id' } } as const
const CLIENT_WITHOUT_ACCESS = {
  access: { permission: 'read_data', client: 'params.id', withoutClientAccess: true },
} as const

export default async function clientAccessRoutes(app: FastifyInstance) {
  app.addWorkItem({
    order: 10,
    shownTo: (user) => user.permissions.has('read_data') && user.company.clientAccessEnabled,
    count: (_request, user) => countRequestsToDecide(app.db, user),
    label: (n) => (n === 1 ? 'access request to decide' : 'access requests to decide'),
    href: '/access-requests',
  })

  // Company settings > Client relationships > Client access
  const settingsPage = async (reply: FastifyReply, errors = new FormErrors()) => {
    const user = signedInUser(reply.request)
    const [settings, groups] = await Promise.all([
      readSettings(app.db, user.companyId),
      listGroups(app.db, user.companyId),
    ])
    return reply.page('client-access/settings', {
      title: 'Client access',
      settings,
      groups,
      errors,
      hours: Array.from({ length: 24 }, (_, h) => h),
    })
  }
  app.get('/settings/client-access', { config: ADMIN }, async (_request, reply) => settingsPage(reply))
  app.post(
    '/settings/client-access',
    {
      config: { ...ADMIN, form: (_request, reply, errors) => settingsPage(reply, errors) },
      schema: {
        body: formBody(
          fields(
            ['client_access_enabled', 'allow_access_requests', 'allow_sharing', 'default_access', 'digest_hour'],
            100,
          ),
        ),
      },
    },
    async (request, reply) => {
      const body = request.body as Record<string, unknown>
      const defaultAccess = text(body, 'default_access')
      const hour = Number(text(body, 'digest_hour'))
      const errors = new FormErrors()
      if (defaultAccess !== 'company' && defaultAccess !== 'owner')
        errors.add('default_access', 'Choose the default access for new client relationships')
      if (!Number.isInteger(hour) || hour < 0 || hour > 23) errors.add('digest_hour', 'Choose an hour from the list')
      RuleError.throwIf(errors)
      const added = await saveSettings(app.db, requestActor(request), {
        client_access_enabled: body.client_access_enabled === '1',
        allow_access_requests: body.allow_access_requests === '1',
        allow_sharing: body.allow_sharing === '1',
        default_access: defaultAccess as 'company' | 'owner',
        digest_hour: hour,
      })
      reply.flash({
        kind: 'success',
        text:
          added > 0
            ? `Client access settings saved. ${added} client relationships were shared with the whole company, so nobody lost access.`
            : 'Client access settings saved.',
      })
      return reply.redirect('/settings/client-access', 303)
    },
  )

  // Groups. The member picker lists the members, and finds other users by name or email to add (20 at a
  // time): a company of thousands of users never gets a checkbox per user.
  const groupForm = async (
    reply: FastifyReply,
    values: { name: string; members: string[] },
    group?: { id: string; name: string },
    errors = new FormErrors(),
    find = '',
  ) => {
    const { companyId } = signedInUser(reply.request)
    const [members, found] = await Promise.all([
      usersByIds(app.db, companyId, values.members),
      find ? findUsers(app.db, companyId, find, values.members) : Promise.resolve(undefined),
    ])
    return reply.page('client-access/group-form', {
      title: group ? `Group: ${isolate(group.name)}` : 'Create a group',
      group,
      values,
      members,
      search: { find, found },
      errors,
    })
  }
  const loadGroup = async (request: FastifyRequest<{ Params: { groupId: string } }>) => {
    const { groupId } = request.params
    const group = isUuid(groupId) ? await findGroup(app.db, signedInUser(request).companyId, groupId) : undefined
    if (!group) throw new NotFoundError('group')
    return group as { id: string; name: string }
  }
  const groupInput = (body: unknown) => ({
    name: text(body, 'name'),
    members: [...new Set(allValues(body, 'members').filter(isUuid))],
  })
  /** Without JavaScript, Find sends the whole form: it is shown again, nothing saved, with what was found. */
  const findingMembers = (body: unknown) => text(body, 'action') === 'find'

  // With htmx, the picker's search as one types: the same results the Find button shows.
  app.get<{ Querystring: { find?: string; members?: string | string[] } }>(
    '/settings/groups/member-search',
    { config: ADMIN, schema: { querystring: query({ find: one(MAX_PARAM), members: many(100) }) } },
    async (request, reply) => {
      const find = (request.query.find ?? '').trim()
      const members = [request.query.members ?? []].flat().filter(isUuid)
      const found = find ? await findUsers(app.db, signedInUser(request).companyId, find, members) : undefined
      const template = isHtmxPartialRequest(request) ? 'client-access/_member-results' : 'client-access/member-search'
      return reply.page(template, { title: 'Find users', search: { find, found } })
    },
  )
  const assertValidGroup = (values: { name: string }) => {
    const errors = new FormErrors()
    checkName(errors, 'name', values.name, 100, 'Enter the name of the group')
    RuleError.throwIf(errors)
  }

  app.get('/settings/groups/new', { config: ADMIN }, async (_request, reply) =>
    groupForm(reply, { name: '', members: [] }),
  )
  app.post(
    '/settings/groups',
    {
      config: {
        ...ADMIN,
        once: true,
        form: (request, reply, errors) => groupForm(reply, groupInput(request.body), undefined, errors),
      },
      schema: { body: GROUP_FORM },
    },
    async (request, reply) => {
      const values = groupInput(request.body)
      if (findingMembers(request.body))
        return groupForm(reply, values, undefined, undefined, text(request.body, 'find'))
      assertValidGroup(values)
      await createGroup(app.db, requestActor(request), values.name, values.members)
      reply.flash({ kind: 'success', text: `The group ${isolate(values.name)} was created.` })
      return reply.redirect('/settings/client-access', 303)
    },
  )
  app.get<{ Params: { groupId: string } }>('/settings/groups/:groupId', { config: ADMIN }, async (request, reply) => {
    const group = await loadGroup(request)
    const members = await groupMembers(app.db, group.id)
    return groupForm(reply, { name: group.name, members: members.map((m) => m.id) }, group)
  })
  app.post<{ Params: { groupId: string } }>(
    '/settings/groups/:groupId',
    {
      config: {
        ...ADMIN,
        form: async (request, reply, errors) =>
          groupForm(
            reply,
            groupInput(request.body),
            await loadGroup(request as FastifyRequest<{ Params: { groupId: string } }>),
            errors,
          ),
      },
      schema: { body: GROUP_FORM },
    },
    async (request, reply) => {
      const group = await loadGroup(request)
      const values = groupInput(request.body)
      if (findingMembers(request.body)) return groupForm(reply, values, group, undefined, text(request.body, 'find'))
      assertValidGroup(values)
      await updateGroup(app.db, requestActor(request), group.id, values.name, values.members)
      reply.flash({ kind: 'success', text: `The group ${isolate(values.name)} was saved.` })
      return reply.redirect('/settings/client-access', 303)
    },
  )
  app.get<{ Params: { groupId: string } }>(
    '/settings/groups/:groupId/delete',
    { config: ADMIN },
    async (request, reply) => {
      const group = await loadGroup(request)
      const impact = await groupDeletionImpact(app.db, group.id)
      const template = isHtmxPartialRequest(request)
        ? 'client-access/group-delete-dialog'
        : 'client-access/group-delete'
      return reply.page(template, { title: `Delete the group ${isolate(group.name)}?`, group, impact })
    },
  )
  app.post<{ Params: { groupId: string } }>(
    '/settings/groups/:groupId/delete',
    { config: ADMIN },
    async (request, reply) => {
      const group = await loadGroup(request)
      await deleteGroup(app.db, requestActor(request), group.id)
      reply.flash({
        kind: 'success',
        text: `The group ${isolate(group.name)} was deleted, with its access to clients.`,
      })
      return reply.redirect('/settings/client-access', 303)
    },
  )

  // Sharing options of one client: a dialog with htmx, a page without JS.
  const sharingPage = async (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    errors = new FormErrors(),
    values: Record<string, unknown> = {},
    status?: Flash,
  ) => {
    const entity = clientOf(request).entity
    const find = String((request.query as Record<string, unknown> | undefined)?.find ?? '')
      .trim()
      .slice(0, 100)
    const view = await sharingView(app.db, signedInUser(request), entity, find)
    const template = isHtmxPartialRequest(request) ? 'sharing/dialog' : 'sharing/page'
    return reply.page(template, {
      title: `Sharing options: ${isolate(entity.name)}`,
      entity,
      view,
      errors,
      find,
      values,
      status,
    })
  }
  app.get<{ Params: { id: string } }>(
    '/entities/:id/sharing',
    { config: CLIENT_WITHOUT_ACCESS, schema: { querystring: query({ find: one(MAX_PARAM) }) } },
    async (request, reply) => sharingPage(request, reply),
  )

  const sharingAction = (
    path: string,
    config: (typeof CLIENT | typeof CLIENT_WITHOUT_ACCESS) & { once?: true },
    field: string,
    act: (request: FastifyRequest<{ Params: { id: string; shareId?: string } }>, entity: Entity) => Promise<string>,
  ) =>
    app.post<{ Params: { id: string; shareId?: string } }>(
      path,
      {
        config: {
          ...config,
          // A refusal is shown beside this action's own field, with what was typed kept.
          form: (request, reply, errors) =>
            sharingPage(
              request as FastifyRequest<{ Params: { id: string } }>,
              reply,
              errors.moved('sharing', field),
              (request.body ?? {}) as Record<string, unknown>,
            ),
        },
        schema: { body: SHARING_FORM },
      },
      async (request, reply) => {
        const entity = clientOf(request).entity
        const done: Flash = { kind: 'success', text: await act(request, entity) }
        // Inside the dialog (htmx): the dialog again, updated in place, the result announced.
        if (isHtmxPartialRequest(request)) return sharingPage(request, reply, undefined, {}, done)
        reply.flash(done)
        return reply.redirect(`/entities/${entity.id}/sharing`, 303)
      },
    )

  sharingAction('/entities/:id/sharing/add', { ...CLIENT, once: true }, 'share_with', async (request, entity) => {
    const choice = text(request.body, 'share_with')
    const [kind, id] = choice.split(':')
    let target: ShareTarget
    if (choice === 'company') target = { kind: 'company' }
    else if ((kind === 'user' || kind === 'group') && isUuid(id)) target = { kind, id }
    else throw sharingRefused('Choose a user, a group or the whole company.')
    const label = await addShare(app.db, requestActor(request), entity, target)
    return `${isolate(entity.name)} is now shared with ${label}.`
  })
  sharingAction('/entities/:id/sharing/:shareId/remove', CLIENT, 'share_with', async (request, entity) => {
    const shareId = request.params.shareId
    if (!isUuid(shareId)) throw sharingRefused('That access was already removed.')
    const label = await removeShare(app.db, requestActor(request), entity, shareId)
    // A sentence starts with a capital: "The whole company no longer has access …".
    return `${label.charAt(0).toUpperCase()}${label.slice(1)} no longer has access through this share.`
  })
  sharingAction('/entities/:id/owner', CLIENT, 'owner', async (request, entity) => {
    const ownerId = text(request.body, 'owner')
    if (!isUuid(ownerId)) throw sharingRefused('Choose an active user of your company as owner.')
    return `The owner is now ${await changeOwner(app.db, requestActor(request), entity, ownerId)}.`
  })
  sharingAction('/entities/:id/digest', CLIENT, 'digest', async (request, entity) => {
    const receive = (request.body as Record<string, unknown>).digest === '1'
    await setDigest(app.db, signedInUser(request), entity.id, receive)
    return receive
      ? `You will receive ${isolate(entity.name)} in your daily digest.`
      : `${isolate(entity.name)} is left out of your daily digest.`
  })
  sharingAction(
    '/entities/:id/access-requests',
    { ...CLIENT_WITHOUT_ACCESS, once: true },
    'message',
    async (request, entity) => {
      const message = text(request.body, 'message')
      if (message.length > 2000) throw sharingRefused('Enter a message of at most 2,000 characters.')
      await requestAccess(app.db, requestActor(request), entity, message, app.config.publicUrl)
      return 'Your request was sent to the people who can share this client. You will get an email with their answer.'
    },
  )

  // Access requests to decide
  app.get('/access-requests', { config: { access: { permission: 'read_data' } } }, async (request, reply) =>
    reply.page('client-access/requests', {
      title: 'Access requests',
      requests: await requestsToDecide(app.db, signedInUser(request)),
    }),
  )
  /** A request, to those who may read it (404 to anyone else): its page, with the errors of a refused decision. */
  const requestPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const { requestId } = request.params as { requestId: string }
    const found = isUuid(requestId) ? await findRequest(app.db, signedInUser(request).companyId, requestId) : undefined
    const user = signedInUser(request)
    const decidable = found && (await requestsToDecide(app.db, user)).some((r) => r.id === found.id)
    // A pending request is shown to those who decide it; a decided one to its requester and to users with
    // access to the client (whose history it is part of), never to every Read Data user of the company.
    const readable =
      found &&
      (decidable ||
        (found.status !== 'pending' &&
          (found.requester_id === user.id || (await hasAccessTo(app.db, user, found.entity_id)))))
    if (!found || !readable) throw new NotFoundError('request')
    return reply.page('client-access/request', {
      title: `Access request for ${isolate(found.entity_name)}`,
      request: found,
      errors: errors.moved('sharing', 'decision'),
      reason: text(request.body, 'reason'),
    })
  }
  app.get<{ Params: { requestId: string } }>(
    '/access-requests/:requestId',
    { config: { access: { permission: 'read_data' } } },
    async (request, reply) => requestPage(request, reply),
  )
  for (const decision of ['grant', 'decline'] as const) {
    app.post<{ Params: { requestId: string } }>(
      `/access-requests/:requestId/${decision}`,
      {
        config: { access: { permission: 'read_data' }, form: requestPage },
        schema: { body: formBody({ reason: one() }) },
      },
      async (request, reply) => {
        const { requestId } = request.params
        if (!isUuid(requestId)) throw new NotFoundError('request')
        const reason = text(request.body, 'reason')
        if (reason.length > 2000) throw new RuleError('reason', 'Enter a reason of at most 2,000 characters.')
        const result = await decideRequest(app.db, requestActor(request), requestId, decision, reason)
        reply.flash({
          kind: 'success',
          text:
            decision === 'grant'
              ? `${result.requester} now has access to ${result.entity}.`
              : `The request of ${result.requester} was declined.`,
        })
        return reply.redirect('/access-requests', 303)
      },
    )
  }
}
