import t, { type Test } from 'tap'
import type { Db } from '../../src/db/knex.js'
import { testDatabase } from '../helpers/database.js'
import { anEntity, entityVersion } from '../helpers/entities.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'
import { RemoteVisitor, startServer } from '../helpers/server-process.js'

/** Waits until `check` is true (every 50 ms), or fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Statements of this database waiting for a lock (the test holds one on the client's row). */
async function waitingForLock(db: Db): Promise<number> {
  const { rows } = await db.raw<{ rows: { n: number }[] }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  )
  return rows[0]?.n ?? 0
}

/** A server with a signed-in administrator about to save a client whose row the test has locked. */
async function savingBlocked(t: Test, graceSeconds: number) {
  const { db, url } = await testDatabase(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const client = await anEntity(db, { company, owner: admin, name: 'Brightwater Holdings' })
  const server = await startServer(t, url, { SHUTDOWN_GRACE_SECONDS: String(graceSeconds), LOG_LEVEL: 'info' })
  const v = new RemoteVisitor(server.url)
  await v.login(admin.email, PASSWORD)
  await v.get(`/entities/${client.id}/edit`)
  const lock = await db.transaction()
  t.teardown(() => (lock.isCompleted() ? undefined : lock.rollback()))
  await lock('entities').where({ id: client.id }).forUpdate().first()
  const saving = v
    .post(`/entities/${client.id}`, {
      kind: 'individual',
      name: 'Brightwater Holdings Ltd',
      status: 'prospect',
      owner_user_id: admin.id,
      version: await entityVersion(db, client.id),
    })
    .then(
      (res) => ({ status: res.statusCode, location: res.headers.location }),
      (error: Error) => ({ status: 0, error: error.message }),
    )
  await until('the save to wait for the lock', async () => (await waitingForLock(db)) === 1)
  return { db, server, client, lock, saving }
}

async function updatesAudited(db: Db): Promise<number> {
  const [row] = await db('audit_log').where({ action: 'entity.updated' }).count<{ n: number }[]>('* as n')
  return Number(row?.n)
}

/** Whether a new connection to the server is refused (its listening socket is closed). */
const refused = (url: string) =>
  fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
    () => false,
    () => true,
  )

t.test('SIGTERM stops accepting, lets the request in flight finish and exits 0', async (t) => {
  const { db, server, client, lock, saving } = await savingBlocked(t, 20)
  server.child.kill('SIGTERM')
  await until('new connections to be refused', () => refused(server.url))
  t.pass('new connections are refused while the request in flight is still running')
  t.equal(server.child.exitCode, null, 'the process waits for it')

  await lock.commit()
  t.same(await saving, { status: 303, location: `/entities/${client.id}` }, 'the request in flight is answered')
  t.equal(await server.exited, 0, 'then the process exits cleanly')
  t.equal((await db('entities').where({ id: client.id }).first('name'))?.name, 'Brightwater Holdings Ltd')
  t.equal(await updatesAudited(db), 1, 'and audited')
  t.match(server.output(), /shut down cleanly/)
})

t.test('past the grace period the process exits 1, and the unfinished save is not half-written', async (t) => {
  const { db, server, client, lock, saving } = await savingBlocked(t, 2)
  const started = Date.now()
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 1, 'the process gives up after its grace period')
  const took = Date.now() - started
  t.ok(took >= 1_900 && took < 6_000, `it exited after the 2 s grace period (${took} ms)`)
  const answer = await saving
  t.equal(answer.status, 0, 'the request was never answered: the client knows it was not saved')
  t.match(server.output(), /grace period over/)

  await lock.commit()
  await until('the dropped connection to be gone', async () => (await waitingForLock(db)) === 0)
  t.equal((await db('entities').where({ id: client.id }).first('name'))?.name, 'Brightwater Holdings', 'not saved')
  t.equal(await updatesAudited(db), 0, 'nothing audited')
})
