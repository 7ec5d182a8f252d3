import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { sendResetLinks } from '../../src/auth/password-reset.js'
import { ROOT_DIR } from '../../src/config.js'
import type { DeclaredRoute } from '../../src/plugins/app/guard.js'
import { multipartBody, PDF_BYTES, type TestApp, testApp, Visitor } from './app.js'
import { anEntity } from './entities.js'
import { aCompany, aUser, type Company, PASSWORD, type User } from './factories.js'

/** The real objects a seeded desk holds, by what the route table's path parameters need. */
export interface DeskIds {
  /** A live client with documents, services, shares; every client-scoped route opens it. */
  entity: string
  /** A live client that POST /entities/:id/delete moves to the recycle bin. */
  doomedEntity: string
  /** Clients in the recycle bin: one to restore, one (with a document) to delete for good. */
  binnedEntity: string
  purgedEntity: string
  /** Live documents of `entity`: one to download, one that POST …/delete moves to the bin. */
  document: string
  doomedDocument: string
  /** Documents of `entity` in the recycle bin: one to restore, one to delete for good. */
  binnedDocument: string
  purgedDocument: string
  service: string
  /** Allocations of `entity`: one to show, one that POST …/remove removes. */
  allocation: string
  doomedAllocation: string
  group: string
  doomedGroup: string
  /** The share of `entity` with the other user (POST …/sharing/:shareId/remove removes it). */
  share: string
  /** Pending access requests: one to grant, one to decline. */
  request: string
  declinedRequest: string
  /** A second session of the administrator (POST /profile/sessions/:sessionId/end ends it). */
  session: string
  /** An outgoing email of the company, marked failed (so retrying it runs). */
  email: string
  /** An open invitation's token (from the email that carried it). */
  invitationToken: string
  /** An open password reset link's token, of Ivy's account (from the email that carried it). */
  resetToken: string
  /** A manual screening search of `entity` (with a potential match, open). */
  search: string
  /** One-time searches: one to show, one that POST …/delete deletes. */
  oneTimeSearch: string
  doomedOneTimeSearch: string
  /** The company's default search profile. */
  profile: string
  /** A self-service request of the entity, sent through its form, and its link's token (from the outbox). */
  portalRequest: string
  portalToken: string
  /** A file the client uploaded to that request through the portal. */
  portalUpload: string
}

export interface Desk extends TestApp {
  /** The client of the self-service request, in the portal (its own session): portal routes are theirs. */
  portal: Visitor
  /** Who calls a route: the client in the portal for a portal route, else the administrator. */
  visitorFor(route: Pick<DeclaredRoute, 'access'>): Visitor
  company: Company
  otherCompany: Company
  /** Signed in as `admin`, with a page read (so a CSRF token is at hand). */
  a: Visitor
  admin: User
  /** Another user of the company (read_data), signed in elsewhere: every /settings/users/:id route opens them. */
  other: User
  ids: DeskIds
  /** A route's URL with each path parameter (and the `*` of /public/*) replaced by a real value. */
  fill(route: Pick<DeclaredRoute, 'method' | 'url'>): string
  /** The real value of one path parameter of a route. */
  paramValue(route: Pick<DeclaredRoute, 'method' | 'url'>, name: string): string
}

/** The path parameters of a route's URL (`*` for a wildcard), in order. */
export function pathParams(url: string): string[] {
  return [...url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*')
}

/** A URL with each path parameter replaced by the (URL-encoded) value `value` gives for it. */
export function fillPath(url: string, value: (name: string) => string): string {
  return url.replace(/:(\w+)|\*/g, (_m, name: string | undefined) => encodeURIComponent(value(name ?? '*')))
}

async function expectStatus(what: string, res: Promise<LightMyRequestResponse>, status = 303) {
  const answer = await res
  if (answer.statusCode !== status) {
    throw new Error(`seeding: ${what} answered ${answer.statusCode}, not ${status}: ${answer.body.slice(0, 500)}`)
  }
  return answer
}

/**
 * One company (and a second one, for realism) with an administrator signed in, and a real object behind
 * every path parameter of the route table, made through the app's own routes where a route makes it.
 */
export async function seedDesk(t: Test): Promise<Desk> {
  const ctx = await testApp(t)
  const { app, db } = ctx
  const company = await aCompany(db, 'Alpha Advisers')
  const otherCompany = await aCompany(db, 'Beta Bank')
  const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
  const other = await aUser(db, { company, name: 'Olive Other', permissions: ['read_data'] })
  const requester = await aUser(db, { company, name: 'Rita Requester', permissions: ['read_data'] })
  const betaAdmin = await aUser(db, { company: otherCompany, name: 'Bea Beta', permissions: ['system_administrator'] })
  await anEntity(db, { company: otherCompany, owner: betaAdmin, name: 'Beta Client Ltd' })

  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await a.get('/')
  const post = (what: string, url: string, fields: Record<string, string | string[]>) =>
    expectStatus(what, a.post(url, fields))

  await post('client access on', '/settings/client-access', {
    client_access_enabled: '1',
    allow_access_requests: '1',
    allow_sharing: '1',
    default_access: 'company',
    digest_hour: '7',
  })

  // Clients: made through the form (with the company's default share) except those that must lack a share.
  const newEntity = async (name: string) => {
    const res = await post(`client ${name}`, '/entities', {
      kind: 'organisation',
      name,
      status: 'prospect',
      owner_user_id: admin.id,
      registration_number: 'HRB 1234',
      country_of_incorporation: 'DE',
      notes: 'Seeded',
    })
    return String(res.headers.location).replace('/entities/', '')
  }
  const entity = await newEntity('Main Client Ltd')
  const doomedEntity = await newEntity('Doomed Client Ltd')
  const binnedEntity = await newEntity('Binned Client Ltd')
  const purgedEntity = await newEntity('Purged Client Ltd')

  // Services and their allocation to the client.
  await post('service Audit', '/settings/services', { name: 'Audit', risk_level: 'medium' })
  await post('service Tax', '/settings/services', { name: 'Tax', risk_level: 'high' })
  const services = await db('services').where({ company_id: company.id }).orderBy('name')
  for (const service of services) {
    await post(`allocation ${service.name}`, `/entities/${entity}/services`, { service_id: service.id })
  }
  const allocationOf = async (name: string) =>
    (
      await db('entity_services as es')
        .join('services as s', 's.id', 'es.service_id')
        .where({ 'es.entity_id': entity, 's.name': name })
        .first('es.id')
    ).id as string

  // Documents, uploaded through the upload form.
  const upload = async (entityId: string, filename: string) => {
    const body = multipartBody([['_csrf', a.csrfToken]], {
      field: 'file',
      filename,
      content: PDF_BYTES,
      type: 'application/pdf',
    })
    await expectStatus(
      `upload ${filename}`,
      a.request({
        method: 'POST',
        url: `/entities/${entityId}/documents`,
        payload: body.payload,
        headers: body.headers,
      }),
    )
    return (await db('documents').where({ entity_id: entityId, original_name: filename }).first('id')).id as string
  }
  const document = await upload(entity, 'passport.pdf')
  const doomedDocument = await upload(entity, 'doomed.pdf')
  const binnedDocument = await upload(entity, 'binned.pdf')
  const purgedDocument = await upload(entity, 'purged.pdf')
  await upload(purgedEntity, 'goes-with-its-client.pdf')
  for (const doc of [binnedDocument, purgedDocument]) {
    await post('document to the bin', `/entities/${entity}/documents/${doc}/delete`, {})
  }
  for (const client of [binnedEntity, purgedEntity]) {
    await post('client to the bin', `/entities/${client}/delete`, {})
  }

  // Groups and shares.
  await post('group', '/settings/groups', { name: 'Audit team', members: [other.id, requester.id] })
  await post('doomed group', '/settings/groups', { name: 'Doomed team', members: [other.id] })
  const groupId = async (name: string) =>
    (await db('groups').where({ company_id: company.id, name }).first('id')).id as string
  const group = await groupId('Audit team')
  await post('share with a user', `/entities/${entity}/sharing/add`, { share_with: `user:${other.id}` })
  await post('share with a group', `/entities/${entity}/sharing/add`, { share_with: `group:${group}` })
  const share = (await db('client_shares').where({ entity_id: entity, user_id: other.id }).first('id')).id as string

  // Access requests, asked by a user for clients without a share (made straight, as the form would not).
  const restricted = [
    await anEntity(db, { company, owner: admin, name: 'Restricted One Ltd', kind: 'organisation' }),
    await anEntity(db, { company, owner: admin, name: 'Restricted Two Ltd', kind: 'organisation' }),
  ]
  const r = new Visitor(app)
  await r.login(requester.email, PASSWORD)
  for (const client of restricted) {
    await r.get(`/entities/${client.id}/sharing`)
    await expectStatus(
      'access request',
      r.post(`/entities/${client.id}/access-requests`, { message: 'For the annual review' }),
    )
  }
  const requestOf = async (entityId: string) =>
    (await db('access_requests').where({ entity_id: entityId }).first('id')).id as string

  // A user added through Settings > Users: an invitation, and its email in the outbox.
  await post('new user', '/settings/users', {
    name: 'Ivy Invited',
    email: 'ivy@alpha.test',
    permissions: ['read_data'],
  })
  const invitation = await db('outbox_emails').where({ to_address: 'ivy@alpha.test' }).first()
  const invitationToken = /\/invitations\/([\w-]+)/.exec(invitation.body_text)?.[1]
  if (!invitationToken) throw new Error('seeding: no invitation link in the email')
  await db('outbox_emails')
    .where({ id: invitation.id })
    .update({ status: 'failed', attempts: 8, last_error: 'seeded failure' })
  // A forgotten password of Ivy's: the request from the sign-in page, then the link the job emails.
  const forgetful = new Visitor(app)
  await forgetful.get('/login/forgot')
  await expectStatus('forgotten password', forgetful.post('/login/forgot', { email: 'ivy@alpha.test' }), 303)
  await sendResetLinks(db, 'http://kyc.test')
  const resetEmail = await db('outbox_emails').where({ to_address: 'ivy@alpha.test' }).orderBy('id', 'desc').first()
  const resetToken = /\/login\/reset\/([\w-]+)/.exec(resetEmail.body_text)?.[1]
  if (!resetToken) throw new Error('seeding: no reset link in the email')

  // Sessions: the other user signed in, and a second session of the administrator.
  const o = new Visitor(app)
  await o.login(other.email, PASSWORD)
  const before = new Set((await db('sessions').where({ user_id: admin.id }).select('id')).map((s) => s.id))
  const second = new Visitor(app)
  await second.login(admin.email, PASSWORD)
  const session = (await db('sessions').where({ user_id: admin.id }).select('id')).find((s) => !before.has(s.id))?.id
  if (!session) throw new Error('seeding: no second session')

  // Screening: a list imported through the upload form (the OpenSanctions fixture), credits topped up, a
  // manual search of the client renamed to match an entry, and two one-time searches.
  const listFile = multipartBody([['_csrf', a.csrfToken]], {
    field: 'files',
    filename: 'targets.simple.csv',
    content: readFileSync(path.join(ROOT_DIR, 'test/screening/fixtures/opensanctions-targets.simple.csv')),
    type: 'text/csv',
  })
  await expectStatus(
    'list import',
    a.request({
      method: 'POST',
      url: '/settings/screening-lists',
      payload: listFile.payload,
      headers: listFile.headers,
    }),
  )
  await post('credits', '/settings/screening/credits', { amount: '20', note: 'Seeded' })
  await db('entities').where({ id: entity }).update({ name: 'Rosneft Main Client' })
  const manual = await post('manual search', `/entities/${entity}/searches`, {})
  const oneTime = async (name: string) =>
    String(
      (await post(`one-time search ${name}`, '/one-time-searches/new', { name, kind: 'individual' })).headers.location,
    ).replace('/one-time-searches/', '')

  // Self-service: a request sent to the client from its page; the link's token is read from the outbox.
  const sent = await post('portal request', `/entities/${entity}/portal-requests`, {
    email: 'client@example.test',
    message: 'Please fill this in.',
  })
  const portalEmail = await db('outbox_emails').where({ to_address: 'client@example.test' }).first('body_text')
  const portalToken = /\/p\/([\w-]+)/.exec(portalEmail.body_text)?.[1]
  if (!portalToken) throw new Error('seeding: no portal link in the email')
  const portal = new Visitor(app)
  await portal.get(`/p/${portalToken}`)
  await expectStatus('portal continue', portal.post(`/p/${portalToken}`, {}))
  await portal.get('/portal/documents')
  const certificate = multipartBody([['_csrf', portal.csrfToken]], {
    field: 'file',
    filename: 'certificate.pdf',
    content: PDF_BYTES,
  })
  await expectStatus(
    'portal upload',
    portal.request({
      method: 'POST',
      url: '/portal/documents/certificate_of_incorporation',
      payload: certificate.payload,
      headers: certificate.headers,
    }),
  )
  await portal.get('/portal')

  const ids: DeskIds = {
    entity,
    doomedEntity,
    binnedEntity,
    purgedEntity,
    document,
    doomedDocument,
    binnedDocument,
    purgedDocument,
    service: services[0].id,
    allocation: await allocationOf('Audit'),
    doomedAllocation: await allocationOf('Tax'),
    group,
    doomedGroup: await groupId('Doomed team'),
    share,
    request: await requestOf((restricted[0] as { id: string }).id),
    declinedRequest: await requestOf((restricted[1] as { id: string }).id),
    session,
    email: String(invitation.id),
    invitationToken,
    resetToken,
    search: String(manual.headers.location).split('/').pop() as string,
    oneTimeSearch: await oneTime('Vladimir Putin'),
    doomedOneTimeSearch: await oneTime('Emmanuel Macron'),
    profile: (await db('screening_profiles').where({ company_id: company.id, is_default: true }).first('id')).id,
    portalRequest: String(sent.headers.location).split('/').pop() as string,
    portalToken,
    portalUpload: (await db('portal_uploads').first('id')).id,
  }

  const paramValue = (route: Pick<DeclaredRoute, 'method' | 'url'>, name: string): string => {
    const { method, url } = route
    const post = method === 'POST'
    switch (name) {
      case '*':
        return 'css/app.css'
      case 'key':
        if (url.startsWith('/portal/')) return 'certificate_of_incorporation'
        if (url.startsWith('/settings/portal/')) return 'nature_of_business'
        return 'read_data'
      case 'kind':
        return 'organisation'
      case 'report':
        return 'risk'
      case 'company':
        // The company's single sign-on link (the seeded company has none: the page says so).
        return company.id
      case 'page':
        return '1'
      case 'upload':
        return ids.portalUpload
      case 'request':
        return ids.portalRequest
      case 'list':
        return 'eu_high_risk'
      case 'token':
        if (url.startsWith('/login/reset/')) return ids.resetToken
        return url.startsWith('/p/') ? portalToken : invitationToken
      case 'search':
        if (url.startsWith('/one-time-searches/')) return post ? ids.doomedOneTimeSearch : ids.oneTimeSearch
        return ids.search
      case 'profile':
        return ids.profile
      case 'sessionId':
        return ids.session
      case 'serviceId':
        return ids.service
      case 'documentId':
        return post && url.endsWith('/delete') ? ids.doomedDocument : ids.document
      case 'allocationId':
        return post && url.endsWith('/remove') ? ids.doomedAllocation : ids.allocation
      case 'groupId':
        return post && url.endsWith('/delete') ? ids.doomedGroup : ids.group
      case 'shareId':
        return ids.share
      case 'requestId':
        return url.endsWith('/decline') ? ids.declinedRequest : ids.request
      case 'id':
        if (url.startsWith('/settings/users/:id')) return other.id
        if (url.startsWith('/settings/outgoing-email/:id')) return ids.email
        if (url.startsWith('/recycle-bin/entities/:id/')) {
          return url.endsWith('/restore') ? ids.binnedEntity : ids.purgedEntity
        }
        if (url.startsWith('/recycle-bin/documents/:id/')) {
          return url.endsWith('/restore') ? ids.binnedDocument : ids.purgedDocument
        }
        if (url === '/entities/:id/delete' && post) return ids.doomedEntity
        if (url.startsWith('/entities/:id')) return ids.entity
    }
    // A new route with a parameter nobody mapped fails here, so it cannot slip past the generated tests.
    throw new Error(`no seeded value for :${name} of ${method} ${url}: map it in test/helpers/seeded-desk.ts`)
  }

  await a.get('/')
  return {
    ...ctx,
    company,
    otherCompany,
    a,
    admin,
    other,
    ids,
    portal,
    visitorFor: (route) => (route.access === 'portal' ? portal : a),
    paramValue,
    fill: (route) => fillPath(route.url, (name) => paramValue(route, name)),
  }
}
