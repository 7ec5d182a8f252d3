/**
 * Names and text direction (issue 12, defect 5): a typed name with a text-direction control character is
 * refused with a message, in every form that takes a name; a right-to-left name is isolated wherever it
 * appears inside text (<bdi> in pages, FSI…PDI in plain-text emails and status messages), so neither it
 * nor an old name holding an override can reorder the sentence around it.
 */
import t from 'tap'
import { BIDI_CONTROL_MESSAGE, isolate } from '../../src/forms/names.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

const EVIL = 'Zoë \u202Eevil'
const HEBREW = 'חברת אלף בע״מ'

t.test(
  'isolate: right-to-left text and direction controls are wrapped in FSI…PDI, other names left alone',
  async (t) => {
    t.equal(isolate('Ada Admin'), 'Ada Admin')
    t.equal(isolate('Zoë Ångström-Łukasz'), 'Zoë Ångström-Łukasz')
    t.equal(isolate(HEBREW), `\u2068${HEBREW}\u2069`)
    t.equal(isolate('شركة النور'), '\u2068شركة النور\u2069')
    t.equal(isolate(EVIL), `\u2068${EVIL}\u2069`)
  },
)

t.test('every form that takes a name refuses direction controls, says why, and keeps what was typed', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const forms: [string, string, Record<string, string | string[]>][] = [
    ['/settings/users/new', '/settings/users', { name: EVIL, email: 'zoe@example.test', permissions: ['read_data'] }],
    ['/entities/new', '/entities', { kind: 'organisation', name: EVIL, owner_user_id: admin.id, status: 'prospect' }],
    ['/settings/groups/new', '/settings/groups', { name: EVIL }],
    ['/settings/services', '/settings/services', { name: EVIL, risk_level: 'low' }],
  ]
  for (const [page, action, body] of forms) {
    await v.get(page)
    const res = await v.post(action, body)
    t.equal(res.statusCode, 422, `${action}: refused`)
    t.match(visibleText(res.body), BIDI_CONTROL_MESSAGE, `${action}: says why`)
    t.match(res.body, '<a href="#name">', `${action}: the summary links to the field`)
    t.match(res.body, 'value="Zoë \u202Eevil"', `${action}: what was typed is kept`)
  }
  t.equal((await db('users').where({ name: EVIL })).length, 0)
  t.equal((await db('entities').where({ name: EVIL })).length, 0)
  t.equal((await db('groups').where({ name: EVIL })).length, 0)
  t.equal((await db('services').where({ name: EVIL })).length, 0)

  // Right-to-left letters themselves are welcome.
  await v.get('/entities/new')
  const ok = await v.post('/entities', {
    kind: 'organisation',
    name: HEBREW,
    owner_user_id: admin.id,
    status: 'prospect',
  })
  t.equal(ok.statusCode, 303)
  t.equal((await db('entities').where({ company_id: company.id, name: HEBREW })).length, 1)
  const after = await v.get(String(ok.headers.location))
  t.match(after.body, `\u2068${HEBREW}\u2069 was created.`, 'the status message isolates the name')
  t.match(after.body, `<h1><bdi>${HEBREW}</bdi></h1>`, 'and the page heading')
})

t.test('names already stored are isolated in lists, headings and emails', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  // As an older version could store them: with an override, and right-to-left.
  const evil = await aUser(db, { company, name: EVIL, permissions: ['read_data'] })
  await anEntity(db, { company, owner: evil, name: HEBREW })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)

  const users = await v.get('/settings/users')
  t.match(users.body, `<bdi>${EVIL}</bdi>`, 'the user list isolates the name')
  const clients = await v.get('/entities')
  t.match(clients.body, `<bdi>${HEBREW}</bdi>`, 'the client list isolates the client name')
  t.match(clients.body, `<bdi>${EVIL}</bdi>`, 'and the owner name')
  t.notMatch(users.body, /[^>]Zoë \u202Eevil[^<]/, 'never bare inside text')

  // A new user invited by the older-named administrator gets an email with both names isolated.
  await db('users')
    .where({ id: admin.id })
    .update({ name: `Ada ${HEBREW}` })
  await v.get('/settings/users/new')
  const created = await v.post('/settings/users', {
    name: 'Noa Newcomer',
    email: 'noa@example.test',
    permissions: ['read_data'],
  })
  t.equal(created.statusCode, 303)
  const mail = await db('outbox_emails').where({ to_address: 'noa@example.test' }).first()
  t.match(mail.body_text, `\u2068Ada ${HEBREW}\u2069 has given you an account`, 'the inviter’s name is isolated')
  t.match(mail.body_text, 'Hello Noa Newcomer,', 'a left-to-right name is left as it is')
})
