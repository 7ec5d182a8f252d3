import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testApp, testConfig, Visitor, visibleText } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { aCompany, aUser, grant, PASSWORD, revokeAll } from '../helpers/factories.js'

t.test('the app refuses to start when a route declares nothing', async (t) => {
  const { db } = await testDatabase(t)
  const app = await buildApp({ config: testConfig(), db, logger: false })
  t.teardown(() => app.close())
  t.throws(() => app.get('/undeclared', async () => 'hello'), /declares no access/)
})

t.test('every route the app registers declares its access', async (t) => {
  const { app } = await testApp(t)
  t.ok(app.routeTable.length >= 6)
  for (const route of app.routeTable) {
    t.ok(route.access, `${route.method} ${route.url} declares ${JSON.stringify(route.access)}`)
  }
})

t.test('an anonymous request to any protected route goes to the login page; to a portal route, 401', async (t) => {
  const { app } = await testApp(t)
  const protectedRoutes = app.routeTable.filter((r) => r.access !== 'public' && r.method !== 'HEAD')
  t.ok(protectedRoutes.length > 0)
  for (const route of protectedRoutes) {
    const url = route.url.replace(/:(\w+)/g, '00000000-0000-0000-0000-000000000000')
    const res = await app.inject({ method: route.method as 'GET', url })
    if (route.access === 'portal') {
      // The self-service portal has no sign-in page: its link starts a session (test/portal/portal.test.ts).
      t.equal(res.statusCode, 401, `${route.method} ${route.url}`)
      t.match(res.body, 'Your session has ended')
      continue
    }
    t.equal(res.statusCode, 303, `${route.method} ${route.url}`)
    t.match(String(res.headers.location), /^\/login/)
  }
})

t.test('the login redirect keeps a same-site return address and uses it after login', async (t) => {
  const { app, db } = await testApp(t)
  const user = await aUser(db, { company: await aCompany(db) })
  const v = new Visitor(app)
  const res = await v.get('/?tab=1')
  t.equal(res.headers.location, '/login?next=%2F%3Ftab%3D1')
  await v.get(String(res.headers.location))
  const login = await v.post('/login', { email: user.email, password: PASSWORD, next: '/?tab=1' })
  t.equal(login.headers.location, '/?tab=1')

  const evil = new Visitor(app)
  await evil.get('/login?next=//evil.test/phish')
  t.match(evil.lastHtml, 'name="next" value=""', 'a foreign return address is dropped')
  const loginEvil = await evil.post('/login', { email: user.email, password: PASSWORD, next: '//evil.test/phish' })
  t.equal(loginEvil.headers.location, '/')
})

t.test('htmx requests without a session get HX-Redirect instead of a page', async (t) => {
  const { app } = await testApp(t)
  const res = await app.inject({ method: 'GET', url: '/', headers: { 'hx-request': 'true' } })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['hx-redirect'], '/login')
})

t.test('a permission is checked on every request, in plain words when missing', async (t) => {
  const { app, db } = await testApp(t, {}, (app) => {
    app.get('/test/reports', { config: { access: { permission: 'view_reports' } } }, async () => 'the reports')
    app.post('/test/reports', { config: { access: { permission: 'view_reports' } } }, async (_req, reply) => {
      await db('companies').update({ name: 'changed' })
      return reply.redirect('/', 303)
    })
  })
  const company = await aCompany(db, 'Guarded Ltd')
  const reader = await aUser(db, { company, permissions: ['read_data'] })
  const v = new Visitor(app)
  await v.login(reader.email, PASSWORD)

  const denied = await v.get('/test/reports')
  t.equal(denied.statusCode, 403)
  t.match(visibleText(denied.body), 'Opening this page needs the permission View Reports, which you do not have.')
  await v.get('/')
  const deniedPost = await v.post('/test/reports', {})
  t.equal(deniedPost.statusCode, 403)
  t.equal((await db('companies').where({ id: company.id }).first()).name, 'Guarded Ltd', 'nothing changed')

  await grant(db, reader, ['view_reports'])
  const allowed = await v.get('/test/reports')
  t.equal(allowed.statusCode, 200, 'granted: allowed on the very next request, without signing in again')
  t.equal(allowed.body, 'the reports')

  await revokeAll(db, reader)
  t.equal((await v.get('/test/reports')).statusCode, 403, 'revoked: refused on the very next request')

  await grant(db, reader, ['system_administrator'])
  t.equal((await v.get('/test/reports')).statusCode, 200, 'an implied permission counts')
})

t.test('the navigation shows only what the user may open', async (t) => {
  const { app, db } = await testApp(t)
  const user = await aUser(db, { company: await aCompany(db) })
  const v = new Visitor(app)
  await v.login(user.email, PASSWORD)
  const home = await v.get('/')
  t.match(home.body, /<nav class="site-nav" aria-label="Main">[\s\S]*aria-current="page">Dashboard</)
})
