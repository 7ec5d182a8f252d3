/**
 * One slow statement must not stall unrelated pages (issue 10, point 4). A transaction holds a lock on
 * client_shares while a user restricted by client access loads the client list (whose access rule reads
 * that table); an administrator's Sessions and Users pages must still answer at once. Before the fix they
 * took 4.5 s, queued on the read lane behind the blocked list statement, with no timeout anywhere.
 */
import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, clientAccessOn, PASSWORD } from '../helpers/factories.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function setup(t: Test, lockMs: number, readLane = true) {
  const ctx = await testApp(t, {
    dbTimeouts: { statementMs: 15_000, lockMs, readLaneMs: 500, acquireMs: 10_000, readLane },
  })
  const { app, db } = ctx
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const reader = await aUser(db, { company, permissions: ['read_data'] })
  await clientAccessOn(db, company)
  for (let i = 0; i < 3; i++) await anEntity(db, { company, owner: admin, name: `Client ${i}` })
  const restricted = new Visitor(app)
  await restricted.login(reader.email, PASSWORD)
  const administrator = new Visitor(app)
  await administrator.login(admin.email, PASSWORD)
  return { ...ctx, restricted, administrator }
}

// With the read lane (the default) and without it (DB_READ_LANE=off): the lane's own short timeout must
// keep a blocked statement from holding up the pages queued behind it on the lane.
for (const readLane of [true, false]) {
  t.test(
    `a lock held on client_shares does not hold up unrelated pages (read lane ${readLane ? 'on' : 'off'})`,
    async (t) => {
      const { db, restricted, administrator } = await setup(t, 5_000, readLane)
      const holder = await db.transaction()
      await holder.raw('LOCK TABLE client_shares IN ACCESS EXCLUSIVE MODE')
      const listStarted = Date.now()
      const list = restricted.get('/entities')
      await sleep(100)
      for (const url of ['/settings/sessions', '/settings/users', '/']) {
        const started = Date.now()
        const res = await administrator.get(url)
        const took = Date.now() - started
        t.equal(res.statusCode, 200, url)
        t.ok(took < 1500, `${url} answered in ${took} ms while the list waits on the lock`)
      }
      await sleep(2500)
      await holder.commit()
      const res = await list
      t.equal(res.statusCode, 200, 'the list itself answers once the lock is gone')
      t.ok(Date.now() - listStarted >= 2500, 'it did wait for the lock')
    },
  )
}

t.test('a lock held longer than the lock timeout: the waiting page answers 503, not never', async (t) => {
  const { db, restricted } = await setup(t, 1_000)
  const holder = await db.transaction()
  await holder.raw('LOCK TABLE client_shares IN ACCESS EXCLUSIVE MODE')
  const started = Date.now()
  const res = await restricted.get('/entities')
  const took = Date.now() - started
  await holder.rollback()
  t.equal(res.statusCode, 503)
  t.match(visibleText(res.body), 'KYC Desk is busy')
  t.ok(took < 4000, `refused after ${took} ms, not after the lock was released`)
  t.equal((await restricted.get('/entities')).statusCode, 200, 'and the next try works')
})
