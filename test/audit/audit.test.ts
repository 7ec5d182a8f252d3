import t from 'tap'
import { writeAudit } from '../../src/audit/audit.js'
import { testApp } from '../helpers/app.js'
import { aCompany, aUser } from '../helpers/factories.js'

t.test('the audit log is append-only', async (t) => {
  const { db } = await testApp(t)
  const company = await aCompany(db)
  const user = await aUser(db, { company })
  await writeAudit(db, {
    companyId: company.id,
    actorUserId: user.id,
    action: 'test.change',
    targetType: 'user',
    targetId: user.id,
    before: { name: 'A' },
    after: { name: 'B' },
    ip: '127.0.0.1',
  })
  const [row] = await db('audit_log').where({ action: 'test.change' })
  t.same(row.before, { name: 'A' })
  t.same(row.after, { name: 'B' })
  t.equal(row.ip, '127.0.0.1')
  t.ok(row.created_at instanceof Date)

  await t.rejects(db('audit_log').update({ action: 'rewritten' }), /append-only: UPDATE refused/)
  await t.rejects(db('audit_log').delete(), /append-only: DELETE refused/)
  await t.rejects(db.raw('TRUNCATE audit_log'), /append-only: TRUNCATE refused/)
  t.equal((await db('audit_log').where({ action: 'test.change' })).length, 1, 'the row is still there, unchanged')
})

t.test('an audit row written in a transaction that fails is gone with it', async (t) => {
  const { db } = await testApp(t)
  const company = await aCompany(db)
  await t.rejects(
    db.transaction(async (trx) => {
      await writeAudit(trx, { companyId: company.id, actorUserId: null, action: 'test.rolled_back' })
      throw new Error('half-way failure')
    }),
  )
  t.equal((await db('audit_log').where({ action: 'test.rolled_back' })).length, 0)
})
