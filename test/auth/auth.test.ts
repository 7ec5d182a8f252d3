import t from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aSession, aUser, deactivate, endSessions, PASSWORD } from '../helpers/factories.js'
import { ageSessions } from '../helpers/time.js'

t.test('signing in and out', async (t) => {
  const { app, db, logs } = await testApp(t)
  const company = await aCompany(db, 'Acme Audit')
  const user = await aUser(db, { company, name: 'Ines Investigator', permissions: ['read_data'] })

  t.test('the login page is a labelled form with a CSRF token', async (t) => {
    const res = await new Visitor(app).get('/login')
    t.equal(res.statusCode, 200)
    t.match(res.body, /<label for="email">Email address<\/label>/)
    t.match(res.body, /<label for="password">Password<\/label>/)
    t.match(res.body, /name="_csrf" value="[^"]+"/)
  })

  t.test('a wrong password and an unknown address get the same generic message, and keep the email', async (t) => {
    const v = new Visitor(app)
    await v.get('/login')
    const wrong = await v.post('/login', { email: user.email, password: 'not it' })
    t.equal(wrong.statusCode, 401)
    t.match(visibleText(wrong.body), 'There is a problem Email or password is incorrect')
    t.match(wrong.body, `value="${user.email}"`)
    t.notMatch(wrong.body, 'not it', 'the password is never sent back')
    const unknown = await v.post('/login', { email: 'nobody@example.test', password: 'whatever' })
    t.equal(unknown.statusCode, 401)
    t.match(visibleText(unknown.body), 'Email or password is incorrect')
  })

  t.test('missing fields are listed in an error summary linked to the fields', async (t) => {
    const v = new Visitor(app)
    await v.get('/login')
    const res = await v.post('/login', { email: '', password: '' })
    t.equal(res.statusCode, 400)
    t.match(res.body, '<a href="#email">Enter your email address</a>')
    t.match(res.body, '<a href="#password">Enter your password</a>')
    t.match(res.body, 'aria-invalid="true"')
  })

  t.test('a good login rotates the session id, shows the dashboard, and is audited', async (t) => {
    const v = new Visitor(app)
    await v.get('/login')
    const before = v.cookies.get('kyc.sid')
    t.notOk(before, 'no session before login: the form keeps its CSRF secret in a signed cookie')
    const res = await v.post('/login', { email: user.email.toUpperCase(), password: PASSWORD })
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, '/')
    const after = v.cookies.get('kyc.sid')
    t.ok(after)
    t.not(after, before, 'session id changed at login')
    const cookie = String(res.headers['set-cookie'])
    t.match(cookie, /HttpOnly/)
    t.match(cookie, /SameSite=Lax/)
    t.notMatch(cookie, /Secure/, 'not Secure outside production')
    const home = await v.get('/')
    t.equal(home.statusCode, 200)
    t.match(visibleText(home.body), 'Welcome, Ines Investigator. You are signed in to Acme Audit')
    const audit = await db('audit_log').where({ actor_user_id: user.id, action: 'auth.login' })
    t.equal(audit.length, 1)
    t.equal(audit[0].company_id, company.id)
  })

  t.test('the old session id is worthless after login (no fixation)', async (t) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    const fixated = v.cookies.get('kyc.sid') as string
    await v.get('/')
    await v.post('/login', { email: user.email, password: PASSWORD })
    t.not(v.cookies.get('kyc.sid'), fixated, 'signing in again gives a new session id')
    const attacker = new Visitor(app)
    attacker.cookies.set('kyc.sid', fixated)
    const res = await attacker.get('/')
    t.equal(res.statusCode, 303)
  })

  t.test('signing out ends the session and is audited', async (t) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    await v.get('/')
    const sid = v.cookies.get('kyc.sid')
    const res = await v.post('/logout', {})
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, '/login?signed_out=1')
    const page = await v.get('/login?signed_out=1')
    t.match(visibleText(page.body), 'You have signed out.')
    const replay = new Visitor(app)
    replay.cookies.set('kyc.sid', sid as string)
    t.equal((await replay.get('/')).statusCode, 303, 'the old cookie no longer works')
    t.equal((await db('audit_log').where({ actor_user_id: user.id, action: 'auth.logout' })).length, 1)
  })

  t.test('failed logins of a known account are audited, without the password', async (t) => {
    const rows = await db('audit_log').where({ target_id: user.id, action: 'auth.login_failed' })
    t.ok(rows.length >= 1)
    t.notMatch(JSON.stringify(rows), 'not it')
  })

  t.test('no password, session id or CSRF token ever reaches the log', async (t) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    await v.get('/')
    await v.post('/logout', {})
    const all = logs.join('\n')
    t.ok(all.length > 0, 'the app did log requests')
    t.notMatch(all, PASSWORD)
    t.notMatch(all, 'not it')
    for (const value of v.cookies.values()) t.notMatch(all, value)
    t.notMatch(all, /_csrf=/)
  })

  t.test('a deactivated user is signed out on the next request', async (t) => {
    const other = await aUser(db, { company })
    const v = new Visitor(app)
    await v.login(other.email, PASSWORD)
    t.equal((await v.get('/')).statusCode, 200)
    await deactivate(db, other)
    const res = await v.get('/')
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, '/login')
    t.equal(Number((await db('sessions').where({ user_id: other.id }).count('* as n'))[0]?.n), 0, 'session deleted')
    await v.get('/login')
    const again = await v.post('/login', { email: other.email, password: PASSWORD })
    t.equal(again.statusCode, 401, 'and cannot sign in again')
  })

  t.test('a user whose sessions were ended is signed out on the next request', async (t) => {
    const other = await aUser(db, { company })
    const v = new Visitor(app)
    await v.login(other.email, PASSWORD)
    await endSessions(db, other)
    t.equal((await v.get('/')).statusCode, 303)
  })
})

t.test('sessions time out when idle and after an absolute limit', async (t) => {
  const { app, db } = await testApp(t, { idleTimeoutMinutes: 30, absoluteTimeoutHours: 12 })
  const company = await aCompany(db)
  const user = await aUser(db, { company })

  const idle = new Visitor(app)
  await idle.login(user.email, PASSWORD)
  t.equal((await idle.get('/')).statusCode, 200)
  await ageSessions(db, user, { lastSeenAt: db.raw("now() - interval '31 minutes'") })
  t.equal((await idle.get('/')).statusCode, 303, 'idle for 31 minutes: signed out')

  const busy = new Visitor(app)
  await busy.login(user.email, PASSWORD)
  await ageSessions(db, user, { createdAt: db.raw("now() - interval '13 hours'") })
  t.equal((await busy.get('/')).statusCode, 303, 'signed in 13 hours ago: signed out even when active')
})

t.test('login is throttled per account and per address', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const user = await aUser(db, { company })

  const v = new Visitor(app)
  await v.get('/login')
  for (let i = 0; i < 10; i++) await v.post('/login', { email: user.email, password: `wrong ${i}` })
  const refused = await v.post('/login', { email: user.email, password: PASSWORD })
  t.equal(refused.statusCode, 429, 'the right password is refused after 10 failures in 15 minutes')
  t.match(visibleText(refused.body), 'Too many failed attempts')
  t.equal((await db('sessions').whereNotNull('user_id')).length, 0, 'no session was created')

  // The per-address limit (fastify rate limit, 30 a minute) answers before any password is checked.
  let status = 0
  for (let i = 0; i < 30 && status !== 429; i++) {
    status = (await v.post('/login', { email: `someone${i}@example.test`, password: 'x' })).statusCode
  }
  t.equal(status, 429, 'the address is rate-limited')
})

t.test('the periodic sweep deletes only sessions past their timeouts', async (t) => {
  const { db } = await testApp(t)
  const { deleteExpiredSessions, deleteSessionsOfUser } = await import('../../src/identity/session-store.js')
  const company = await aCompany(db)
  const user = await aUser(db, { company })
  await aSession(db, { sid: 'fresh', user })
  await aSession(db, { sid: 'idle', lastSeenAt: db.raw("now() - interval '2 hours'") })
  await aSession(db, { sid: 'old', createdAt: db.raw("now() - interval '2 days'") })
  t.equal(await deleteExpiredSessions(db, { idleMinutes: 30, absoluteHours: 12 }), 2)
  t.same(
    (await db('sessions').select('sid')).map((r) => r.sid),
    ['fresh'],
  )
  t.equal(await deleteSessionsOfUser(db, user.id), 1)
})
