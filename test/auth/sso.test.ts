/**
 * Single sign-on with OpenID Connect (issue 17, point 4), against a real OpenID provider started here (the
 * oidc-provider package, its development sign-in pages driven over HTTP): the code flow with PKCE signs in the
 * company's user whose verified email the provider vouches for; a tampered state, a wrong nonce, an unverified
 * email and a user of another company are refused and audited; "SSO only" turns passwords off for the company
 * but its break-glass administrator's; the settings page is an administrator's.
 */
import type { FastifyInstance } from 'fastify'
import type { Knex } from 'knex'
import t, { type Test } from 'tap'
import { sendResetLinks } from '../../src/auth/password-reset.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'
import { type Accounts, CLIENT, startProvider } from '../helpers/oidc.js'

const CALLBACK = 'http://kyc.test/login/sso/callback'

/**
 * A person at the provider: from the authorization URL, through its sign-in (as `accountId`) and consent pages,
 * to the redirect back to KYC Desk, whose URL is returned.
 */
async function throughProvider(authorizationUrl: string, accountId: string): Promise<URL> {
  const jar = new Map<string, string>()
  const go = async (url: string, form?: Record<string, string>) => {
    const res = await fetch(url, {
      redirect: 'manual',
      method: form ? 'POST' : 'GET',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const [name, ...value] = (pair as string).split('=')
      jar.set(name as string, value.join('='))
    }
    return res
  }
  let url = authorizationUrl
  for (let i = 0; i < 12; i += 1) {
    const res = await go(url)
    const location = res.headers.get('location')
    if (location) {
      const next = new URL(location, url)
      if (next.href.startsWith(CALLBACK)) return next
      url = next.href
      continue
    }
    const html = await res.text()
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
    if (!action) throw new Error(`the provider showed no form at ${url}: ${html.slice(0, 300)}`)
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1] ?? 'login'
    const fields: Record<string, string> =
      prompt === 'login' ? { prompt, login: accountId, password: 'any' } : { prompt }
    const submitted = await go(new URL(action, url).href, fields)
    const after = submitted.headers.get('location')
    if (!after) throw new Error(`the provider answered ${submitted.status} to the ${prompt} form`)
    url = new URL(after, url).href
    if (url.startsWith(CALLBACK)) return new URL(url)
  }
  throw new Error('the provider never sent the person back')
}

async function setUp(t: Test, accounts: Accounts) {
  const ctx = await testApp(t)
  const { db } = ctx
  const { company, other, admin } = await twoCompanies(db)
  const issuer = await startProvider(t, accounts, CALLBACK)
  await db('company_sso').insert({ company_id: company.id, issuer, client_id: CLIENT.id, client_secret: CLIENT.secret })
  return { ...ctx, company, other, admin, issuer }
}

/** Starts a sign-in at the company's link; returns the visitor and the provider's authorization URL. */
async function start(app: FastifyInstance, companyId: string) {
  const v = new Visitor(app)
  const res = await v.get(`/login/sso/${companyId}`)
  if (res.statusCode !== 303) throw new Error(`the sign-in link answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return { v, authorizationUrl: String(res.headers.location) }
}

const pathOf = (url: URL) => url.pathname + url.search

async function refusals(db: Knex, companyId: string): Promise<string[]> {
  return (await db('audit_log').where({ company_id: companyId, action: 'auth.sso_refused' }).orderBy('id')).map(
    (r) => r.after.reason as string,
  )
}

t.test('single sign-on end to end, and every refusal the issue names', async (t) => {
  const accounts: Accounts = {
    alice: { email: 'ALICE@alpha.test', email_verified: true },
    unverified: { email: 'ursula@alpha.test', email_verified: false },
    beta: { email: 'bob@beta.test', email_verified: true },
  }
  const { app, db, company, other } = await setUp(t, accounts)
  await aUser(db, { company, name: 'Alice Single', email: 'alice@alpha.test', permissions: ['read_data'] })
  await aUser(db, { company, name: 'Ursula Unverified', email: 'ursula@alpha.test', permissions: ['read_data'] })
  await aUser(db, { company: other, name: 'Bob of Beta', email: 'bob@beta.test', permissions: ['read_data'] })

  // Alice: signed in.
  const a = await start(app, company.id)
  const authUrl = new URL(a.authorizationUrl)
  t.equal(authUrl.searchParams.get('code_challenge_method'), 'S256', 'PKCE with S256')
  t.ok(authUrl.searchParams.get('state'), 'a state')
  t.ok(authUrl.searchParams.get('nonce'), 'a nonce')
  t.equal(authUrl.searchParams.get('redirect_uri'), CALLBACK)
  const back = await throughProvider(a.authorizationUrl, 'alice')
  const signedIn = await a.v.get(pathOf(back))
  t.equal(signedIn.statusCode, 303)
  t.equal(signedIn.headers.location, '/')
  t.match(visibleText((await a.v.get('/')).body), 'Alice Single', 'Alice is signed in (her email matched in any case)')
  const alice = await db('users').where({ email: 'alice@alpha.test' }).first()
  t.ok(await db('audit_log').where({ actor_user_id: alice.id, action: 'auth.login' }).first(), 'the sign-in audited')
  const again = await a.v.get(pathOf(back))
  t.equal(again.headers.location, '/login', 'the same answer a second time finds nothing waiting: back to sign in')

  // A tampered state.
  const b = await start(app, company.id)
  const tampered = await throughProvider(b.authorizationUrl, 'alice')
  tampered.searchParams.set('state', 'not-the-state-we-sent')
  const refusedState = await b.v.get(pathOf(tampered))
  t.equal(refusedState.statusCode, 403, 'a tampered state is refused')
  t.match(visibleText(refusedState.body), 'Single sign-on did not work')
  t.equal((await b.v.get('/')).statusCode, 303, 'and signs no one in')

  // A wrong nonce: the session's nonce is not the one the ID token carries.
  const c = await start(app, company.id)
  const cBack = await throughProvider(c.authorizationUrl, 'alice')
  const changed = await db.raw(
    `UPDATE sessions SET data = jsonb_set(data::jsonb, '{ssoPending,nonce}', '"a-nonce-we-never-sent"')::jsonb
     WHERE data::jsonb -> 'ssoPending' ->> 'state' = ?`,
    [new URL(c.authorizationUrl).searchParams.get('state')],
  )
  t.equal(changed.rowCount, 1, 'the nonce the session keeps is changed')
  t.equal((await c.v.get(pathOf(cBack))).statusCode, 403, 'a wrong nonce is refused')

  // An unverified email.
  const d = await start(app, company.id)
  t.equal(
    (await d.v.get(pathOf(await throughProvider(d.authorizationUrl, 'unverified')))).statusCode,
    403,
    'an unverified email is refused',
  )

  // A user of another company, at this company's link.
  const e = await start(app, company.id)
  t.equal(
    (await e.v.get(pathOf(await throughProvider(e.authorizationUrl, 'beta')))).statusCode,
    403,
    'a user of another company is refused',
  )

  const reasons = await refusals(db, company.id)
  t.equal(reasons.length, 4, 'each refusal audited in the company')
  t.match(reasons[0], 'did not check out', 'the state')
  t.match(reasons[1], 'did not check out', 'the nonce')
  t.match(reasons[2], 'has not verified the email address')
  t.match(reasons[3], 'no active user of the company has that email address')
  t.equal(
    (await new Visitor(app).get(`/login/sso/${other.id}`)).statusCode,
    404,
    'a company without single sign-on has no link',
  )
})

t.test('SSO only: passwords off for the company but its break-glass administrator’s', async (t) => {
  const { app, db, company, admin } = await setUp(t, {})
  const pat = await aUser(db, { company, name: 'Pat Password', permissions: ['read_data'] })
  const beta = await aCompany(db, 'Gamma Group')
  const twin = await aUser(db, { company: beta, email: pat.email, name: 'Pat in Gamma' })
  await db('company_sso').where({ company_id: company.id }).update({ sso_only: true, break_glass_user_id: admin.id })

  const v = new Visitor(app)
  await v.get('/login')
  const refused = await v.post('/login', { email: pat.email, password: PASSWORD })
  t.equal(refused.headers.location, '/', 'the same address and password open the account in the other company only')
  const me = await v.get('/')
  t.match(visibleText(me.body), 'Gamma Group', 'signed in to Gamma, not to the SSO-only company')

  await db('users').where({ id: twin.id }).update({ active: false })
  const alone = new Visitor(app)
  await alone.get('/login')
  t.equal(
    (await alone.post('/login', { email: pat.email, password: PASSWORD })).statusCode,
    401,
    'alone, Pat’s password is refused',
  )
  const breakGlass = new Visitor(app)
  t.equal(
    (await breakGlass.login(admin.email, PASSWORD)).statusCode,
    303,
    'the break-glass administrator signs in with a password',
  )

  const forgot = new Visitor(app)
  await forgot.get('/login/forgot')
  await forgot.post('/login/forgot', { email: pat.email })
  t.equal(await sendResetLinks(db, 'http://kyc.test'), 0, 'no reset link for an account whose password is off')
})

t.test('the settings page is an administrator’s, and checks what it is given', async (t) => {
  const { app, db, company, admin, issuer } = await setUp(t, {})
  const manager = await aUser(db, { company, permissions: ['manage_user_accounts'] })
  const m = new Visitor(app)
  await m.login(manager.email, PASSWORD)
  t.equal((await m.get('/settings/sso')).statusCode, 403)

  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  const page = await a.get('/settings/sso')
  t.match(visibleText(page.body), CALLBACK, 'the redirect URI to register is shown')
  t.match(visibleText(page.body), `/login/sso/${company.id}`, 'and the company’s sign-in link')
  t.notMatch(page.body, CLIENT.secret, 'the secret is never shown')
  const bad = await a.post('/settings/sso', { issuer: 'not a url', client_id: '', sso_only: '1', break_glass: '' })
  t.equal(bad.statusCode, 422)
  const text = visibleText(bad.body)
  t.match(text, 'Enter the issuer URL of your provider')
  t.match(text, 'Enter the client ID')
  t.match(text, 'Choose the administrator who may still sign in with a password')
  t.match(bad.body, 'value="not a url"', 'what was typed is kept')
  const ok = await a.post('/settings/sso', {
    issuer,
    client_id: 'another-client',
    sso_only: '1',
    break_glass: admin.id,
  })
  t.equal(ok.statusCode, 303)
  const saved = await db('company_sso').where({ company_id: company.id }).first()
  t.equal(saved.client_id, 'another-client')
  t.equal(saved.client_secret, CLIENT.secret, 'an empty secret keeps the saved one')
  t.equal(saved.sso_only, true)
  const audit = await db('audit_log').where({ company_id: company.id, action: 'settings.sso_changed' }).first()
  t.notOk(JSON.stringify(audit).includes(CLIENT.secret), 'audited without the secret')
})
