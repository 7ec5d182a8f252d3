/**
 * Single sign-on in the browser (issue 17, point 5), with JavaScript on and off: from the company's sign-in
 * link to the OpenID provider (oidc-provider, started here, with its development sign-in and consent pages),
 * and back to KYC Desk, signed in.
 */
import t from 'tap'
import { accountRecord, mainText } from '../browser/flows.js'
import { browserSuite } from '../helpers/browser.js'
import { aCompany, aUser } from '../helpers/factories.js'
import { type Accounts, CLIENT, startProvider } from '../helpers/oidc.js'

const suite = await browserSuite(t, { publicUrl: true })

if (suite) {
  const { db } = suite
  const company = await aCompany(db, 'Harbour Accountants')
  const accounts: Accounts = {}
  const issuer = await startProvider(t, accounts, `${suite.baseUrl}/login/sso/callback`)
  await db('company_sso').insert({ company_id: company.id, issuer, client_id: CLIENT.id, client_secret: CLIENT.secret })

  await suite.flow('a staff member signs in with their company’s single sign-on', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data'], name: 'Fay Federated' })
    accounts[user.id] = { email: user.email, email_verified: true }
    await s.goto(`/login/sso/${company.id}`)
    // At the provider: its own pages, not ours to check.
    t.ok(s.page.url().startsWith(issuer), 'the sign-in link leads to the company’s provider')
    await s.page.locator('input[name="login"]').fill(user.id)
    await s.page.locator('input[name="password"]').fill('whatever the provider asks')
    await Promise.all([s.page.waitForURL((url) => url.href.includes('/interaction/')), s.page.keyboard.press('Enter')])
    await Promise.all([
      s.page.waitForURL((url) => url.href.startsWith(suite.baseUrl)),
      s.page.locator('button[type="submit"]').click(),
    ])
    await s.check(t, { title: 'Dashboard', h1: 'Dashboard', status: 200 })
    t.match(await mainText(s), 'Welcome, Fay Federated', 'signed in to KYC Desk as themselves')
    const record = await accountRecord(db, user)
    t.strictSame(
      record,
      { audit: ['auth.login'], attempts: [], sessions: 1 },
      'the sign-in is audited, no password was tried',
    )
    return { path: s.path, record }
  })

  await suite.validateSavedPages()
}
