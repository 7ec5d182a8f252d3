import t from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, deactivate, PASSWORD, reactivate } from '../helpers/factories.js'

/** The invitation link of the newest email to an address, from the outbox. */
async function invitationLink(db: import('knex').Knex, to: string): Promise<string | undefined> {
  const mail = await db('outbox_emails').where({ to_address: to }).orderBy('id', 'desc').first()
  return /http:\/\/kyc\.test(\/invitations\/[\w-]+)/.exec(mail?.body_text ?? '')?.[1]
}

t.test('a user manager cannot take over an invited user who holds permissions they lack', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db, 'Alpha Advisers')
  const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
  const manager = await aUser(db, { company, name: 'Mo Manager', permissions: ['manage_user_accounts'] })

  const adminV = new Visitor(app)
  await adminV.login(admin.email, PASSWORD)
  await adminV.get('/settings/users/new')
  const invited = await adminV.post('/settings/users', {
    name: 'Ivy Invited',
    email: 'ivy@example.test',
    permissions: ['override_risk_assessments', 'permanently_delete_restore_entities', 'view_reports'],
  })
  t.equal(invited.statusCode, 303)
  const ivy = await db('users').where({ email: 'ivy@example.test' }).first()
  const ivysLink = await invitationLink(db, 'ivy@example.test')
  t.ok(ivysLink, 'Ivy was sent an invitation')

  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  const page = await v.get(`/settings/users/${ivy.id}`)
  const text = visibleText(page.body)
  t.match(text, 'Ivy Invited holds permissions you do not hold (Override Risk Assessments')
  t.notMatch(page.body, 'name="email"', 'no editable email field is offered')
  t.notMatch(page.body, '/invitation"', 'no "send a new invitation" is offered')
  t.notMatch(page.body, '/deactivate"', 'no deactivate is offered')

  const edit = await v.post(`/settings/users/${ivy.id}`, { name: 'Ivy Invited', email: 'mo-owns-this@example.test' })
  t.equal(edit.statusCode, 422)
  t.match(visibleText(edit.body), 'only a user who holds all of them can change their account')
  t.equal((await db('users').where({ id: ivy.id }).first()).email, 'ivy@example.test', 'the email is unchanged')

  await v.get(`/settings/users/${ivy.id}`)
  const reinvite = await v.post(`/settings/users/${ivy.id}/invitation`, {})
  t.equal(reinvite.statusCode, 422, 'refused, on the user’s page')
  t.equal(
    (await db('outbox_emails').where({ to_address: 'mo-owns-this@example.test' })).length,
    0,
    'no invitation went to the manager',
  )
  t.equal(await invitationLink(db, 'ivy@example.test'), ivysLink, 'the invitation Ivy holds was not replaced')
  const ivysPage = await v.get(`/settings/users/${ivy.id}`)
  t.match(visibleText(ivysPage.body), 'only a user who holds all of them')
  // The same rule decides what the page offers: no form that would be refused.
  for (const action of ['', '/invitation', '/deactivate', '/reactivate']) {
    t.notMatch(
      ivysPage.body,
      `action="/settings/users/${ivy.id}${action}"`,
      `no form posting to …${action || ' (details)'}`,
    )
  }
  t.notMatch(ivysPage.body, `href="/settings/users/${ivy.id}/deactivate"`, 'no Deactivate link')

  // Reactivation goes through the same rule.
  await deactivate(db, ivy)
  await v.get(`/settings/users/${ivy.id}`)
  t.equal((await v.post(`/settings/users/${ivy.id}/reactivate`, {})).statusCode, 422)
  t.equal((await db('users').where({ id: ivy.id }).first()).active, false, 'still deactivated')
  await reactivate(db, ivy)

  // Permissions too: the manager cannot even switch off what they could not have granted.
  await v.get(`/settings/users/${ivy.id}/permissions`)
  const perms = await v.post(`/settings/users/${ivy.id}/permissions`, { permissions: [] })
  t.equal(perms.statusCode, 422)
  t.equal((await db('user_permissions').where({ user_id: ivy.id })).length, 3)

  t.equal(
    (await db('audit_log').where({ actor_user_id: manager.id, target_id: ivy.id })).length,
    0,
    'nothing was done to Ivy, so nothing was audited',
  )
})

t.test('a user manager still manages users whose permissions they all hold', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const manager = await aUser(db, { company, permissions: ['manage_user_accounts', 'edit_entities'] })
  const clerk = await aUser(db, { company, name: 'Cal Clerk', permissions: ['read_data'] })
  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}`)
  const res = await v.post(`/settings/users/${clerk.id}`, { name: 'Cal Clerk', email: 'cal@example.test' })
  t.equal(res.statusCode, 303, 'read_data is included in Edit Entities, which the manager holds')
  t.equal((await db('users').where({ id: clerk.id }).first()).email, 'cal@example.test')
})

t.test('an email change voids the invitation, is audited, and tells the old address', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db, 'Alpha Advisers')
  const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get('/settings/users/new')
  await v.post('/settings/users', { name: 'Ivy Invited', email: 'ivy@example.test', permissions: ['read_data'] })
  const ivy = await db('users').where({ email: 'ivy@example.test' }).first()
  const oldLink = await invitationLink(db, 'ivy@example.test')

  await v.get(`/settings/users/${ivy.id}`)
  t.equal(
    (await v.post(`/settings/users/${ivy.id}`, { name: 'Ivy Invited', email: 'ivy.new@example.test' })).statusCode,
    303,
  )

  const stranger = new Visitor(app)
  const opened = await stranger.get(String(oldLink))
  t.equal(opened.statusCode, 404, 'the invitation sent to the old address no longer works')
  t.match(visibleText(opened.body), 'This invitation link does not work')

  const notice = await db('outbox_emails')
    .where({ to_address: 'ivy@example.test' })
    .where('subject', 'like', '%email address%was changed%')
    .first()
  t.ok(notice, 'the old address is told')
  t.match(notice.body_text, 'Ada Admin changed the email address of your KYC Desk account at Alpha Advisers')
  t.match(notice.body_text, 'The invitation sent to this address no longer works.')
  t.notMatch(notice.body_text, '/invitations/', 'and it carries no link')

  const audit = await db('audit_log').where({ action: 'user.details_changed', target_id: ivy.id }).first()
  t.same(audit.before, { name: 'Ivy Invited', email: 'ivy@example.test' })
  t.same(audit.after, { name: 'Ivy Invited', email: 'ivy.new@example.test' })

  // A new invitation goes to the new address only.
  await v.get(`/settings/users/${ivy.id}`)
  t.equal((await v.post(`/settings/users/${ivy.id}/invitation`, {})).statusCode, 303)
  t.ok(await invitationLink(db, 'ivy.new@example.test'))
})

t.test('the edit page offers no Deactivate on one’s own account', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const page = await v.get(`/settings/users/${admin.id}`)
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, `/settings/users/${admin.id}/deactivate`)
})
