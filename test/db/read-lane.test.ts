import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { createDb, type Db, hotRead, hotReadByShape, readLaneOf } from '../../src/db/knex.js'
import { type LaneStatement, READ_LANE_APPLICATION_NAME } from '../../src/db/read-lane.js'
import { testApp, testConfig, Visitor, visibleText } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aGroup, aShare, aUser, PASSWORD, unshareAll } from '../helpers/factories.js'

/** Every statement `db` sends from now on, on knex's pool (its `query` event) and on its read lane. */
function watchStatements(t: Test, db: Db) {
  const seen = { pool: [] as string[], lane: [] as string[] }
  const onPool = (query: { sql: string }) => seen.pool.push(query.sql)
  const onLane = (statement: LaneStatement) => seen.lane.push(statement.sql)
  db.on('query', onPool)
  readLaneOf(db)?.on('statement', onLane)
  t.teardown(() => {
    db.off('query', onPool)
    readLaneOf(db)?.off('statement', onLane)
  })
  return {
    seen,
    clear() {
      seen.pool.length = 0
      seen.lane.length = 0
    },
  }
}

/** How many read-lane connections are open to `db`'s database. */
async function laneConnections(db: Db): Promise<number> {
  const result = await db.raw(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()',
    [READ_LANE_APPLICATION_NAME],
  )
  return result.rows[0].n
}

t.test('a hot read answers as knex does, and a transaction never leaves its connection', async (t) => {
  const { db } = await testDatabase(t)
  const company = await aCompany(db, 'Lane Ltd')
  const watch = watchStatements(t, db)
  const viaKnex = await db('companies').where({ id: company.id }).first('id', 'name', 'created_at')
  const viaLane = await hotRead(db, db('companies').where({ id: company.id }).first('id', 'name', 'created_at'))
  t.same(viaLane, viaKnex, 'same row, same types (dates as Date)')
  t.same(await hotRead(db, db('companies').where({ id: company.id }).select('name')), [{ name: 'Lane Ltd' }])
  t.equal(await hotRead(db, db('companies').where({ name: 'nobody' }).first('id')), undefined)
  t.equal(watch.seen.lane.length, 3, 'the three hot reads went on the lane')
  t.equal(watch.seen.pool.length, 1, 'and only the plain knex query on the pool')
  watch.clear()

  // Inside a transaction the statement must see the transaction's own uncommitted work.
  await db
    .transaction(async (trx) => {
      await trx('companies').where({ id: company.id }).update({ name: 'Renamed in transaction' })
      const row = await hotRead<{ name: string }>(trx, trx('companies').where({ id: company.id }).first('name'))
      t.equal(row.name, 'Renamed in transaction', 'read on the transaction, not on the lane')
      throw new Error('roll back')
    })
    .catch(() => {})
  t.same(watch.seen.lane, [], 'nothing of the transaction went on the lane')
  const after = await hotRead<{ name: string }>(db, db('companies').where({ id: company.id }).first('name'))
  t.equal(after.name, 'Lane Ltd', 'the rolled-back change was never visible on the lane')
})

t.test(
  'a hot read built once per shape answers as knex does for every set of values, on the lane and off it',
  async (t) => {
    const { db, url } = await testDatabase(t)
    const one = await aCompany(db, 'Shape One Ltd')
    const two = await aCompany(db, 'Shape Two Ltd')
    const watch = watchStatements(t, db)
    let builds = 0
    const byId = (p: { id: string; name?: string }) => {
      builds++
      return db('companies').where({ id: p.id }).first('id', 'name', 'created_at')
    }
    for (const company of [one, two, one]) {
      const viaKnex = await db('companies').where({ id: company.id }).first('id', 'name', 'created_at')
      t.same(await hotReadByShape(db, 'test.company', { id: company.id }, byId), viaKnex, `${company.name}: same row`)
    }
    t.equal(builds, 1, 'knex built the statement once for three reads with different values')
    t.equal(watch.seen.lane.length, 3, 'all three ran on the lane')
    t.equal(await hotReadByShape(db, 'test.company', { id: '00000000-0000-4000-8000-000000000000' }, byId), undefined)

    // A parameter that is changed before it is bound, or written into the SQL, cannot be swapped later: refused.
    const lowered = (p: { name: string }) => db('companies').where({ name: p.name.toLowerCase() }).select('id')
    await t.rejects(hotReadByShape(db, 'test.lowered', { name: 'X' }, lowered), /must be bound as it is/)
    const wrapped = (p: { name: string }) => db('companies').whereILike('name', `%${p.name}%`).select('id')
    await t.rejects(hotReadByShape(db, 'test.wrapped', { name: 'X' }, wrapped), /must be bound as it is/)
    const spliced = (p: { name: string }) => db('companies').whereRaw(`name = '${p.name}'`).select('id')
    await t.rejects(hotReadByShape(db, 'test.spliced', { name: 'X' }, spliced), /must be bound as it is/)

    // Without a lane the same call is an ordinary knex query with the real values.
    const plain = createDb(url, { readLane: false })
    t.teardown(() => plain.destroy())
    t.equal(readLaneOf(plain), undefined)
    const row = await hotReadByShape<{ name: string }, { id: string }>(plain, 'test.company', { id: two.id }, (p) =>
      plain('companies').where({ id: p.id }).first('name'),
    )
    t.equal(row.name, 'Shape Two Ltd')
  },
)

t.test('a failed read does not disturb the reads pipelined beside it', async (t) => {
  const { db } = await testDatabase(t)
  const company = await aCompany(db, 'Beside Ltd')
  const results = await Promise.allSettled([
    hotRead(db, db('companies').where({ id: company.id }).first('name')),
    hotRead(db, db('companies').whereRaw('1 / 0 = 1').first('name')),
    hotRead(db, db('companies').where({ id: company.id }).first('name')),
  ])
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  t.match(String((results[1] as PromiseRejectedResult).reason), /division by zero/)
})

t.test('a lane connection that dies is replaced: signed-in pages keep working', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db, 'Sturdy Ltd')
  const user = await aUser(db, { company, permissions: ['read_data'] })
  await anEntity(db, { company, owner: user, name: 'Resilient Holdings' })
  const visitor = new Visitor(app)
  await visitor.login(user.email, PASSWORD)
  t.equal((await visitor.get('/entities')).statusCode, 200)

  const killLane = () =>
    db.raw(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()',
      [READ_LANE_APPLICATION_NAME],
    )
  // No pause after the kill: the next requests go out before the lane has heard its connections end,
  // and others while they are ending. Each must still be answered.
  const killed = await killLane()
  t.ok(killed.rows.length >= 1, 'the lane had connections to end')
  const during = await Promise.all([visitor.get('/entities'), killLane(), visitor.get('/entities')])
  const pages = [during[0], during[2], await visitor.get('/entities')]
  t.same(
    pages.map((p) => p.statusCode),
    [200, 200, 200],
    'every request is answered, on a new lane connection',
  )
  for (const page of pages) t.match(visibleText(page.body), /Resilient Holdings/)
})

t.test('the client list costs the same statements for 2 clients as for 60 (no query per row)', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db, 'Counted Ltd')
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const reader = await aUser(db, { company, permissions: ['read_data'] })
  await anEntity(db, { company, owner: admin, name: 'First Client' })
  await anEntity(db, { company, owner: reader, name: 'Second Client' })
  const adminBrowser = new Visitor(app)
  await adminBrowser.login(admin.email, PASSWORD)
  await adminBrowser.get('/settings/client-access')
  await adminBrowser.post('/settings/client-access', {
    client_access_enabled: '1',
    default_access: 'company',
    digest_hour: '7',
  })
  const visitor = new Visitor(app)
  await visitor.login(reader.email, PASSWORD)
  await visitor.get('/entities')

  const watch = watchStatements(t, db)
  const measure = async () => {
    watch.clear()
    const page = await visitor.get('/entities')
    t.equal(page.statusCode, 200)
    return {
      statements: [...watch.seen.pool, ...watch.seen.lane],
      onLane: watch.seen.lane.length,
      text: visibleText(page.body),
    }
  }

  const small = await measure()
  // 58 more, shared every which way: whole company, directly, through a group, or not at all.
  const group = await aGroup(db, { company, name: 'Readers', members: [reader] })
  for (let i = 0; i < 58; i++) {
    const client = await anEntity(db, { company, owner: admin, name: `Client ${String(i).padStart(2, '0')}` })
    const share =
      i % 4 === 0
        ? { wholeCompany: true as const }
        : i % 4 === 1
          ? { user: reader }
          : i % 4 === 2
            ? { group }
            : undefined
    await unshareAll(db, client)
    if (share) await aShare(db, { company, client, ...share })
  }
  const large = await measure()

  t.equal(small.statements.length, 2, 'the session read and the page of the list')
  t.equal(small.onLane, 2, 'both on the read lane')
  t.equal(large.statements.length, small.statements.length, 'sixty clients cost no more statements than two')
  t.match(large.text, /Client 00/)
  t.match(large.text, /Client 03 No access/, 'an unshared client is listed by name only')
  t.notMatch(large.text, /Client 01 No access/, 'a directly shared client is open')
  t.notMatch(large.text, /Client 02 No access/, 'a client shared with the reader’s group is open')
})

t.test('DB_READ_LANE=off: no lane, every hot read runs on the pool, and the pages are the same', async (t) => {
  const env = { SESSION_SECRET: 'x'.repeat(32), DATA_DIR: '/nonexistent' }
  t.equal(loadConfig(env).dbTimeouts.readLane, true, 'on unless switched off')
  t.equal(loadConfig({ ...env, DB_READ_LANE: 'on' }).dbTimeouts.readLane, true)
  t.equal(loadConfig({ ...env, DB_READ_LANE: 'off' }).dbTimeouts.readLane, false)
  t.throws(() => loadConfig({ ...env, DB_READ_LANE: 'no' }), /DB_READ_LANE must be "on" or "off"/)

  const config = testConfig()
  const { app, db } = await testApp(t, { dbTimeouts: { ...config.dbTimeouts, readLane: false } })
  t.equal(readLaneOf(db), undefined, 'the database has no read lane')
  const company = await aCompany(db, 'Pooled Ltd')
  const user = await aUser(db, { company, permissions: ['read_data'] })
  await anEntity(db, { company, owner: user, name: 'Pooled Holdings' })
  const visitor = new Visitor(app)
  await visitor.login(user.email, PASSWORD)
  await visitor.get('/entities')

  const watch = watchStatements(t, db)
  const viaPool = await hotRead<{ name: string }>(db, db('companies').where({ id: company.id }).first('name'))
  t.same(viaPool, { name: 'Pooled Ltd' }, 'answers as with the lane')
  t.same(watch.seen.pool, ['select "name" from "companies" where "id" = $1 limit $2'], 'on knex’s pool')
  watch.clear()
  const page = await visitor.get('/entities')
  t.equal(page.statusCode, 200)
  t.match(visibleText(page.body), /Pooled Holdings/)
  t.equal(watch.seen.pool.length, 2, 'the session read and the page of the list, both on the pool')
  t.equal(await laneConnections(db), 0, 'and no lane connection was ever opened')
})

t.test('a database’s destroy ends its lane connections too', async (t) => {
  const { db, url } = await testDatabase(t)
  const other = createDb(url)
  const lane = readLaneOf(other)
  if (!lane) throw new Error('createDb made no read lane')
  await Promise.all([hotRead(other, other('companies').first('id')), hotRead(other, other('companies').first('id'))])
  t.equal(await laneConnections(db), 2, 'two lane connections, opened on first use')
  await other.destroy()
  let open = await laneConnections(db)
  for (let i = 0; i < 50 && open > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    open = await laneConnections(db)
  }
  t.equal(open, 0, 'none left after destroy')
  await t.rejects(lane.rows('SELECT 1', []), /The read lane is closed/, 'and the lane takes no more statements')
})
