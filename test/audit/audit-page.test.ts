import t from 'tap'
import { listAudit } from '../../src/audit/queries.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, anAuditRow, aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

/** The audit table's text, without the filter form (whose options name every action). */
const entries = (html: string) => visibleText(html).split('Before After Address')[1] ?? ''

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

  const all = visibleText((await v.get('/settings/audit')).body)
  t.match(all, 'user.permissions_changed Cal Clerk {"granted":["read_data"]} {"granted":["view_reports"]}')
  t.match(all, 'Ada Admin auth.login Ada Admin')
  t.notMatch(all, 'Fay Foreign', 'never another company’s rows')

  const byTarget = entries((await v.get(`/settings/audit?target=${clerk.id}`)).body)
  t.match(byTarget, 'user.permissions_changed')
  t.notMatch(byTarget, 'auth.login')
  const byAction = entries((await v.get('/settings/audit?action=auth.login')).body)
  t.notMatch(byAction, 'user.permissions_changed')
  t.match(byAction, 'auth.login')
  t.match(
    visibleText((await v.get(`/settings/audit?actor=${manager.id}`)).body),
    'No audit entry matches these filters.',
  )
  const changed = await db('audit_log').where({ action: 'user.permissions_changed' }).first('created_at')
  const day = (changed.created_at as Date).toISOString().slice(0, 10)
  t.match(visibleText((await v.get(`/settings/audit?from=${day}&to=${day}`)).body), 'user.permissions_changed')
  t.match(visibleText((await v.get('/settings/audit?from=2001-01-01&to=2001-01-02')).body), 'No audit entry matches')
  const garbage = await v.get('/settings/audit?from=24%2F11%2F2026&actor=1%27%20OR%201=1')
  t.equal(garbage.statusCode, 200, 'bad filters are left out of the filter')
  t.match(garbage.body, '<a href="#from">Enter the day as year-month-day, like 2026-11-24</a>', 'and a bad day is said')
  t.match(garbage.body, 'value="24/11/2026"', 'as typed')

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
