import t from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, failedLogins, PASSWORD } from '../helpers/factories.js'
import { earlierLoginAttempts } from '../helpers/time.js'

const OTHER_PASSWORD = 'another long passphrase here'

/** Posts the sign-in form from an address. */
async function signIn(v: Visitor, email: string, password: string, remoteAddress = '127.0.0.1') {
  await v.request({ method: 'GET', url: '/login', remoteAddress })
  const params = new URLSearchParams({ _csrf: v.csrfToken, email, password })
  return v.request({
    method: 'POST',
    url: '/login',
    remoteAddress,
    payload: params.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
}

t.test('an email address is unique within a company, not across companies', async (t) => {
  const { app, db } = await testApp(t)
  const alpha = await aCompany(db, 'Alpha Advisers')
  const beta = await aCompany(db, 'Beta Bank')
  await aUser(db, { company: alpha, email: 'admin@alpha.test', permissions: ['system_administrator'] })
  const betaAdmin = await aUser(db, { company: beta, permissions: ['system_administrator'] })

  const v = new Visitor(app)
  await v.login(betaAdmin.email, PASSWORD)
  const answers: string[] = []
  for (const email of ['ADMIN@alpha.test', 'unused@alpha.test']) {
    await v.get('/settings/users/new')
    const res = await v.post('/settings/users', { name: 'Nia New', email, permissions: ['read_data'] })
    t.equal(res.statusCode, 303, `${email}: added, whether or not another company knows the address`)
    answers.push(visibleText((await v.get(String(res.headers.location))).body).replace(email, 'EMAIL'))
  }
  t.equal(answers[0], answers[1], 'the two answers cannot be told apart')

  await v.get('/settings/users/new')
  const twice = await v.post('/settings/users', { name: 'Nia Again', email: 'Unused@Alpha.test', permissions: [] })
  t.equal(twice.statusCode, 422, 'within one company an address is still taken once')
  t.match(visibleText(twice.body), 'This email address is already used by another account')
})

t.test('one address in two companies: the password decides, and the person picks the company', async (t) => {
  const { app, db } = await testApp(t)
  const alpha = await aCompany(db, 'Alpha Advisers')
  const beta = await aCompany(db, 'Beta Bank')
  const gamma = await aCompany(db, 'Gamma Group')
  const inAlpha = await aUser(db, { company: alpha, email: 'audra@audit.test', permissions: ['read_data'] })
  const inBeta = await aUser(db, { company: beta, email: 'AUDRA@audit.test', permissions: ['system_administrator'] })
  const inGamma = await aUser(db, { company: gamma, email: 'audra@audit.test', password: OTHER_PASSWORD })

  // Gamma's password opens Gamma only: no choice, nothing said about Alpha or Beta.
  const g = new Visitor(app)
  const gammaLogin = await signIn(g, 'audra@audit.test', OTHER_PASSWORD)
  t.equal(gammaLogin.headers.location, '/')
  t.match(visibleText((await g.get('/')).body), 'Gamma Group')

  // The shared password opens Alpha and Beta: the person is asked which.
  const v = new Visitor(app)
  const res = await signIn(v, 'audra@audit.test', PASSWORD)
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/login/company')
  const choice = await v.get('/login/company')
  const text = visibleText(choice.body)
  t.match(text, 'Choose a company')
  t.match(text, 'Alpha Advisers')
  t.match(text, 'Beta Bank')
  t.notMatch(text, 'Gamma Group', 'a company whose password differs is not named')
  t.equal((await v.get('/')).statusCode, 303, 'not signed in until a company is chosen')

  const crafted = await v.post('/login/company', { account: inGamma.id })
  t.equal(crafted.statusCode, 422, 'an account that was not offered cannot be chosen')
  const pendingSid = v.cookies.get('kyc.sid') as string
  const chosen = await v.post('/login/company', { account: inBeta.id })
  t.equal(chosen.statusCode, 303)
  t.not(v.cookies.get('kyc.sid'), pendingSid, 'a new session id once signed in')
  const fixated = new Visitor(app)
  fixated.cookies.set('kyc.sid', pendingSid)
  t.equal((await fixated.get('/')).statusCode, 303, 'the session of the choice step is worth nothing after it')
  const home = await v.get('/')
  t.equal(home.statusCode, 200)
  t.match(visibleText(home.body), 'Beta Bank')
  t.equal((await db('sessions').whereNotNull('user_id').where({ user_id: inBeta.id })).length, 1)
  t.equal((await db('audit_log').where({ action: 'auth.login', actor_user_id: inBeta.id })).length, 1)
  t.equal((await db('audit_log').where({ action: 'auth.login', actor_user_id: inAlpha.id })).length, 0)
})

t.test('before the password is right, nothing tells how many companies know an address', async (t) => {
  const { app, db } = await testApp(t)
  const alpha = await aCompany(db, 'Alpha Advisers')
  const beta = await aCompany(db, 'Beta Bank')
  await aUser(db, { company: alpha, email: 'two@audit.test' })
  await aUser(db, { company: beta, email: 'two@audit.test' })
  await aUser(db, { company: beta, email: 'one@audit.test' })
  const bodies: string[] = []
  for (const email of ['two@audit.test', 'one@audit.test', 'none@audit.test']) {
    const res = await signIn(new Visitor(app), email, 'wrong password')
    t.equal(res.statusCode, 401, email)
    bodies.push(visibleText(res.body).replace(email, 'EMAIL'))
  }
  t.equal(bodies[0], bodies[1])
  t.equal(bodies[1], bodies[2])
  t.match(bodies[0], 'Email or password is incorrect')
})

t.test('showing the sign-in page creates no session, and is rate limited', async (t) => {
  const { app, db } = await testApp(t)
  const user = await aUser(db, { company: await aCompany(db) })
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ url: '/login', remoteAddress: '10.9.9.9' })
    t.equal(res.statusCode, 200)
  }
  t.equal((await db('sessions').count<{ n: number }[]>('* as n'))[0]?.n, 0, 'no session row for 20 page views')
  // The form still works without a session: its CSRF secret rides in a signed cookie.
  const v = new Visitor(app)
  const res = await signIn(v, user.email, PASSWORD)
  t.equal(res.statusCode, 303)
  t.equal((await db('sessions').count<{ n: number }[]>('* as n'))[0]?.n, 1, 'one session, made at login')

  let status = 0
  for (let i = 0; i < 130 && status !== 429; i++) {
    status = (await app.inject({ url: '/login', remoteAddress: '10.8.8.8' })).statusCode
  }
  t.equal(status, 429, 'the page is rate limited per address')
})

t.test('wrong passwords slow the guesser down without locking the account', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })

  const attacker = new Visitor(app)
  for (let i = 0; i < 10; i++) await signIn(attacker, admin.email, `wrong ${i}`, '203.0.113.66')
  const refused = await signIn(attacker, admin.email, PASSWORD, '203.0.113.66')
  t.equal(refused.statusCode, 429, 'the guessing address must wait, even with the right password')
  t.match(visibleText(refused.body), /Too many failed attempts\. Wait \d+ (seconds|minutes), then try again\./)
  t.ok(Number(refused.headers['retry-after']) > 0)

  // A minute later the guesser still waits (the delay doubled with each failure); the administrator,
  // from their own address, signs in at once.
  await earlierLoginAttempts(db, '1 minute')
  t.equal((await signIn(attacker, admin.email, PASSWORD, '203.0.113.66')).statusCode, 429)
  const owner = await signIn(new Visitor(app), admin.email, PASSWORD, '198.51.100.7')
  t.equal(owner.statusCode, 303, 'the account is not locked')

  // Guesses spread over many addresses delay the account by at most 30 seconds.
  await failedLogins(db, {
    email: admin.email,
    ips: Array.from({ length: 60 }, (_, i) => `192.0.2.${i}`),
    createdAt: db.raw("now() - interval '31 seconds'"),
  })
  const later = await signIn(new Visitor(app), admin.email, PASSWORD, '198.51.100.8')
  t.equal(later.statusCode, 303, 'after 30 seconds the owner signs in from a new address')
})
