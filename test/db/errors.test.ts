import t from 'tap'
import { databaseTrouble } from '../../src/db/errors.js'
import { testDatabase } from '../helpers/database.js'
import { aCompany } from '../helpers/factories.js'

t.test('a transaction PostgreSQL rolls back to end a deadlock is "busy" (503, nothing saved), not a bug', async (t) => {
  const { db } = await testDatabase(t)
  const a = await aCompany(db, 'Alpha Advisers')
  const b = await aCompany(db, 'Beta Bank')
  const one = await db.transaction()
  const two = await db.transaction()
  t.teardown(async () => {
    for (const trx of [one, two]) if (!trx.isCompleted()) await trx.rollback()
  })
  // Each locks one row, then waits for the other's: PostgreSQL ends one of them.
  await one('companies').where({ id: a.id }).forUpdate().first()
  await two('companies').where({ id: b.id }).forUpdate().first()
  const outcomes = await Promise.allSettled([
    one('companies').where({ id: b.id }).forUpdate().first(),
    two('companies').where({ id: a.id }).forUpdate().first(),
  ])
  const failed = outcomes.filter((o) => o.status === 'rejected')
  t.equal(failed.length, 1, 'one of the two was chosen to roll back')
  const error = (failed[0] as PromiseRejectedResult).reason
  t.equal(error.code, '40P01', 'deadlock_detected')
  t.equal(databaseTrouble(error), 'busy')
  t.equal(databaseTrouble(Object.assign(new Error('could not serialize access'), { code: '40001' })), 'busy')
  t.equal(
    databaseTrouble(Object.assign(new Error('unique violation'), { code: '23505' })),
    undefined,
    'a bug stays a bug',
  )
})
