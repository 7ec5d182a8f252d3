import t from 'tap'
import { VARY_HTMX } from '../../src/plugins/app/render.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'

t.test('error pages never show a stack trace or an internal message', async (t) => {
  const { app, db, logs } = await testApp(t, {}, (app) => {
    app.get('/test/boom', { config: { access: 'authenticated' } }, async () => {
      throw new Error('secret internal detail at /srv/app.ts:42')
    })
  })
  const user = await aUser(db, { company: await aCompany(db) })
  const v = new Visitor(app)

  const missing = await v.get('/no/such/page')
  t.equal(missing.statusCode, 404)
  t.match(visibleText(missing.body), 'Page not found')

  await v.login(user.email, PASSWORD)
  const boom = await v.get('/test/boom')
  t.equal(boom.statusCode, 500)
  t.match(visibleText(boom.body), 'Something went wrong Your request could not be completed and nothing was changed.')
  t.notMatch(boom.body, 'secret internal detail')
  t.notMatch(boom.body, /at .*\.ts:\d+/)
  t.match(logs.join('\n'), 'secret internal detail', 'the error is logged for the operator')

  const loggedIn404 = await v.get('/no/such/page')
  t.match(loggedIn404.body, 'Sign out', 'the 404 page keeps the signed-in layout')
})

t.test('an htmx request gets the partial of the same template, and the page says Vary', async (t) => {
  const { app, db } = await testApp(t)
  const user = await aUser(db, { company: await aCompany(db) })
  const v = new Visitor(app)
  await v.login(user.email, PASSWORD)
  const full = await v.get('/')
  const partial = await v.get('/', { 'hx-request': 'true' })
  t.match(full.body, '<!doctype html>')
  t.notMatch(partial.body, '<!doctype html>')
  t.match(partial.body, '<h1>Dashboard</h1>')
  t.equal(partial.headers.vary, VARY_HTMX)
  t.equal(full.headers.vary, VARY_HTMX)
})
