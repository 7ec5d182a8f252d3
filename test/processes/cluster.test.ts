import t from 'tap'
import { testDatabase } from '../helpers/database.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'
import { haproxyPath, RemoteVisitor, startHaproxy, startServer } from '../helpers/server-process.js'

/**
 * Two server processes (the compiled build, as the container runs it) on one database behind Debian's
 * HAProxy, as `npm run cluster` runs them (issue 18, point 2).
 */
const haproxy = haproxyPath()
if (!haproxy) {
  const line = 'no haproxy: install it with `apt-get install haproxy` (.ci/run does)'
  if (process.env.CI === 'true') t.fail(`TWO-PROCESS TEST FAILED (CI=true): ${line}`)
  else t.pass(`two-process test skipped: ${line}`)
} else {
  const binary = haproxy
  t.test('two processes behind a load balancer', async (t) => {
    const { db, url } = await testDatabase(t)
    const company = await aCompany(db)
    const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
    const alice = await aUser(db, { company, name: 'Alice Analyst', permissions: ['read_data', 'edit_entities'] })
    const env = { TRUST_PROXY: '127.0.0.1' }
    const one = await startServer(t, url, env)
    const two = await startServer(t, url, env)
    const lb = await startHaproxy(t, binary, [one.port, two.port])

    const newClient = (name: string, owner: string) => ({
      kind: 'individual',
      name,
      status: 'prospect',
      owner_user_id: owner,
    })

    await t.test(
      'signed in through one process, signed in through the other; a form of one is taken by the other',
      async (t) => {
        const v = new RemoteVisitor(one.url)
        await v.login(alice.email, PASSWORD)
        v.base = two.url
        const home = await v.get('/')
        t.equal(home.statusCode, 200, 'the other process knows the session')
        t.match(home.body, 'Alice Analyst')
        v.base = one.url
        await v.get('/entities/new')
        v.base = two.url
        const created = await v.post('/entities', newClient('Harbour Lights Ltd', alice.id))
        t.equal(created.statusCode, 303, "the other process accepts the first one's CSRF token")
        t.equal((await db('entities').where({ name: 'Harbour Lights Ltd' })).length, 1)

        t.equal((await v.post('/logout', {})).statusCode, 303, 'signed out through the second')
        v.base = one.url
        const after = await v.get('/')
        t.equal(after.statusCode, 303, 'the first refuses the session at once')
        t.equal(after.headers.location, '/login')
      },
    )

    await t.test("an administrator ending a user's sessions through one is enforced by the other", async (t) => {
      const user = new RemoteVisitor(two.url)
      await user.login(alice.email, PASSWORD)
      t.equal((await user.get('/')).statusCode, 200)
      const boss = new RemoteVisitor(one.url)
      await boss.login(admin.email, PASSWORD)
      await boss.get(`/settings/users/${alice.id}/sessions`)
      t.equal((await boss.post(`/settings/users/${alice.id}/sessions/end`, {})).statusCode, 303)
      const refused = await user.get('/')
      t.equal(refused.statusCode, 303, "the other process refuses Alice's next request")
      t.equal(refused.headers.location, '/login')
    })

    await t.test('a rate limit holds across both processes', async (t) => {
      // The sign-in page allows 120 views a minute per address; round robin sends them to both processes.
      // The address is the client's as HAProxy forwards it (TRUST_PROXY): one of its own for this test.
      const statuses: number[] = []
      for (let i = 0; i < 125; i++) {
        const res = await fetch(`${lb.url}/login`, { headers: { 'x-forwarded-for': '198.51.100.7' } })
        await res.arrayBuffer()
        statuses.push(res.status)
      }
      t.equal(statuses.filter((s) => s === 200).length, 120)
      t.equal(statuses.filter((s) => s === 429).length, 5)
    })

    await t.test(
      'killing one process under load loses no acknowledged write, and the other keeps serving',
      async (t) => {
        const v = new RemoteVisitor(lb.url)
        await v.login(admin.email, PASSWORD)
        await v.get('/entities/new')
        const answers: { name: string; status: number; location?: string; at: number }[] = []
        let killedAt = Number.POSITIVE_INFINITY
        const stopAt = Date.now() + 6_000
        let n = 0
        const worker = async () => {
          while (Date.now() < stopAt) {
            const name = `Load Client ${++n}`
            const res = await v.post('/entities', newClient(name, admin.id)).then(
              (r) => ({ status: r.statusCode, location: r.headers.location as string | undefined }),
              () => ({ status: 0, location: undefined }),
            )
            answers.push({ name, ...res, at: Date.now() })
          }
        }
        const workers = Array.from({ length: 8 }, worker)
        await new Promise((resolve) => setTimeout(resolve, 2_000))
        one.child.kill('SIGKILL')
        killedAt = Date.now()
        await Promise.all(workers)
        t.equal(await one.exited, null, 'the first process was killed')

        const acknowledged = answers.filter((a) => a.status === 303 && a.location?.startsWith('/entities/'))
        const saved = new Map(
          (await db('entities').where('name', 'like', 'Load Client %').select('id', 'name')).map((r) => [r.name, r.id]),
        )
        const lost = acknowledged.filter((a) => a.location !== `/entities/${saved.get(a.name)}`)
        t.same(
          lost,
          [],
          `every acknowledged write is in the database (${acknowledged.length} of ${answers.length} acknowledged)`,
        )
        const other = answers.filter((a) => a.status !== 303)
        t.ok(
          other.every((a) => a.status === 0 || a.status === 502),
          'the rest failed visibly, as lost connections',
        )
        t.ok(other.length <= 8, `at most one request in flight per worker was lost (${other.length})`)
        const afterKill = acknowledged.filter((a) => a.at > killedAt + 1_500)
        t.ok(
          afterKill.length > 20,
          `the other process kept serving (${afterKill.length} writes acknowledged after the kill)`,
        )
        t.equal((await v.get('/entities')).statusCode, 200, 'and still serves pages')
        t.comment(`${answers.length} writes sent, ${acknowledged.length} acknowledged, ${other.length} lost in flight`)
      },
    )
  })
}
