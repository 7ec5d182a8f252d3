import t from 'tap'
import { browserSuite } from '../helpers/browser.js'
import { aCompany, aUser } from '../helpers/factories.js'
import { accountRecord, mainText, signInByKeyboard } from './flows.js'

const suite = await browserSuite(t, {
  // A page that needs a permission: no route of the app needs one yet.
  extraRoutes: (app) => {
    app.get('/test-only/reports', { config: { access: { permission: 'view_reports' } } }, async (_request, reply) =>
      reply.page('errors/404', { title: 'Reports' }),
    )
  },
})

if (suite) {
  const { db } = suite
  const company = await aCompany(db, 'Northgate Trust')
  const forbidden = { title: 'You do not have access to this page', h1: 'You do not have access to this page' }
  const notFound = { title: 'Page not found', h1: 'Page not found' }

  await suite.flow('a staff member opens the reports without the View Reports permission', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data'] })
    await signInByKeyboard(s, t, user)
    await s.goto('/test-only/reports')
    await s.check(t, { ...forbidden, status: 403 })
    t.match(await mainText(s), 'Opening this page needs the permission View Reports', 'the page names what is missing')
    t.match(await mainText(s), 'ask a user manager or an administrator', 'and who can give it')

    await s.tabTo('link', 'Go to the dashboard')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Dashboard', h1: 'Dashboard', status: 200 })
    const record = await accountRecord(db, user)
    t.strictSame(record, { audit: ['auth.login'], attempts: [true], sessions: 1 }, 'the refusal changed nothing')
    return { path: s.path, record }
  })

  await suite.flow('a visitor follows a link to a page that does not exist', async (s, t) => {
    await s.goto('/clients/no-such-client')
    await s.check(t, { ...notFound, status: 404 })
    t.match(await mainText(s), 'There is no page at this address', 'the page says what happened')
    t.equal(await s.page.getByRole('button', { name: 'Sign out' }).count(), 0, 'a visitor is offered no sign-out')

    await s.tabTo('link', 'Go to the dashboard')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    t.equal(s.path, '/login', 'the dashboard asks a visitor to sign in first')
    return { path: s.path }
  })

  await suite.flow('a signed-in staff member mistypes an address', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data'] })
    await signInByKeyboard(s, t, user)
    await s.goto('/dashbord')
    await s.check(t, { ...notFound, status: 404 })
    t.equal(await s.page.getByRole('button', { name: 'Sign out' }).count(), 1, 'they are still signed in')

    await s.tabTo('link', 'Go to the dashboard')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Dashboard', h1: 'Dashboard', status: 200 })
    const record = await accountRecord(db, user)
    t.strictSame(record, { audit: ['auth.login'], attempts: [true], sessions: 1 }, 'nothing changed')
    return { path: s.path, record }
  })

  await suite.validateSavedPages()
}
