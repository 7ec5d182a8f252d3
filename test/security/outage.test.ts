/**
 * The database goes away under load (issue 10, point 3): the app's connection to PostgreSQL runs through a
 * proxy the test cuts, so new connections fail with `connect ENOENT` exactly as when the embedded server's
 * socket is gone. No page is served without its checks, no cookie is cleared, a form posted meanwhile is
 * shown back and can be sent again, the app recovers within 10 seconds of the database, and no
 * acknowledged write is lost or half-done.
 */
import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { DatabaseProxy } from '../helpers/db-proxy.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'

/** A test app whose connection to PostgreSQL runs through a proxy the test can cut. */
async function appThroughProxy(t: Test) {
  let proxy: DatabaseProxy | undefined
  const ctx = await testApp(t, {}, undefined, undefined, {
    via: async (url) => {
      proxy = new DatabaseProxy(url)
      await proxy.start()
      return proxy.proxiedUrl
    },
  })
  const started = proxy as DatabaseProxy
  t.teardown(() => started.close())
  return { ...ctx, proxy: started }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether an answer tells the browser to drop a cookie (the sign-out that an outage used to cause). */
function clearsCookie(setCookie: string | string[] | undefined): boolean {
  return [setCookie ?? []].flat().some((c) => /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c))
}

t.test('a database outage under load: nobody is signed out, nothing is lost, recovery is quick', async (t) => {
  const { app, db, logs, proxy: cut } = await appThroughProxy(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get('/entities/new')
  const sessionCookie = v.cookies.get('kyc.sid')

  const acknowledged: string[] = []
  const statuses: { phase: string; status: number; url: string }[] = []
  let phase = 'before'
  let n = 0
  // A request counts for a phase only when it started and ended in it (one that straddles the cut or the
  // restart may rightly be served).
  const within = (started: string) => (started === phase ? started : `${started}→${phase}`)
  let stopLoad = false
  const worker = async (w: number) => {
    while (!stopLoad) {
      n += 1
      const name = `Load client ${w}-${n}`
      let started = phase
      const create = await v.post('/entities', {
        kind: 'individual',
        name,
        status: 'prospect',
        owner_user_id: admin.id,
      })
      statuses.push({ phase: within(started), status: create.statusCode, url: 'POST /entities' })
      t.notOk(clearsCookie(create.headers['set-cookie']), `${phase}: no cookie is cleared`)
      if (create.statusCode === 303) acknowledged.push(name)
      for (const url of ['/entities', '/settings/users', '/']) {
        started = phase
        const page = await v.get(url)
        statuses.push({ phase: within(started), status: page.statusCode, url })
        t.notOk(clearsCookie(page.headers['set-cookie']), `${phase}: no cookie is cleared`)
      }
    }
  }
  const load = Promise.all([1, 2, 3].map(worker))

  await sleep(1500)
  phase = 'cutting'
  await cut.stop()
  phase = 'outage'
  await sleep(1500)

  // A form posted during the outage: not saved, said so, and kept.
  const during = await v.post('/entities', {
    kind: 'individual',
    name: 'Typed during the outage',
    status: 'prospect',
    owner_user_id: admin.id,
    notes: 'Met at the office on Monday',
  })
  t.equal(during.statusCode, 503)
  const text = visibleText(during.body)
  t.match(text, 'Nothing was saved')
  t.match(text, 'You are still signed in')
  t.match(text, 'Typed during the outage')
  t.match(text, 'Met at the office on Monday')
  t.match(during.body, '<form method="post" action="/entities">')
  t.notOk(clearsCookie(during.headers['set-cookie']))
  const health = await app.inject({ url: '/healthz' })
  t.equal(health.statusCode, 503, 'the readiness check notices')

  phase = 'recovery'
  const restartedAt = Date.now()
  await cut.start()
  let recoveredAfter = Number.POSITIVE_INFINITY
  while (Date.now() - restartedAt < 15_000) {
    if ((await v.get('/settings/users')).statusCode === 200) {
      recoveredAfter = Date.now() - restartedAt
      break
    }
    await sleep(250)
  }
  t.ok(recoveredAfter < 10_000, `serving again ${recoveredAfter} ms after the database came back`)
  phase = 'after'
  await sleep(1000)
  stopLoad = true
  await load

  t.equal(v.cookies.get('kyc.sid'), sessionCookie, 'the same session throughout: nobody was signed out')
  const outage = statuses.filter((s) => s.phase === 'outage')
  t.ok(outage.length > 0, `${outage.length} requests during the outage`)
  t.same(
    outage.filter((s) => s.status !== 503),
    [],
    'during the outage every request got the 503 page: none was served without its checks',
  )
  const errors = logs
    .filter((line) => line.includes('"level":50'))
    .map((line) => {
      const j = JSON.parse(line)
      return `${j.msg}: ${j.err?.message} @ ${j.req?.url ?? j.url ?? ''} ${(j.err?.stack ?? '').split('\n').slice(1, 6).join(' | ')}`
    })
  t.same(errors, [], 'no request failed with an unexpected error (a 500)')
  t.ok(
    statuses.filter((s) => s.phase === 'after').every((s) => s.status === 200 || s.status === 303),
    'after recovery every request succeeds',
  )

  // Sending the kept form again saves it once.
  const keptForm = /<form method="post" action="\/entities">([\s\S]*?)<\/form>/.exec(during.body)?.[1] ?? ''
  const fields = [...keptForm.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
    m[1] as string,
    (m[2] as string)
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  ])
  const resend = await v.request({
    method: 'POST',
    url: '/entities',
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(resend.statusCode, 303, 'the kept form goes through once the database is back')
  t.equal((await db('entities').where({ name: 'Typed during the outage' })).length, 1)

  const stored = new Set((await db('entities').select('name')).map((r) => r.name))
  t.ok(acknowledged.length > 0, `${acknowledged.length} creates were acknowledged`)
  t.same(
    acknowledged.filter((name) => !stored.has(name)),
    [],
    'no acknowledged write was lost',
  )
  const halfDone = await db('entities as e')
    .whereNotExists(db('audit_log as a').whereRaw('a.target_id = e.id::text').where('a.action', 'entity.created'))
    .select('e.name')
  t.same(halfDone, [], 'every stored client has its audit row: nothing half-done')
})

t.test('a database that does not answer: the readiness check says so within its timeout', async (t) => {
  const { app, proxy: stuck } = await appThroughProxy(t)
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  stuck.hang()
  const started = Date.now()
  const res = await app.inject({ url: '/healthz' })
  t.equal(res.statusCode, 503)
  t.same(res.json(), { status: 'unavailable', database: 'not answering' })
  t.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`)
})
