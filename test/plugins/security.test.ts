import t from 'tap'
import { VARY_HTMX } from '../../src/plugins/app/render.js'
import { csrfFrom, testApp, Visitor } from '../helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'

t.test('a state-changing request without a valid CSRF token changes nothing', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const user = await aUser(db, { company })

  const v = new Visitor(app)
  await v.login(user.email, PASSWORD)
  await v.get('/')

  const missing = await v.post('/logout', {}, { csrf: null })
  t.equal(missing.statusCode, 403)
  t.match(missing.body, 'This form has expired')
  t.equal((await v.get('/')).statusCode, 200, 'still signed in: the logout did not happen')

  const other = new Visitor(app)
  await other.login(user.email, PASSWORD)
  await other.get('/')
  const foreignToken = csrfFrom(other.lastHtml)
  await v.get('/')
  const stale = await v.post('/logout', {}, { csrf: foreignToken })
  t.equal(stale.statusCode, 403, "another session's token is refused")
  t.equal((await v.get('/')).statusCode, 200)

  const forged = await v.post('/logout', {}, { csrf: 'forged-token' })
  t.equal(forged.statusCode, 403)
  t.equal((await db('audit_log').where({ action: 'auth.logout' })).length, 0, 'no logout was recorded')

  const viaHeader = await v.request({
    method: 'POST',
    url: '/logout',
    headers: { 'x-csrf-token': csrfFrom(v.lastHtml), 'hx-request': 'true' },
  })
  t.equal(viaHeader.statusCode, 303, 'htmx sends the token in the X-CSRF-Token header')
})

t.test('login itself needs the CSRF token (no login CSRF)', async (t) => {
  const { app, db } = await testApp(t)
  const user = await aUser(db, { company: await aCompany(db) })
  const v = new Visitor(app)
  await v.get('/login')
  const res = await v.post('/login', { email: user.email, password: PASSWORD }, { csrf: null })
  t.equal(res.statusCode, 403)
  t.equal((await db('sessions').whereNotNull('user_id')).length, 0)
})

t.test('pages carry a strict Content-Security-Policy and security headers', async (t) => {
  const { app } = await testApp(t)
  const res = await app.inject({ url: '/login' })
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, "script-src 'self'")
  t.match(csp, "style-src 'self'")
  t.match(csp, "frame-ancestors 'none'")
  t.match(csp, "object-src 'none'")
  t.notMatch(csp, 'unsafe-inline')
  t.notMatch(csp, 'unsafe-eval')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  t.equal(res.headers.vary, VARY_HTMX)
  t.notMatch(res.body, /<script>|<script [^>]*>[^<]+<\/script>|\son\w+="/, 'no inline script or handler')
})

t.test('in production, behind a TLS proxy, the session cookie is Secure and HSTS is on', async (t) => {
  const { app, db } = await testApp(t, { production: true, trustProxy: true })
  const user = await aUser(db, { company: await aCompany(db) })
  const v = new Visitor(app)
  const https = { 'x-forwarded-proto': 'https' }
  const page = await v.get('/login', https)
  t.match(String(page.headers['set-cookie']), /__Host-kyc\.form=.*; Secure/, "the sign-in form's CSRF cookie")
  t.match(String(page.headers['strict-transport-security']), /max-age/)
  const res = await v.post('/login', { email: user.email, password: PASSWORD }, { headers: https })
  t.equal(res.statusCode, 303)
  t.match(String(res.headers['set-cookie']), /__Host-kyc\.sid=.*; Secure/)
})
