import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aUser, deactivate, PASSWORD, twoCompanies } from '../helpers/factories.js'
import { expireInvitations } from '../helpers/time.js'

async function setup(t: Test) {
  const ctx = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(ctx.db, { foreigner: ['read_data'] })
  const manager = await aUser(ctx.db, {
    company,
    name: 'Mia Manager',
    permissions: ['manage_user_accounts', 'read_data', 'edit_entities'],
  })
  const reader = await aUser(ctx.db, { company, name: 'Rui Reader', permissions: ['read_data'] })
  return { ...ctx, company, other, admin, manager, reader, foreigner }
}

t.test('Manage Users lists the company’s users with search, filters and pagination', async (t) => {
  const { app, db, company, manager, reader } = await setup(t)
  for (let i = 0; i < 30; i++) await aUser(db, { company, name: `Zed Bulk ${String(i).padStart(2, '0')}` })
  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)

  const page1 = visibleText((await v.get('/settings/users')).body)
  t.match(page1, '33 users found')
  t.match(page1, 'Ada Admin')
  t.notMatch(page1, 'Fay Foreign', 'never another company’s users')
  t.match(page1, 'Page 1 of 2')
  t.match(page1, '1–25 of 33 users.')
  const page2 = visibleText((await v.get('/settings/users?page=2')).body)
  t.match(page2, '26–33 of 33 users.')
  t.match(page2, 'Zed Bulk 29')
  t.notMatch(page2, 'Ada Admin')

  t.match(visibleText((await v.get('/settings/users?q=rui')).body), /1 user found .* Rui Reader/)
  t.match(visibleText((await v.get(`/settings/users?q=${encodeURIComponent(reader.email)}`)).body), '1 user found')
  t.match(visibleText((await v.get('/settings/users?q=fay')).body), '0 users found')
  t.match(
    visibleText((await v.get('/settings/users?q=%25')).body),
    '0 users found',
    'a % is a character, not a wildcard',
  )

  const readers = visibleText((await v.get('/settings/users?permission=read_data')).body)
  t.match(readers, '3 users found', 'read_data is On for the admin (included), the manager (included) and the reader')
  t.match(
    visibleText((await v.get('/settings/users?permission=signout_users')).body),
    '1 user found',
    'only the administrator',
  )

  await deactivate(db, reader)
  t.notMatch(visibleText((await v.get('/settings/users')).body), 'Rui Reader')
  t.match(visibleText((await v.get('/settings/users?status=deactivated')).body), /1 user found .* Rui Reader/)

  const partial = await v.get('/settings/users?q=ada', { 'hx-request': 'true', 'hx-target': 'user-results' })
  t.match(partial.body, /^<section id="user-results"/, 'htmx gets only the results region')
  t.notMatch(partial.body, '<form')
})

t.test('a user manager adds a user, who accepts the invitation once and signs in', async (t) => {
  const { app, db, company, manager } = await setup(t)
  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  await v.get('/settings/users/new')

  const bad = await v.post('/settings/users', { name: '', email: 'not-an-email', permissions: ['read_data'] })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, '<a href="#name">Enter the name</a>')
  t.match(bad.body, '<a href="#email">Enter an email address like name@example.com</a>')
  t.match(bad.body, 'value="not-an-email"', 'what was typed is kept')
  t.match(bad.body, /id="new-perm-read_data" name="permissions" value="read_data" checked/)
  const allAtOnce = await v.post('/settings/users', { name: '', email: 'x@example.test', permissions: ['no_such'] })
  t.equal(allAtOnce.statusCode, 422)
  t.match(allAtOnce.body, '<a href="#name">Enter the name</a>', 'every problem of the form at once: the name…')
  t.match(allAtOnce.body, '<a href="#permissions">Choose permissions from the list</a>', '…and the permission')

  const escalate = await v.post('/settings/users', {
    name: 'Eve',
    email: 'eve@example.test',
    permissions: ['system_administrator'],
  })
  t.equal(escalate.statusCode, 422)
  t.match(visibleText(escalate.body), 'You cannot grant or revoke System Administrator: you do not hold it yourself.')
  t.equal((await db('users').where({ email: 'eve@example.test' })).length, 0, 'nobody was created')

  const taken = await v.post('/settings/users', { name: 'Dup', email: manager.email.toUpperCase(), permissions: [] })
  t.equal(taken.statusCode, 422)
  t.match(visibleText(taken.body), 'This email address is already used by another account')

  const ok = await v.post('/settings/users', {
    name: 'Nia New',
    email: 'nia@example.test',
    permissions: ['read_data', 'edit_entities'],
  })
  t.equal(ok.statusCode, 303)
  const created = await db('users').where({ email: 'nia@example.test' }).first()
  t.equal(created.company_id, company.id)
  t.equal(created.password_hash, null)
  t.same(
    (await db('user_permissions').where({ user_id: created.id }).orderBy('permission')).map((r) => r.permission),
    ['edit_entities', 'read_data'],
  )
  const audit = await db('audit_log').where({ action: 'user.created', target_id: created.id }).first()
  t.same(audit.after, { name: 'Nia New', email: 'nia@example.test', granted: ['edit_entities', 'read_data'] })
  t.equal(audit.actor_user_id, manager.id)
  const page = await v.get(String(ok.headers.location))
  t.match(visibleText(page.body), 'Nia New was added. An invitation to set a password was sent to nia@example.test.')

  const [mail] = await db('outbox_emails').where({ to_address: 'nia@example.test' })
  t.match(mail.subject, 'You are invited to KYC Desk (Alpha Advisers)')
  const link = /http:\/\/kyc\.test(\/invitations\/[\w-]+)/.exec(mail.body_text)?.[1] as string
  t.ok(link, 'the email holds the link')
  t.equal(
    (await db('user_invitations').where({ user_id: created.id }).first()).token_hash.length,
    64,
    'only a hash is stored',
  )
  t.notMatch(JSON.stringify(await db('user_invitations')), link.split('/').pop() as string)

  const nia = new Visitor(app)
  t.equal(
    (await nia.post('/login', { email: 'nia@example.test', password: 'anything at all' }, { csrf: null })).statusCode,
    403,
  )
  const form = await nia.get(link)
  t.equal(form.statusCode, 200)
  t.match(visibleText(form.body), 'Welcome, Nia New.')
  const short = await nia.post(link, { password: 'short', password_confirmation: 'short' })
  t.equal(short.statusCode, 422)
  t.match(short.body, '<a href="#password">Enter a password of at least 12 characters</a>')
  const mismatch = await nia.post(link, { password: 'a long enough pass', password_confirmation: 'a different one!!' })
  t.match(mismatch.body, '<a href="#password_confirmation">The two passwords do not match</a>')
  const accepted = await nia.post(link, {
    password: 'nia’s long password',
    password_confirmation: 'nia’s long password',
  })
  t.equal(accepted.statusCode, 303)
  t.equal(accepted.headers.location, '/login?welcome=1')
  t.equal((await nia.get(link)).statusCode, 404, 'the link works once')
  await nia.login('nia@example.test', 'nia’s long password')
  t.equal((await nia.get('/')).statusCode, 200)
  t.ok(await db('audit_log').where({ action: 'user.invitation_accepted', target_id: created.id }).first())
})

t.test('an expired or replaced invitation link does not work', async (t) => {
  const { app, db, manager } = await setup(t)
  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  await v.get('/settings/users/new')
  await v.post('/settings/users', { name: 'Old Link', email: 'old@example.test' })
  const user = await db('users').where({ email: 'old@example.test' }).first()
  const first = /(\/invitations\/[\w-]+)/.exec(
    (await db('outbox_emails').where({ to_address: 'old@example.test' }).first()).body_text,
  )?.[1] as string

  await v.get(`/settings/users/${user.id}`)
  await v.post(`/settings/users/${user.id}/invitation`, {})
  t.equal((await new Visitor(app).get(first)).statusCode, 404, 'replaced by the new invitation')
  const mails = await db('outbox_emails').where({ to_address: 'old@example.test' }).orderBy('id')
  t.equal(mails.length, 2)
  const second = /(\/invitations\/[\w-]+)/.exec(mails[1].body_text)?.[1] as string
  await expireInvitations(db, user, db.raw("now() - interval '1 minute'"))
  const expired = await new Visitor(app).get(second)
  t.equal(expired.statusCode, 404)
  t.match(visibleText(expired.body), 'This invitation link does not work')
})

t.test('editing, deactivating and reactivating a user', async (t) => {
  const { app, db, admin, manager, reader, foreigner } = await setup(t)
  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  await v.get(`/settings/users/${reader.id}`)

  const bad = await v.post(`/settings/users/${reader.id}`, { name: 'Rui R.', email: admin.email })
  t.equal(bad.statusCode, 422)
  t.match(visibleText(bad.body), 'This email address is already used by another account')
  t.match(bad.body, 'value="Rui R."')
  t.equal((await db('users').where({ id: reader.id }).first()).name, 'Rui Reader', 'nothing changed')

  const ok = await v.post(`/settings/users/${reader.id}`, { name: 'Rui Renamed', email: 'rui@example.test' })
  t.equal(ok.statusCode, 303)
  const audit = await db('audit_log').where({ action: 'user.details_changed', target_id: reader.id }).first()
  t.same(audit.before, { name: 'Rui Reader', email: reader.email })
  t.same(audit.after, { name: 'Rui Renamed', email: 'rui@example.test' })

  const readerSession = new Visitor(app)
  await readerSession.login('rui@example.test', PASSWORD)
  const confirm = await v.get(`/settings/users/${reader.id}/deactivate`)
  t.match(visibleText(confirm.body), 'Deactivate Rui Renamed? Rui Renamed will be signed out of every session at once')
  t.equal((await v.post(`/settings/users/${reader.id}/deactivate`, {})).statusCode, 303)
  t.equal((await db('users').where({ id: reader.id }).first()).active, false)
  t.equal((await readerSession.get('/')).statusCode, 303, 'signed out on the next request')
  await v.get(`/settings/users/${reader.id}`)
  t.equal((await v.post(`/settings/users/${reader.id}/reactivate`, {})).statusCode, 303)
  t.equal((await db('users').where({ id: reader.id }).first()).active, true)
  t.same(
    (
      await db('audit_log')
        .where({ target_id: reader.id })
        .whereIn('action', ['user.deactivated', 'user.reactivated'])
        .orderBy('id')
    ).map((r) => [r.action, r.after]),
    [
      ['user.deactivated', { active: false }],
      ['user.reactivated', { active: true }],
    ],
  )

  await v.get('/settings/users')
  t.equal(
    (await v.post(`/settings/users/${manager.id}/deactivate`, {})).statusCode,
    422,
    'nobody deactivates themselves',
  )
  const onAdmin = await v.post(`/settings/users/${admin.id}/deactivate`, {})
  t.equal(onAdmin.statusCode, 422)
  t.match(
    visibleText(onAdmin.body),
    'Ada Admin is a System Administrator: only an administrator can change their account.',
  )
  t.equal((await db('users').where({ id: admin.id }).first()).active, true)

  for (const url of [
    `/settings/users/${foreigner.id}`,
    `/settings/users/${foreigner.id}/permissions`,
    '/settings/users/not-a-uuid',
  ]) {
    t.equal((await v.get(url)).statusCode, 404, `${url}: another company’s user does not exist here`)
  }
  const crafted = await v.post(`/settings/users/${foreigner.id}/deactivate`, {})
  t.equal(crafted.statusCode, 404)
  t.equal((await db('users').where({ id: foreigner.id }).first()).active, true)
  await v.get('/settings/users')
  t.equal(
    (await v.post(`/settings/users/${foreigner.id}`, { name: 'Hacked', email: 'h@example.test' })).statusCode,
    404,
  )
  t.equal((await db('users').where({ id: foreigner.id }).first()).name, 'Fay Foreign')
})

t.test('pages of Manage Users need Manage User Accounts', async (t) => {
  const { app, db, reader, manager } = await setup(t)
  const v = new Visitor(app)
  await v.login(reader.email, PASSWORD)
  for (const url of [
    '/settings/users',
    '/settings/users/new',
    `/settings/users/${manager.id}`,
    `/settings/users/${manager.id}/permissions`,
  ]) {
    const res = await v.get(url)
    t.equal(res.statusCode, 403, url)
    t.match(visibleText(res.body), 'needs the permission Manage User Accounts')
  }
  await v.get('/')
  t.equal((await v.post(`/settings/users/${manager.id}/deactivate`, {})).statusCode, 403)
  t.equal((await db('users').where({ id: manager.id }).first()).active, true)
})
