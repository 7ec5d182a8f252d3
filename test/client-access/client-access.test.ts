import t, { type Test } from 'tap'
import { runDueDigests } from '../../src/client-access/digest.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aDocument, anEntity, changeEntity, entityVersion, toRecycleBin } from '../helpers/entities.js'
import {
  addToGroup,
  aGroup,
  aShare,
  aUser,
  digestAt,
  grant,
  PASSWORD,
  shareAllClients,
  twoCompanies,
  unshareAll,
} from '../helpers/factories.js'
import { backdateAudit, crashedDigestRuns } from '../helpers/time.js'

async function setup(t: Test) {
  const ctx = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(ctx.db)
  const owner = await aUser(ctx.db, { company, name: 'Owen Owner', permissions: ['edit_entities'] })
  const alice = await aUser(ctx.db, {
    company,
    name: 'Alice Analyst',
    permissions: ['read_data', 'download_entity_documents'],
  })
  const bob = await aUser(ctx.db, { company, name: 'Bob Broker', permissions: ['read_data'] })
  const client = await anEntity(ctx.db, { company, owner, name: 'Secret Holdings Ltd', kind: 'organisation' })
  const open = await anEntity(ctx.db, { company, owner, name: 'Open Bakery Ltd', kind: 'organisation' })
  const v = async (user: { email: string }) => {
    const visitor = new Visitor(ctx.app)
    await visitor.login(user.email, PASSWORD)
    await visitor.get('/')
    return visitor
  }
  const enable = async (settings: Record<string, string> = {}) => {
    const a = await v(admin)
    await a.get('/settings/client-access')
    return a.post('/settings/client-access', {
      client_access_enabled: '1',
      default_access: 'company',
      digest_hour: '7',
      ...settings,
    })
  }
  return { ...ctx, company, other, admin, owner, alice, bob, foreigner, client, open, v, enable }
}

t.test('switching client access on changes nobody’s access; off keeps everything; on again restores it', async (t) => {
  const { db, admin, alice, client, open, v, enable } = await setup(t)
  const aliceBrowser = await v(alice)
  t.equal((await aliceBrowser.get(`/entities/${client.id}`)).statusCode, 200, 'off: everyone with Read Data')

  const res = await enable()
  t.equal(res.statusCode, 303)
  t.equal((await db('client_shares').where({ whole_company: true })).length, 2, 'each client got a whole-company share')
  t.equal((await aliceBrowser.get(`/entities/${client.id}`)).statusCode, 200, 'on: still nobody lost access')
  const audit = await db('audit_log').where({ action: 'settings.client_access_changed' }).first()
  t.equal(audit.before.client_access_enabled, false)
  t.equal(audit.after.whole_company_shares_added, 2)
  t.equal(audit.actor_user_id, admin.id)

  // Restrict one client, then switch off and on again.
  await unshareAll(db, client)
  t.equal((await aliceBrowser.get(`/entities/${client.id}`)).statusCode, 403)
  const a = await v(admin)
  await a.get('/settings/client-access')
  await a.post('/settings/client-access', { default_access: 'company', digest_hour: '7' })
  t.equal((await aliceBrowser.get(`/entities/${client.id}`)).statusCode, 200, 'off again: everyone')
  await enable()
  t.equal((await aliceBrowser.get(`/entities/${client.id}`)).statusCode, 403, 'on again: the restriction is back')
  t.equal((await db('client_shares').where({ entity_id: open.id, whole_company: true })).length, 1)
  t.equal((await db('client_shares').where({ entity_id: client.id })).length, 0, 'nothing was re-added')
})

t.test('each of the six ways to have access, and nothing else', async (t) => {
  const { db, company, admin, owner, alice, bob, client, v, enable } = await setup(t)
  await enable()
  await unshareAll(db, client)
  const status = async (user: { email: string }) => (await (await v(user)).get(`/entities/${client.id}`)).statusCode
  t.equal(await status(alice), 403, 'no path: refused')
  t.equal(await status(admin), 200, '1. administrators always')
  t.equal(await status(owner), 200, '2. the owner')
  await shareAllClients(db, alice)
  t.equal(await status(alice), 200, '3. share all clients with this user')
  await shareAllClients(db, alice, false)
  await aShare(db, { company, client, wholeCompany: true })
  t.equal(await status(bob), 200, '4. the whole company')
  await unshareAll(db, client)
  await aShare(db, { company, client, user: bob })
  t.equal(await status(bob), 200, '5. shared with the user')
  t.equal(await status(alice), 403, 'but not with another user')
  const group = await aGroup(db, { company, name: 'Audit team' })
  await aShare(db, { company, client, group })
  t.equal(await status(alice), 403, 'a group she is not in')
  await addToGroup(db, group, alice)
  t.equal(await status(alice), 200, '6. a group she is a member of')
})

t.test(
  'without access: the list shows the name and “No access” only; every client-scoped route is refused',
  async (t) => {
    const { app, db, alice, client, v, enable } = await setup(t)
    await enable()
    await unshareAll(db, client)
    await changeEntity(db, client, { status: 'serviced_client', notes: 'confidential' })
    const a = await v(alice)
    const list = await a.get('/entities')
    const text = visibleText(list.body)
    t.match(text, 'Secret Holdings Ltd No access Sharing options')
    t.match(list.body, /<tr class="no-access">[\s\S]*?<td colspan="5"><span class="visually-hidden">Not shown/)
    const row = /<tr class="no-access">[\s\S]*?<\/tr>/.exec(list.body)?.[0] ?? ''
    t.notMatch(row, 'Owen Owner', 'no owner')
    t.notMatch(row, 'Serviced client', 'no status')
    t.notMatch(row, /\d{4}-\d{2}-\d{2}/, 'no dates')
    t.match(text, 'Open Bakery Ltd Non-individual Prospect Not assessed Owen Owner')
    t.notMatch(
      visibleText((await a.get('/entities?status=serviced_client')).body),
      'Secret Holdings',
      'a status filter does not reveal it',
    )
    t.notMatch(
      visibleText((await a.get('/entities?sort=changed')).body),
      'Secret Holdings',
      'nor sorting by last change',
    )
    t.match(
      visibleText((await a.get('/entities?q=secret')).body),
      'Secret Holdings Ltd No access',
      'a name search shows the name',
    )

    const refused = await a.get(`/entities/${client.id}`)
    t.equal(refused.statusCode, 403)
    t.match(visibleText(refused.body), 'You do not have access to this client')
    t.match(refused.body, `href="/entities/${client.id}/sharing"`)

    // Routes on live clients; those on the recycle bin (clientFrom) are proved in the recycle-bin test below.
    const routes = app.routeTable.filter(
      (r) =>
        typeof r.access === 'object' &&
        r.access.client &&
        !r.access.clientFrom &&
        !r.access.withoutClientAccess &&
        r.method !== 'HEAD',
    )
    const fill = (url: string) => url.replace(':id', client.id).replace(/:\w+/g, '00000000-0000-0000-0000-000000000000')
    await grant(db, alice, [
      'edit_entities',
      'upload_entity_documents',
      'delete_entities',
      'delete_entity_service_relationships',
      'permanently_delete_documents',
    ])
    for (const route of routes) {
      await a.get('/')
      const res = await a.send(route.method, fill(route.url), {
        name: 'Hacked',
        kind: 'individual',
        status: 'prospect',
      })
      t.equal(res.statusCode, 403, `${route.method} ${route.url}`)
    }
    t.equal((await db('entities').where({ id: client.id }).first()).name, 'Secret Holdings Ltd', 'nothing changed')
    t.equal((await db('audit_log').where({ target_id: client.id })).length, 0)
  },
)

t.test('sharing options: who may share what', async (t) => {
  const { db, admin, owner, alice, bob, client, v, enable } = await setup(t)
  await enable()
  await unshareAll(db, client)

  const o = await v(owner)
  const page = await o.get(`/entities/${client.id}/sharing`)
  t.match(visibleText(page.body), 'Owner: Owen Owner (and all administrators)')
  t.match(page.body, '<option value="company">The whole company</option>')
  t.equal((await o.post(`/entities/${client.id}/sharing/add`, { share_with: `user:${alice.id}` })).statusCode, 303)
  t.match(visibleText((await o.get(`/entities/${client.id}/sharing`)).body), 'User: Alice Analyst')
  t.equal((await (await v(alice)).get(`/entities/${client.id}`)).statusCode, 200)

  // Alice has access, but sharing options are off: she cannot share.
  const a = await v(alice)
  const alicePage = await a.get(`/entities/${client.id}/sharing`)
  t.notMatch(alicePage.body, `action="/entities/${client.id}/sharing/add"`)
  const refused = await a.post(`/entities/${client.id}/sharing/add`, { share_with: `user:${bob.id}` })
  t.equal(refused.statusCode, 422)
  t.match(visibleText(refused.body), 'You cannot share this client.')
  t.equal((await db('client_shares').where({ entity_id: client.id, user_id: bob.id })).length, 0)

  // With sharing allowed she may share with a user, but not with the whole company, nor change the owner.
  await enable({ allow_sharing: '1' })
  await a.get(`/entities/${client.id}/sharing`)
  t.equal((await a.post(`/entities/${client.id}/sharing/add`, { share_with: `user:${bob.id}` })).statusCode, 303)
  await a.get(`/entities/${client.id}/sharing`)
  const whole = await a.post(`/entities/${client.id}/sharing/add`, { share_with: 'company' })
  t.match(visibleText(whole.body), 'Only administrators and the owner share a client with the whole company.')
  const owning = await a.post(`/entities/${client.id}/owner`, { owner: alice.id })
  t.match(visibleText(owning.body), 'Only administrators and the owner change the owner.')

  const ad = await v(admin)
  await ad.get(`/entities/${client.id}/sharing`)
  t.equal((await ad.post(`/entities/${client.id}/owner`, { owner: bob.id })).statusCode, 303)
  t.equal((await db('entities').where({ id: client.id }).first()).owner_user_id, bob.id)
  const bobShare = await db('client_shares').where({ entity_id: client.id, user_id: bob.id }).first()
  await ad.get(`/entities/${client.id}/sharing`)
  t.equal((await ad.post(`/entities/${client.id}/sharing/${bobShare.id}/remove`, {})).statusCode, 303)
  const actions = (await db('audit_log').where({ target_id: client.id }).orderBy('id')).map((r) => r.action)
  t.same(actions, ['sharing.added', 'sharing.added', 'entity.owner_changed', 'sharing.removed'])

  const htmx = await ad.get(`/entities/${client.id}/sharing`, { 'hx-request': 'true' })
  t.match(htmx.body, /^<dialog data-modal aria-labelledby="dialog-title">/, 'with htmx: a native dialog')
  t.notMatch(htmx.body, '<html')
})

t.test(
  'groups: create with members, rename, change members, delete after a confirmation stating the impact',
  async (t) => {
    const { db, company, admin, alice, bob, foreigner, client, v, enable } = await setup(t)
    await enable()
    const a = await v(admin)
    await a.get('/settings/groups/new')
    const empty = await a.post('/settings/groups', { name: '' })
    t.match(empty.body, '<a href="#name">Enter the name of the group</a>')
    t.equal(
      (await a.post('/settings/groups', { name: 'Tax team', members: [alice.id, bob.id, foreigner.id] })).statusCode,
      303,
    )
    const group = await db('groups').where({ company_id: company.id, name: 'Tax team' }).first()
    t.same(
      (await db('group_members').where({ group_id: group.id })).map((m) => m.user_id).sort(),
      [alice.id, bob.id].sort(),
      'another company’s user is not added',
    )
    await a.get('/settings/groups/new')
    t.match(
      visibleText((await a.post('/settings/groups', { name: 'tax TEAM' })).body),
      'There is already a group with this name',
    )

    await a.get(`/settings/groups/${group.id}`)
    await a.post(`/settings/groups/${group.id}`, { name: 'Tax & payroll', members: [alice.id] })
    t.same(
      (await db('group_members').where({ group_id: group.id })).map((m) => m.user_id),
      [alice.id],
    )
    const changed = await db('audit_log').where({ action: 'group.changed', target_id: group.id }).first()
    t.same(changed.after.removed, [bob.id])

    await unshareAll(db, client)
    t.match(
      visibleText((await a.get(`/settings/groups/${group.id}/delete`)).body),
      'Deleting Tax & payroll removes the access it gives. It is shared with no client relationship, so nobody loses access.',
      'no "to 0 client relationships"',
    )
    await a.get(`/entities/${client.id}/sharing`)
    await a.post(`/entities/${client.id}/sharing/add`, { share_with: `group:${group.id}` })
    t.equal((await (await v(alice)).get(`/entities/${client.id}`)).statusCode, 200)

    const confirm = await a.get(`/settings/groups/${group.id}/delete`)
    t.match(
      visibleText(confirm.body),
      'Deleting Tax & payroll removes the access it gives. 1 member loses the access it gave them to 1 client relationship, unless they have access in another way.',
    )
    const dialog = await a.get(`/settings/groups/${group.id}/delete`, { 'hx-request': 'true' })
    t.match(dialog.body, /^<dialog data-modal/)
    t.equal((await a.post(`/settings/groups/${group.id}/delete`, {})).statusCode, 303)
    t.equal((await db('client_shares').where({ entity_id: client.id })).length, 0, 'its shares went with it')
    t.equal((await (await v(alice)).get(`/entities/${client.id}`)).statusCode, 403)
    t.ok(await db('audit_log').where({ action: 'group.deleted', target_id: group.id }).first())
    t.equal((await (await v(alice)).get('/settings/client-access')).statusCode, 403, 'administrators only')
  },
)

t.test(
  'requesting access: what the requester sees, the emails, grant from the link, decline with a reason',
  async (t) => {
    const { db, company, admin, owner, alice, bob, client, v, enable } = await setup(t)
    await enable()
    await unshareAll(db, client)
    const group = await aGroup(db, { company, name: 'Onboarding', members: [bob] })
    await aShare(db, { company, client, group })
    await aShare(db, { company, client, user: admin })

    const a = await v(alice)
    const off = visibleText((await a.get(`/entities/${client.id}/sharing`)).body)
    t.match(off, 'Owner: Owen Owner')
    t.match(off, 'Group: Onboarding')
    t.match(off, 'User: Ada Admin')
    t.notMatch(off, 'Bob Broker', 'never the members of a group')
    t.match(off, 'Requesting access is switched off in your company: ask one of the people listed above')
    await a.get(`/entities/${client.id}/sharing`)
    t.equal((await a.post(`/entities/${client.id}/access-requests`, { message: 'please' })).statusCode, 422)

    await enable({ allow_access_requests: '1' })
    const on = await a.get(`/entities/${client.id}/sharing`)
    t.match(on.body, '<button type="submit">Request access</button>')
    t.equal(
      (await a.post(`/entities/${client.id}/access-requests`, { message: 'I took over the audit' })).statusCode,
      303,
    )
    await a.get(`/entities/${client.id}/sharing`)
    const again = await a.post(`/entities/${client.id}/access-requests`, { message: 'again' })
    t.match(visibleText(again.body), 'already asked')
    t.equal(
      (await db('access_requests').where({ entity_id: client.id })).length,
      1,
      'one pending request per user and client',
    )

    const mails = await db('outbox_emails').where('subject', 'Alice Analyst asks for access to Secret Holdings Ltd')
    t.same(
      mails.map((m) => m.to_address).sort(),
      [admin.email, owner.email].sort(),
      'everyone who may share: the administrator and the owner',
    )
    const link = /http:\/\/kyc\.test(\/access-requests\/[0-9a-f-]+)/.exec(mails[0].body_text)?.[1] as string
    t.match(mails[0].body_text, 'I took over the audit')

    t.equal((await (await v(bob)).get(link)).statusCode, 404, 'someone who may not share cannot open it')
    const o = await v(owner)
    const requestPage = await o.get(link)
    t.match(visibleText(requestPage.body), 'Alice Analyst asked on')
    t.equal((await o.post(`${link}/grant`, {})).statusCode, 303)
    t.equal((await (await v(alice)).get(`/entities/${client.id}`)).statusCode, 200, 'granted: a direct share')
    const outcome = await db('outbox_emails').where({ to_address: alice.email }).first()
    t.equal(outcome.subject, 'Your access request for Secret Holdings Ltd was granted')
    await o.get(link)
    const twice = await o.post(`${link}/grant`, {})
    t.equal(twice.statusCode, 422)
    t.match(twice.body, '<a href="#decision">That request was already granted.</a>')
    t.equal((await db('access_requests').where({ status: 'granted' })).length, 1, 'deciding twice changes nothing')

    // A second request, declined with a reason.
    const b2 = await aUser(db, { company, name: 'Bea Second', permissions: ['read_data'] })
    const b = await v(b2)
    await b.get(`/entities/${client.id}/sharing`)
    await b.post(`/entities/${client.id}/access-requests`, { message: '' })
    const pending = await db('access_requests').where({ requester_id: b2.id }).first()
    const ad = await v(admin)
    t.match(visibleText((await ad.get('/access-requests')).body), 'Secret Holdings Ltd Bea Second')
    await ad.get(`/access-requests/${pending.id}`)
    await ad.post(`/access-requests/${pending.id}/decline`, { reason: 'Not on this engagement' })
    const declined = await db('outbox_emails').where({ to_address: b2.email }).first()
    t.match(declined.body_text, 'Reason: Not on this engagement')
    t.equal((await b.get(`/entities/${client.id}`)).statusCode, 403)
    t.same(
      (await db('audit_log').where({ target_id: client.id }).whereLike('action', 'access.%').orderBy('id')).map(
        (r) => r.action,
      ),
      ['access.requested', 'access.granted', 'access.requested', 'access.declined'],
    )
  },
)

t.test('the daily digest: activity on accessible clients, opt-outs left out, never twice', async (t) => {
  const { db, company, admin, alice, bob, client, open, v, enable } = await setup(t)
  await enable()
  await unshareAll(db, client)
  const ad = await v(admin)
  await ad.get(`/entities/${client.id}/edit`)
  await ad.post(`/entities/${client.id}`, {
    version: await entityVersion(db, client.id),
    kind: 'organisation',
    name: 'Secret Holdings Ltd',
    status: 'one_off_service',
    owner_user_id: (await db('entities').where({ id: client.id }).first()).owner_user_id,
  })
  await ad.get(`/entities/${open.id}/edit`)
  await ad.post(`/entities/${open.id}`, {
    version: await entityVersion(db, open.id),
    kind: 'organisation',
    name: 'Open Bakery Ltd',
    status: 'former_client',
    owner_user_id: (await db('entities').where({ id: open.id }).first()).owner_user_id,
  })
  const b = await v(bob)
  await b.get(`/entities/${open.id}/sharing`)
  await b.post(`/entities/${open.id}/digest`, {})
  t.ok(
    await db('digest_opt_outs').where({ user_id: bob.id, entity_id: open.id }).first(),
    'Bob unticked Receive daily digest',
  )

  await digestAt(db, company, { hour: 7, timeZone: 'Europe/London' })
  const before = new Date('2030-06-01T05:30:00Z') // 06:30 in London (summer time): not yet
  const at = new Date('2030-06-01T06:05:00Z') // 07:05 in London
  // Make the activity fall within the last day of `at`.
  await backdateAudit(db, [client, open], new Date('2030-05-31T12:00:00Z'))
  t.equal(await runDueDigests(db, 'http://kyc.test', before), 0, 'before the hour: nothing')
  const [first, second] = await Promise.all([
    runDueDigests(db, 'http://kyc.test', at),
    runDueDigests(db, 'http://kyc.test', at),
  ])
  t.equal(first + second, 3, 'two processes at once: each user queued once (admin, alice, owner)')
  t.equal(
    await runDueDigests(db, 'http://kyc.test', new Date('2030-06-01T09:00:00Z')),
    0,
    'later the same day: nothing more',
  )
  await crashedDigestRuns(db, new Date('2030-06-01T06:05:00Z'))
  t.equal(
    await runDueDigests(db, 'http://kyc.test', new Date('2030-06-01T07:00:00Z')),
    0,
    'a retried run queues no duplicate',
  )

  const digests = await db('outbox_emails').whereLike('subject', 'Daily digest%')
  const to = (user: { email: string }) => digests.find((d) => d.to_address === user.email)
  t.match(to(admin)?.body_text, 'Secret Holdings Ltd')
  t.match(to(alice)?.body_text, 'Open Bakery Ltd')
  t.notMatch(to(alice)?.body_text, 'Secret Holdings', 'no access: not in her digest')
  t.equal(to(bob), undefined, 'Bob opted out of the only client he has access to with activity')
  t.equal(new Set(digests.map((d) => d.dedupe_key)).size, digests.length)
})

t.test('the recycle bin under client access: only accessible clients are listed, restored or purged', async (t) => {
  const { app, db, company, owner, alice, client, open, v, enable } = await setup(t)
  await enable()
  await unshareAll(db, client)
  await grant(db, alice, ['permanently_delete_restore_entities', 'permanently_delete_documents'])
  // The restricted client and the open one each have a deleted document; then both clients are deleted too,
  // except that a third, open client keeps its deleted document in the bin.
  const kept = await anEntity(db, { company, owner, name: 'Kept Open Ltd', kind: 'organisation' })
  await aShare(db, { company, client: kept, wholeCompany: true })
  const secretKeep = await anEntity(db, { company, owner, name: 'Secret Keeper Ltd', kind: 'organisation' })
  const secretDoc = await aDocument(db, {
    company,
    client: secretKeep,
    uploadedBy: owner,
    name: 'secret.pdf',
    deleted: true,
  })
  const openDoc = await aDocument(db, { company, client: kept, uploadedBy: owner, name: 'open.pdf', deleted: true })
  await toRecycleBin(db, owner, client, open)

  const a = await v(alice)
  const bin = visibleText((await a.get('/recycle-bin')).body)
  t.match(bin, 'Open Bakery Ltd', 'a deleted client with a whole-company share is listed')
  t.match(bin, 'open.pdf')
  t.notMatch(bin, 'Secret Holdings', 'a deleted client without access is not')
  t.notMatch(bin, 'secret.pdf', 'nor a deleted document of a client without access')

  // Every recycle-bin route of the route table, for the client (or document) without access.
  const routes = app.routeTable.filter(
    (r) => typeof r.access === 'object' && r.access.clientFrom && r.method !== 'HEAD',
  )
  t.equal(routes.length, 6, 'restore and purge (page and action) of clients and documents')
  for (const route of routes) {
    const from = typeof route.access === 'object' ? route.access.clientFrom : undefined
    const id = from === 'deleted_client' ? client.id : secretDoc.id
    await a.get('/')
    const res = await a.send(route.method, route.url.replace(':id', id))
    t.equal(res.statusCode, 403, `${route.method} ${route.url}`)
    t.match(visibleText(res.body), 'It is in the recycle bin, where access cannot be requested')
  }
  t.ok((await db('entities').where({ id: client.id }).first()).deleted_at, 'the client is still in the recycle bin')
  t.ok((await db('documents').where({ id: secretDoc.id }).first()).deleted_at, 'so is the document')
  t.equal((await db('audit_log').whereIn('target_id', [client.id, secretKeep.id])).length, 0, 'nothing was done')

  // With access, the same actions go through.
  t.equal((await a.post(`/recycle-bin/entities/${open.id}/restore`, {})).statusCode, 303)
  t.equal((await db('entities').where({ id: open.id }).first()).deleted_at, null)
  t.equal((await a.post(`/recycle-bin/documents/${openDoc.id}/restore`, {})).statusCode, 303)
  t.equal((await db('documents').where({ id: openDoc.id }).first()).deleted_at, null)
  t.equal(
    (await a.post(`/recycle-bin/documents/${openDoc.id}/purge`, {})).statusCode,
    404,
    'a live document is not in the bin',
  )
})

t.test('an over-long request message or decline reason is refused and kept as typed, never cut', async (t) => {
  const { db, company, admin, alice, client, v, enable } = await setup(t)
  await enable({ allow_access_requests: '1' })
  await unshareAll(db, client)
  await aShare(db, { company, client, user: admin })
  const a = await v(alice)
  await a.get(`/entities/${client.id}/sharing`)
  const long = `${'Because the audit needs it. '.repeat(80)}END` // 2,243 characters
  const refused = await a.post(`/entities/${client.id}/access-requests`, { message: long })
  t.equal(refused.statusCode, 422)
  t.match(visibleText(refused.body), 'Enter a message of at most 2,000 characters.')
  t.match(refused.body, /<textarea[^>]*name="message"[^>]*>Because the audit needs it\.[^<]*END<\/textarea>/, 'kept')
  t.equal((await db('access_requests').where({ entity_id: client.id })).length, 0, 'nothing sent')

  await a.post(`/entities/${client.id}/access-requests`, { message: 'Short and clear' })
  const pending = await db('access_requests').where({ requester_id: alice.id }).first()
  const ad = await v(admin)
  await ad.get(`/access-requests/${pending.id}`)
  const cut = await ad.post(`/access-requests/${pending.id}/decline`, { reason: long })
  t.equal(cut.statusCode, 422)
  t.match(visibleText(cut.body), 'Enter a reason of at most 2,000 characters.')
  t.match(cut.body, /<textarea[^>]*name="reason"[^>]*>Because the audit needs it\.[^<]*END<\/textarea>/, 'kept')
  t.equal((await db('access_requests').where({ id: pending.id }).first()).status, 'pending', 'not declined')
  t.equal((await db('outbox_emails').where({ to_address: alice.email })).length, 0, 'and no email')
})

t.test('the member picker finds users to add instead of listing every user, with and without JavaScript', async (t) => {
  const { db, company, admin, v } = await setup(t)
  for (let i = 1; i <= 60; i++) await aUser(db, { company, name: `Staff Member ${String(i).padStart(2, '0')}` })
  const a = await v(admin)
  const empty = await a.get('/settings/groups/new')
  t.equal((empty.body.match(/type="checkbox"/g) ?? []).length, 0, 'no checkbox per user of the company')
  t.match(visibleText(empty.body), 'No members yet. Find users below and tick them to add them.')

  // Without JavaScript: Find sends the form, which comes back with what was typed and what was found.
  const found = await a.post('/settings/groups', { name: 'Night shift', find: 'staff member 0', action: 'find' })
  t.equal(found.statusCode, 200, 'shown again, not saved')
  t.equal((await db('groups').where({ name: 'Night shift' })).length, 0)
  t.match(found.body, 'value="Night shift"', 'the name typed is kept')
  const ids = [...found.body.matchAll(/id="found-([0-9a-f-]{36})" name="members" value="\1"/g)].map(
    (m) => m[1] as string,
  )
  t.equal(ids.length, 9, 'Staff Member 01 to 09')
  t.match(visibleText(found.body), 'Users found for “staff member 0”: tick to add Staff Member 01')

  const many = await a.post('/settings/groups', { name: 'Night shift', find: 'staff', action: 'find' })
  t.equal((many.body.match(/id="found-[0-9a-f]{8}-/g) ?? []).length, 20, 'twenty at a time')
  t.match(visibleText(many.body), 'More users match: type more of the name to narrow the search.')

  // Tick two, find again: the two are members now (ticked above) and no longer among the found.
  const picked = [ids[0] as string, ids[1] as string]
  const again = await a.post('/settings/groups', {
    name: 'Night shift',
    members: picked,
    find: 'staff member 0',
    action: 'find',
  })
  t.match(again.body, new RegExp(`id="member-${picked[0]}" name="members" value="${picked[0]}" checked`))
  t.equal((again.body.match(/id="found-[0-9a-f]{8}-/g) ?? []).length, 7, 'the picked are not offered again')
  const saved = await a.post('/settings/groups', { name: 'Night shift', members: picked })
  t.equal(saved.statusCode, 303)
  const group = await db('groups').where({ name: 'Night shift' }).first()
  t.same((await db('group_members').where({ group_id: group.id })).map((m) => m.user_id).sort(), [...picked].sort())

  // With htmx: the search as one types answers the results alone.
  const partial = await a.get(`/settings/groups/member-search?find=member%2005&members=${picked[0]}`, {
    'hx-request': 'true',
  })
  t.match(partial.body.trim(), /^<div id="member-results">/)
  t.equal((partial.body.match(/id="found-[0-9a-f]{8}-/g) ?? []).length, 1, 'Staff Member 05')
  const direct = await a.get('/settings/groups/member-search?find=member%2005')
  t.match(direct.body, '<h1>Find users</h1>', 'loaded directly: a whole page')
})

t.test(
  'the sharing dialog updates in place: each action answers the dialog again and announces its result',
  async (t) => {
    const { db, admin, owner, alice, bob, client, v, enable } = await setup(t)
    await enable()
    await unshareAll(db, client)
    const a = await v(admin)
    const dialog = await a.get(`/entities/${client.id}/sharing`, { 'hx-request': 'true' })
    t.match(dialog.body, '<h2 id="dialog-title" tabindex="-1" autofocus>', 'focus starts on the heading')
    t.match(
      dialog.body,
      `data-hx-post="/entities/${client.id}/sharing/add" data-hx-target="#modal"`,
      'actions stay in the dialog',
    )
    for (const user of [admin, owner, alice, bob]) {
      t.match(
        dialog.body,
        new RegExp(`<option value="${user.id}"[^>]*>${user.name}</option>`),
        `${user.name} can be made owner`,
      )
    }
    const page = await a.get(`/entities/${client.id}/sharing`)
    t.notMatch(page.body, 'data-hx-post', 'the page (no JavaScript) posts plain forms')
    t.notMatch(page.body, 'data-hx-target="#modal"', 'and its Find does not open a dialog over it')

    const shared = await a.post(
      `/entities/${client.id}/sharing/add`,
      { share_with: `user:${alice.id}` },
      { headers: { 'hx-request': 'true', 'x-csrf-token': a.csrfToken } },
    )
    t.equal(shared.statusCode, 200, 'the dialog again, not a redirect to the page')
    t.match(shared.body, /^<dialog data-modal/)
    t.match(
      shared.body,
      /<div id="status" data-hx-swap-oob="innerHTML">\s*<p class="flash flash-success">Secret Holdings Ltd is now shared with Alice Analyst\.<\/p>\s*<\/div>/,
    )
    t.match(visibleText(shared.body), 'User: Alice Analyst Remove')

    // Nobody left to share with and nothing found: no Share button over an empty list.
    await a.get(`/entities/${client.id}/sharing`)
    await a.post(`/entities/${client.id}/sharing/add`, { share_with: 'company' })
    const nothing = await a.get(`/entities/${client.id}/sharing?find=zzz`, { 'hx-request': 'true' })
    t.notMatch(nothing.body, '<button type="submit">Share</button>')
    t.match(
      visibleText(nothing.body),
      'Nobody else to share with among those found: find a user or group by name first.',
    )
  },
)
