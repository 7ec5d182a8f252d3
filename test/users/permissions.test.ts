import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

async function setup(t: Test) {
  const ctx = await testApp(t)
  const { company, admin, foreigner } = await twoCompanies(ctx.db, { foreigner: ['read_data'] })
  const manager = await aUser(ctx.db, {
    company,
    name: 'Mia Manager',
    permissions: ['manage_user_accounts', 'edit_entities', 'upload_entity_documents'],
  })
  const clerk = await aUser(ctx.db, { company, name: 'Cal Clerk', permissions: ['read_data'] })
  return { ...ctx, company, admin, manager, clerk, foreigner }
}

const granted = async (db: Awaited<ReturnType<typeof setup>>['db'], userId: string) =>
  (await db('user_permissions').where({ user_id: userId }).orderBy('permission')).map((r) => r.permission)

const htmx = (v: Visitor) => ({ 'hx-request': 'true', 'x-csrf-token': v.csrfToken })

t.test('the permission page shows the 25 permissions in order, with included ones said in words', async (t) => {
  const { app, admin, clerk } = await setup(t)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get('/')
  await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: ['edit_entities', 'read_data'] })
  const page = await v.get(`/settings/users/${clerk.id}/permissions`)
  t.equal(page.statusCode, 200)
  const labels = [...page.body.matchAll(/<label for="perm-(\w+)">/g)].map((m) => m[1])
  t.equal(labels.length, 25)
  t.equal(labels[0], 'system_administrator')
  t.equal(labels[24], 'signout_users')
  const text = visibleText(page.body)
  t.match(text, 'Edit Entities Create entities and edit their details. On')
  t.match(text, 'Read Data View information only. On — included in Edit Entities Switch off Edit Entities first.')
  t.match(text, 'Signout Users End every session of another user at once. Off')
  t.match(page.body, /id="perm-read_data" name="permissions" value="read_data" checked disabled/)
  t.match(
    page.body,
    /<input type="hidden" name="permissions" value="read_data">/,
    'the explicit grant survives a full save',
  )
})

t.test('without JS: the whole form is saved at once, audited with before and after', async (t) => {
  const { app, db, admin, clerk } = await setup(t)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}/permissions`)
  const res = await v.post(`/settings/users/${clerk.id}/permissions`, {
    permissions: ['view_reports', 'signout_users', 'create_one_time_searches'],
  })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, `/settings/users/${clerk.id}/permissions`)
  t.same(await granted(db, clerk.id), ['create_one_time_searches', 'signout_users', 'view_reports'])
  const page = await v.get(String(res.headers.location))
  t.match(visibleText(page.body), 'The permissions of Cal Clerk were saved.')
  t.match(page.body, /role="status" aria-live="polite">\s*<p class="flash flash-success">/)
  const audit = await db('audit_log').where({ action: 'user.permissions_changed', target_id: clerk.id }).first()
  t.same(audit.before, { granted: ['read_data'] })
  t.same(audit.after, { granted: ['create_one_time_searches', 'view_reports', 'signout_users'] })
  t.equal(audit.actor_user_id, admin.id)
})

t.test('with htmx: one toggle changes one permission and answers with the rows that changed', async (t) => {
  const { app, db, admin, clerk } = await setup(t)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}/permissions`)
  await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: [] })
  await v.get(`/settings/users/${clerk.id}/permissions`)

  const on = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}/permissions/permanently_delete_restore_entities`,
    payload: 'on=1',
    headers: { ...htmx(v), 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(on.statusCode, 200)
  t.same(await granted(db, clerk.id), ['permanently_delete_restore_entities'])
  t.match(on.body, /^\s*<tr id="row-permanently_delete_restore_entities">/, 'the toggled row first, swapped in place')
  t.notMatch(on.body, '<html')
  t.match(
    on.body,
    /<template>\s*<tr id="row-delete_entities" hx-swap-oob="true">[\s\S]*On — included in Permanently Delete \/ Restore Entities/,
  )
  t.match(on.body, /<template>\s*<tr id="row-read_data" hx-swap-oob="true">/)
  t.notMatch(on.body, 'row-signout_users', 'unchanged rows are not sent')
  t.match(
    on.body,
    /<div id="status" hx-swap-oob="innerHTML">\s*<p class="flash flash-success">Permanently Delete \/ Restore Entities is now On for Cal Clerk.<\/p>\s*<\/div>/,
  )
  t.match(on.body, /hx-vals='\{"on": "0"\}'/, 'the next change of this checkbox switches it off')

  const included = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}/permissions/delete_entities`,
    payload: 'on=0',
    headers: { ...htmx(v), 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(included.statusCode, 422)
  t.match(
    visibleText(included.body),
    'Not changed: Delete Entities is included in Permanently Delete / Restore Entities: switch that off first.',
  )
  t.same(await granted(db, clerk.id), ['permanently_delete_restore_entities'])

  const off = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}/permissions/permanently_delete_restore_entities`,
    payload: 'on=0',
    headers: { ...htmx(v), 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(off.statusCode, 200)
  t.same(await granted(db, clerk.id), [])
  t.match(
    off.body,
    /<template>\s*<tr id="row-delete_entities" hx-swap-oob="true">[\s\S]*<td id="state-delete_entities">\s*Off/,
  )
})

t.test('nobody grants or revokes a permission they do not hold', async (t) => {
  const { app, db, manager, clerk, admin } = await setup(t)
  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  const page = await v.get(`/settings/users/${clerk.id}/permissions`)
  t.match(page.body, /id="perm-system_administrator" name="permissions" value="system_administrator" disabled/)
  t.match(visibleText(page.body), 'You cannot change this: you do not hold it yourself.')

  const full = await v.post(`/settings/users/${clerk.id}/permissions`, {
    permissions: ['read_data', 'system_administrator'],
  })
  t.equal(full.statusCode, 422)
  t.match(
    full.body,
    '<a href="#permissions">You cannot grant or revoke System Administrator: you do not hold it yourself.</a>',
  )
  t.same(await granted(db, clerk.id), ['read_data'], 'nothing changed')

  const toggle = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}/permissions/signout_users`,
    payload: 'on=1',
    headers: { ...htmx(v), 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(toggle.statusCode, 422)
  t.same(await granted(db, clerk.id), ['read_data'])

  const held = await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: ['read_data', 'edit_entities'] })
  t.equal(held.statusCode, 303, 'a permission the manager holds can be granted')
  t.same(await granted(db, clerk.id), ['edit_entities', 'read_data'])

  await v.get(`/settings/users/${admin.id}/permissions`)
  const onAdmin = await v.post(`/settings/users/${admin.id}/permissions`, { permissions: [] })
  t.equal(onAdmin.statusCode, 422, 'a user manager cannot strip an administrator')
  t.same(await granted(db, admin.id), ['system_administrator'])

  const selfEscalate = await v.post(`/settings/users/${manager.id}/permissions`, {
    permissions: ['manage_user_accounts', 'edit_entities', 'upload_entity_documents', 'view_reports'],
  })
  t.equal(selfEscalate.statusCode, 422, 'not even for oneself')
  t.equal((await db('audit_log').where({ action: 'user.permissions_changed', target_id: manager.id })).length, 0)
})

t.test('crafted requests are refused and change nothing', async (t) => {
  const { app, db, admin, clerk, foreigner } = await setup(t)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}/permissions`)

  const unknown = await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: ['read_data', 'root'] })
  t.equal(unknown.statusCode, 422)
  t.match(visibleText(unknown.body), 'Choose permissions from the list.')
  const unknownToggle = await v.post(`/settings/users/${clerk.id}/permissions/root`, { on: '1' })
  t.equal(unknownToggle.statusCode, 404)

  await v.get('/')
  const foreign = await v.post(`/settings/users/${foreigner.id}/permissions`, { permissions: ['system_administrator'] })
  t.equal(foreign.statusCode, 404, 'another company’s user: same answer as a user that does not exist')
  await v.get('/')
  const foreignToggle = await v.post(`/settings/users/${foreigner.id}/permissions/system_administrator`, { on: '1' })
  t.equal(foreignToggle.statusCode, 404)
  t.same(await granted(db, foreigner.id), ['read_data'])

  const noToken = await v.post(
    `/settings/users/${clerk.id}/permissions`,
    { permissions: ['view_reports'] },
    { csrf: null },
  )
  t.equal(noToken.statusCode, 403)
  const stale = await v.post(
    `/settings/users/${clerk.id}/permissions`,
    { permissions: ['view_reports'] },
    { csrf: 'stale' },
  )
  t.equal(stale.statusCode, 403)
  const staleHtmx = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}/permissions/view_reports`,
    payload: 'on=1',
    headers: { 'hx-request': 'true', 'x-csrf-token': 'stale', 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(staleHtmx.statusCode, 403)
  t.equal(staleHtmx.headers['hx-retarget'], '#status', 'an htmx refusal goes to the status region')
  t.match(staleHtmx.body, 'Your page has expired and nothing was changed.')
  t.same(await granted(db, clerk.id), ['read_data'])
  t.equal((await db('audit_log').where({ action: 'user.permissions_changed' })).length, 0)
})

t.test('a change of permissions applies on the user’s very next request', async (t) => {
  const { app, admin, clerk } = await setup(t)
  const clerkBrowser = new Visitor(app)
  await clerkBrowser.login(clerk.email, PASSWORD)
  t.equal((await clerkBrowser.get('/settings/users')).statusCode, 403)

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}/permissions`)
  await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: ['manage_user_accounts'] })
  t.equal((await clerkBrowser.get('/settings/users')).statusCode, 200, 'granted: open without signing in again')
  await v.get(`/settings/users/${clerk.id}/permissions`)
  await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: [] })
  t.equal((await clerkBrowser.get('/settings/users')).statusCode, 403, 'revoked: closed on the next request')
})

t.test('the last active System Administrator cannot lose the permission, even when two requests race', async (t) => {
  const { app, db, company, admin } = await setup(t)
  const second = await aUser(db, { company, name: 'Sam Second', permissions: ['system_administrator'] })
  const a = new Visitor(app)
  const b = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await b.login(second.email, PASSWORD)
  await a.get(`/settings/users/${second.id}/permissions`)
  await b.get(`/settings/users/${admin.id}/permissions`)

  // Each administrator removes the other at the same moment: exactly one may succeed.
  const [ra, rb] = await Promise.all([
    a.post(`/settings/users/${second.id}/permissions`, { permissions: [] }),
    b.post(`/settings/users/${admin.id}/permissions`, { permissions: [] }),
  ])
  // The loser is refused by the rule (409) or, when the winner committed before the loser's request was even
  // let in, by the guard: it is no longer an administrator (403). Both leave one administrator.
  const statuses = [ra.statusCode, rb.statusCode].sort()
  t.ok(
    JSON.stringify(statuses) === '[303,409]' || JSON.stringify(statuses) === '[303,403]',
    `one succeeds, the other is refused (${statuses})`,
  )
  const admins = await db('user_permissions').where({ company_id: company.id, permission: 'system_administrator' })
  t.equal(admins.length, 1, 'one administrator is left')
  const loser = ra.statusCode === 303 ? rb : ra
  t.match(
    visibleText(loser.body),
    loser.statusCode === 409 ? 'is the last active System Administrator.' : 'You do not have access to this page',
  )

  const survivor = admins[0].user_id === admin.id ? a : b
  const survivorId = admins[0].user_id as string
  await survivor.get(`/settings/users/${survivorId}/permissions`)
  const self = await survivor.post(`/settings/users/${survivorId}/permissions`, { permissions: ['read_data'] })
  t.equal(self.statusCode, 409, 'the last administrator cannot remove it from themselves either')
  // The refused page shows what is stored (all 25 On, 24 of them through System Administrator), not the form
  // as sent, where the included rows were disabled and so sent nothing.
  t.match(visibleText(self.body), 'is the last active System Administrator.')
  t.equal((self.body.match(/name="permissions" value="\w+" checked/g) ?? []).length, 25, 'every row shows On')
  t.match(visibleText(self.body), 'Read Data View information only. On — included in System Administrator')

  // Deactivation races: two admins again, each deactivating the other.
  const third = await aUser(db, { company, name: 'Tia Third', permissions: ['system_administrator'] })
  const c = new Visitor(app)
  await c.login(third.email, PASSWORD)
  await survivor.get('/')
  await c.get('/')
  const [d1, d2] = await Promise.all([
    survivor.post(`/settings/users/${third.id}/deactivate`, {}),
    c.post(`/settings/users/${survivorId}/deactivate`, {}),
  ])
  // One wins (303 back to the user); the other is refused (409), or, when the winner deactivated them
  // before their request was read, is no longer signed in (303 to the sign-in page).
  const [won, lost] = d1.headers.location?.startsWith('/login') || d1.statusCode === 409 ? [d2, d1] : [d1, d2]
  t.equal(won.statusCode, 303)
  t.notOk(won.headers.location?.startsWith('/login'), 'the winner is still signed in')
  t.ok(
    lost.statusCode === 409 || (lost.statusCode === 303 && lost.headers.location?.startsWith('/login')),
    `the other is refused or signed out (${lost.statusCode} ${lost.headers.location ?? ''})`,
  )
  const activeAdmins = await db('users')
    .join('user_permissions as p', 'p.user_id', 'users.id')
    .where({ 'users.company_id': company.id, 'users.active': true, 'p.permission': 'system_administrator' })
  t.equal(activeAdmins.length, 1)
})

t.test('Share all clients with this user is for administrators only, and audited', async (t) => {
  const { app, db, admin, manager, clerk } = await setup(t)
  const m = new Visitor(app)
  await m.login(manager.email, PASSWORD)
  const page = await m.get(`/settings/users/${clerk.id}/permissions`)
  t.notMatch(page.body, 'Share all clients with this user', 'not offered to a user manager')
  const refused = await m.post(`/settings/users/${clerk.id}/share-all`, { share_all: '1' })
  t.equal(refused.statusCode, 403)
  t.equal((await db('users').where({ id: clerk.id }).first()).share_all_clients, false)

  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  const adminPage = await a.get(`/settings/users/${clerk.id}/permissions`)
  t.match(adminPage.body, '<label for="share_all">Share all clients with this user</label>')
  t.equal((await a.post(`/settings/users/${clerk.id}/share-all`, { share_all: '1' })).statusCode, 303)
  t.equal((await db('users').where({ id: clerk.id }).first()).share_all_clients, true)
  const audit = await db('audit_log').where({ action: 'user.share_all_clients_changed', target_id: clerk.id }).first()
  t.same([audit.before, audit.after], [{ share_all_clients: false }, { share_all_clients: true }])
  t.match(
    (await a.get(`/settings/users/${clerk.id}/permissions`)).body,
    /id="share_all" name="share_all" value="1" checked/,
  )
})

t.test('a permission change does not wait for (or deadlock with) other writes of the company', async (t) => {
  const { app, db, company, admin, clerk } = await setup(t)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}/permissions`)
  // Another request is mid-transaction, having written an audit row of the company: its foreign key holds
  // the company row FOR KEY SHARE until it commits.
  const other = await db.transaction()
  t.teardown(() => (other.isCompleted() ? undefined : other.rollback()))
  await other('audit_log').insert({ company_id: company.id, action: 'test.other_write', target_type: 'company' })
  const started = Date.now()
  const res = await v.post(`/settings/users/${clerk.id}/permissions/view_reports`, { on: '1' })
  const took = Date.now() - started
  t.equal(res.statusCode, 303, 'saved')
  t.ok(took < 2_000, `without waiting for the other transaction (${took} ms; the lock timeout is 5 s)`)
  t.same(await granted(db, clerk.id), ['read_data', 'view_reports'])
  await other.commit()
})
