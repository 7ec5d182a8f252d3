import t from 'tap'
import { listAudit } from '../../src/audit/queries.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, anAuditRow, aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

/** The audit table's text, without the filter form (whose options name every action). */
const entries = (html: string) => visibleText(html).split('What happened Address')[1] ?? ''

t.test('administrators read the audit trail, filtered; nobody can change it', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin, foreigner: foreignAdmin } = await twoCompanies(db)
  const clerk = await aUser(db, { company, name: 'Cal Clerk', permissions: ['read_data'] })
  const manager = await aUser(db, { company, name: 'Mia Manager', permissions: ['manage_user_accounts', 'read_data'] })
  await new Visitor(app).login(foreignAdmin.email, PASSWORD)

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}/permissions`)
  await v.post(`/settings/users/${clerk.id}/permissions`, { permissions: ['view_reports'] })

  const page = await v.get('/settings/audit')
  const all = visibleText(page.body)
  t.match(
    all,
    'Ada Admin changed the permissions of Cal Clerk: Switched on: View Reports; Switched off: Read Data.',
    'a sentence with names and labels',
  )
  t.match(all, 'Stored values of this entry Action user.permissions_changed Concerning user', 'the stored values too')
  t.match(all, 'Before {"granted":["read_data"]} After {"granted":["view_reports"]}')
  t.match(all, 'Ada Admin signed in')
  t.match(page.body, '<option value="user.permissions_changed">Permissions changed</option>', 'actions in words')
  t.notMatch(all, 'Fay Foreign', 'never another company’s rows')

  // Sign-ins of the company (3) and the permission change: how many, as a list says it.
  const count = await db('audit_log').where({ company_id: company.id }).count('* as n')
  t.match(all, `${count[0]?.n} entries.`, 'the list says how many entries')
  t.match(visibleText((await v.get(`/settings/audit?target=${clerk.id}`)).body), '1 entry.')

  const byTarget = entries((await v.get(`/settings/audit?target=${clerk.id}`)).body)
  t.match(byTarget, 'changed the permissions of Cal Clerk')
  t.notMatch(byTarget, 'signed in')
  const byAction = entries((await v.get('/settings/audit?action=auth.login')).body)
  t.notMatch(byAction, 'changed the permissions')
  t.match(byAction, 'Ada Admin signed in')
  t.match(
    visibleText((await v.get(`/settings/audit?actor=${manager.id}`)).body),
    'No audit entry matches these filters.',
  )
  const changed = await db('audit_log').where({ action: 'user.permissions_changed' }).first('created_at')
  const day = (changed.created_at as Date).toISOString().slice(0, 10)
  t.match(
    visibleText((await v.get(`/settings/audit?from=${day}&to=${day}`)).body),
    'changed the permissions of Cal Clerk',
  )
  t.match(visibleText((await v.get('/settings/audit?from=2001-01-01&to=2001-01-02')).body), 'No audit entry matches')
  const garbage = await v.get('/settings/audit?from=24%2F11%2F2026&actor=1%27%20OR%201=1')
  t.equal(garbage.statusCode, 200, 'bad filters are left out of the filter')
  t.match(garbage.body, '<a href="#from">Enter the day as year-month-day, like 2026-11-24</a>', 'and a bad day is said')
  t.match(garbage.body, 'value="24/11/2026"', 'as typed')

  // Beyond a page, which entries of how many; a long trail is counted up to 10,000.
  await db('audit_log').insert(
    Array.from({ length: 60 }, () => ({ company_id: company.id, action: 'auth.login', actor_user_id: clerk.id })),
  )
  const total = Number((await db('audit_log').where({ company_id: company.id }).count('* as n'))[0]?.n)
  t.match(visibleText((await v.get('/settings/audit')).body), `1–50 of ${total} entries.`)
  t.match(visibleText((await v.get('/settings/audit?page=2')).body), `51–${total} of ${total} entries.`)

  const m = new Visitor(app)
  await m.login(manager.email, PASSWORD)
  t.equal((await m.get('/settings/audit')).statusCode, 403, 'administrators only')

  const mutating = app.routeTable.filter(
    (r) => r.url.startsWith('/settings/audit') && r.method !== 'GET' && r.method !== 'HEAD',
  )
  t.same(mutating, [], 'no route may change or delete audit rows')
})

t.test('the audit filter’s days are UTC days, whatever the database session’s time zone', async (t) => {
  const { db } = await testApp(t)
  const company = await aCompany(db, 'Gamma Trust')
  const late = new Date('2026-03-01T23:30:00Z')
  await anAuditRow(db, { company, action: 'auth.login', createdAt: late })
  const filters = { actor: '', target: '', action: '', page: 1 }
  // Kiritimati is UTC+14: in its local time this row is already on 2 March.
  for (const zone of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles']) {
    await db.transaction(async (trx) => {
      await trx.raw(`SET LOCAL TIME ZONE '${zone}'`)
      const on = async (day: string) =>
        (await listAudit(trx, company.id, { ...filters, from: day, to: day })).rows.map((r) => r.action)
      t.same(await on('2026-03-01'), ['auth.login'], `${zone}: on 1 March`)
      t.same(await on('2026-03-02'), [], `${zone}: not on 2 March`)
      t.same(await on('2026-02-28'), [], `${zone}: not on 28 February`)
    })
  }
})

t.test('the audit trail downloads as CSV, filtered as on the page, safe to open in a spreadsheet', async (t) => {
  const { app, db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get('/settings/groups/new')
  await v.post('/settings/groups', { name: '=HYPERLINK("http://evil.test")' })
  const page = await v.get('/settings/audit?action=group.created')
  t.match(page.body, 'href="/settings/audit.csv?action=group.created"', 'the link keeps the filters')
  const csv = await v.get('/settings/audit.csv?action=group.created')
  t.equal(csv.statusCode, 200)
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8')
  t.match(String(csv.headers['content-disposition']), /^attachment; filename="audit-trail-\d{4}-\d\d-\d\d\.csv"$/)
  const lines = csv.body.trim().split('\n')
  t.equal(lines.length, 2, 'a header and the one matching entry')
  t.match(
    lines[0],
    'Time (UTC),Who,Action,What happened,Action key,Concerning (type),Concerning (id),Concerning,Before (stored),After (stored),Address',
  )
  t.match(lines[1], 'Ada Admin,Group created,')
  t.match(lines[1], ',group.created,group,')
  t.match(lines[1], `"'=HYPERLINK(""http://evil.test"")"`, 'a formula is neutralised with an apostrophe')
  t.notMatch(csv.body, 'signed in', 'other actions are filtered out')
  const all = await v.get('/settings/audit.csv')
  t.ok(all.body.trim().split('\n').length >= 3, 'without filters: every entry (sign-ins too)')
})
