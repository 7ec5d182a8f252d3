import t from 'tap'
import { countActiveUsers } from '../../src/users/queries.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'

t.test('nothing crosses companies', async (t) => {
  const { app, db } = await testApp(t)
  const a = await aCompany(db, 'Alpha Advisers')
  const b = await aCompany(db, 'Beta Bank')
  const alice = await aUser(db, { company: a, name: 'Alice Alpha', permissions: ['system_administrator'] })
  await aUser(db, { company: b, name: 'Bob Beta', permissions: ['system_administrator'] })
  await aUser(db, { company: b, name: 'Bea Beta' })

  t.equal(await countActiveUsers(db, a.id), 1)
  t.equal(await countActiveUsers(db, b.id), 2)

  const v = new Visitor(app)
  await v.login(alice.email, PASSWORD)
  const home = visibleText((await v.get('/')).body)
  t.match(home, 'signed in to Alpha Advisers, which has 1 active user.')
  t.notMatch(home, 'Beta')

  // A session whose company does not match the user's (tampered or stale) is ended, not trusted.
  await db('sessions')
    .where({ user_id: alice.id })
    .update({
      data: db.raw("jsonb_set(data, '{companyId}', to_jsonb(?::text))", [b.id]),
    })
  t.equal((await v.get('/')).statusCode, 303)
})

t.test('every company-owned table has a company_id column', async (t) => {
  const { db } = await testApp(t)
  const tenantTables = ['users', 'user_permissions', 'audit_log']
  for (const table of tenantTables) {
    const col = await db('information_schema.columns').where({ table_name: table, column_name: 'company_id' }).first()
    t.ok(col, `${table}.company_id`)
    t.equal(col.is_nullable, 'NO', `${table}.company_id is required`)
  }
})
