import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { deleteExpiredRateLimits } from '../../src/http/rate-limit-store.js'
import { FileSystemStorage } from '../../src/storage/document-storage.js'
import { testApp, testConfig } from '../helpers/app.js'

/** A second app over the same database, as a second process behind the load balancer would be. */
async function secondApp(t: Test, db: Parameters<typeof buildApp>[0]['db']) {
  const dir = mkdtempSync(path.join(tmpdir(), 'kyc-docs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await buildApp({ config: testConfig(), db, storage: new FileSystemStorage(dir), logger: false })
  await app.ready()
  t.teardown(() => app.close())
  return app
}

t.test('a rate limit is counted in the database, across every app process', async (t) => {
  const { app: one, db } = await testApp(t)
  const two = await secondApp(t, db)
  // The sign-in page allows 120 views a minute per address: 60 through each process, then both refuse.
  for (let i = 0; i < 60; i++) {
    t.equal((await one.inject({ url: '/login', remoteAddress: '10.1.1.1' })).statusCode, 200)
    t.equal((await two.inject({ url: '/login', remoteAddress: '10.1.1.1' })).statusCode, 200)
  }
  const refused = await two.inject({ url: '/login', remoteAddress: '10.1.1.1' })
  t.equal(refused.statusCode, 429, 'the 121st view is refused, whichever process it reaches')
  t.equal((await one.inject({ url: '/login', remoteAddress: '10.1.1.1' })).statusCode, 429)
  t.ok(Number(refused.headers['retry-after']) > 0, 'with how long to wait')
  t.equal((await one.inject({ url: '/login', remoteAddress: '10.1.1.2' })).statusCode, 200, 'another address')
  const rows = await db('rate_limit_hits').orderBy('key').select('key', 'count')
  t.same(
    rows.map((r) => r.count),
    [122, 1],
    'one counter per route and address',
  )
  t.match(rows[0]?.key, /^GET \/login\|10\.1\.1\.1$/)
})

t.test('racing requests each count once', async (t) => {
  const { app: one, db } = await testApp(t)
  const two = await secondApp(t, db)
  const answers = await Promise.all(
    Array.from({ length: 150 }, (_, i) => (i % 2 ? one : two).inject({ url: '/login', remoteAddress: '10.2.2.2' })),
  )
  const codes = answers.map((a) => a.statusCode)
  t.equal(codes.filter((c) => c === 200).length, 120, 'exactly the limit is let through')
  t.equal(codes.filter((c) => c === 429).length, 30)
  t.same(await db('rate_limit_hits').pluck('count'), [150])
})

t.test('a flood beyond the limit is refused without the database; an ended window starts again', async (t) => {
  const { app, db } = await testApp(t)
  const other = await secondApp(t, db)
  const statuses: number[] = []
  for (let i = 0; i < 200; i++)
    statuses.push((await app.inject({ url: '/login', remoteAddress: '10.3.3.3' })).statusCode)
  t.equal(statuses.filter((s) => s === 200).length, 120)
  t.equal(statuses.filter((s) => s === 429).length, 80)
  t.same(
    await db('rate_limit_hits').pluck('count'),
    [120],
    'the 80 refused hits were counted by the process alone, not written to the database',
  )
  await other.inject({ url: '/login', remoteAddress: '10.3.3.4' })
  // The first address's window ends (moved into the past, as a minute passing would).
  await db('rate_limit_hits')
    .where('key', 'like', '%10.3.3.3')
    .update({ expires_at: db.raw("now() - interval '1 second'") })
  t.equal(await deleteExpiredRateLimits(db), 1, 'the ended window is swept')
  t.same(await db('rate_limit_hits').pluck('count'), [1], 'the live one stays')
  t.equal((await other.inject({ url: '/login', remoteAddress: '10.3.3.3' })).statusCode, 200, 'counting starts again')
  await db('rate_limit_hits').update({ expires_at: db.raw("now() - interval '1 second'") })
  t.equal((await other.inject({ url: '/login', remoteAddress: '10.3.3.4' })).statusCode, 200)
  t.same(
    (await db('rate_limit_hits').orderBy('key').select('count')).map((r) => r.count),
    [1, 1],
    'an ended window not yet swept also starts again at 1',
  )
})
