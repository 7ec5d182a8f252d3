/**
 * Forgotten and changed passwords (issue 17, points 1 and 2): the same answer, status and time for known and
 * unknown addresses; a link by email through the outbox, only its hash stored, one per account of the
 * address; single use (also under a race) and expiring; setting the password ends every session; limits per
 * address and per client; a change of one's own password needs the current one, ends the other sessions and
 * tells the owner; everything audited.
 */
import type { Knex } from 'knex'
import t from 'tap'
import { RESET, sendResetLinks } from '../../src/auth/password-reset.js'
import { secretHash } from '../../src/identity/secrets.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

const NEW_PASSWORD = 'a brand new passphrase'
const PUBLIC_URL = 'http://kyc.test'

/** The reset link of the newest email to an address, from the outbox. */
async function resetLink(db: Knex, to: string, companyId?: string): Promise<string | undefined> {
  const mail = await db('outbox_emails')
    .where({ to_address: to })
    .modify((q) => (companyId ? q.where({ company_id: companyId }) : q))
    .where('subject', 'like', 'Choose a new%')
    .orderBy('id', 'desc')
    .first()
  return /http:\/\/kyc\.test(\/login\/reset\/[\w-]+)/.exec(mail?.body_text ?? '')?.[1]
}

async function askForLink(v: Visitor, email: string) {
  await v.get('/login/forgot')
  return v.post('/login/forgot', { email })
}

t.test('the sign-in page links to the forgotten password page, which works without script', async (t) => {
  const { app } = await testApp(t)
  const v = new Visitor(app)
  const login = await v.get('/login')
  t.match(login.body, 'href="/login/forgot"', 'sign in links to it')
  const page = await v.get('/login/forgot')
  t.equal(page.statusCode, 200)
  t.match(page.body, '<form method="post" action="/login/forgot"', 'a plain form')
  const empty = await v.post('/login/forgot', { email: '' })
  t.equal(empty.statusCode, 422)
  t.match(visibleText(empty.body), 'Enter your email address', 'an empty address is refused with a message')
  const bad = await v.post('/login/forgot', { email: 'not an address' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'value="not an address"', 'what was typed is kept')
})

t.test('a known and an unknown address get the same answer, status and time', async (t) => {
  const { app, db } = await testApp(t, { trustProxy: true })
  const { company, admin } = await twoCompanies(db)
  const v = new Visitor(app)
  const known = await askForLink(v, admin.email)
  const unknown = await askForLink(v, 'nobody-here@example.test')
  t.equal(known.statusCode, 303)
  t.equal(unknown.statusCode, 303)
  t.equal(known.headers.location, unknown.headers.location, 'both go to the same page')
  const after = await v.get(String(known.headers.location))
  t.match(visibleText(after.body), 'If an account uses that address, we have emailed it a link')

  // Timing: the page writes one row either way; the medians of 15 requests each differ by noise only.
  // Each address is a new one (the limit per address would otherwise mark them), from several clients.
  const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] }
  const others = await Promise.all(
    Array.from({ length: 15 }, (_, i) => aUser(db, { company, email: `timed${i}@example.test` })),
  )
  for (let i = 0; i < 15; i += 1) {
    for (const kind of ['known', 'unknown'] as const) {
      const email = kind === 'known' ? (others[i]?.email as string) : `missing${i}@example.test`
      const started = process.hrtime.bigint()
      const res = await v.post(
        '/login/forgot',
        { email },
        { headers: { 'x-forwarded-for': `10.0.${i}.${kind === 'known' ? 1 : 2}` } },
      )
      times[kind].push(Number(process.hrtime.bigint() - started) / 1e6)
      t.equal(res.statusCode, 303)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  const diff = Math.abs(median(times.known) - median(times.unknown))
  t.ok(diff < 10, `medians ${median(times.known).toFixed(1)} ms and ${median(times.unknown).toFixed(1)} ms`)
  t.equal(
    await db('outbox_emails')
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
    'the page itself sent nothing',
  )
})

t.test(
  'the link is emailed to each account of the address, works once, sets the password and ends every session',
  async (t) => {
    const { app, db } = await testApp(t)
    const { company, admin } = await twoCompanies(db)
    const other = await aCompany(db, 'Gamma Group')
    const twin = await aUser(db, { company: other, email: admin.email, name: 'Ada in Gamma' })

    const signedIn = new Visitor(app)
    await signedIn.login(admin.email, PASSWORD).catch(() => undefined)
    // Two accounts of the address: the sign-in asks which company; choose Alpha.
    await signedIn.get('/login/company')
    await signedIn.post('/login/company', { account: admin.id })
    t.equal((await signedIn.get('/')).statusCode, 200, 'Ada is signed in')

    // What a request of that session still running would write back when it ends: the row as it is now.
    const inFlight = await db('sessions').where({ user_id: admin.id }).first()
    const itsCookies = new Map(signedIn.cookies)
    const v = new Visitor(app)
    await askForLink(v, admin.email.toUpperCase())
    t.equal(await sendResetLinks(db, PUBLIC_URL), 2, 'the job sends a link to each of the two accounts')
    const mails = await db('outbox_emails').where({ to_address: admin.email }).where('subject', 'like', 'Choose a new%')
    t.equal(mails.length, 2)
    t.same(mails.map((m) => m.company_id).sort(), [company.id, other.id].sort(), 'one in each company')
    t.equal(await sendResetLinks(db, PUBLIC_URL), 0, 'a request is handled once')

    const link = await resetLink(db, admin.email, company.id)
    t.ok(link, 'the email holds the link')
    const token = String(link).split('/').pop() as string
    const stored = await db('password_resets').where({ user_id: admin.id }).first()
    t.equal(stored.token_hash, secretHash(token), 'only the hash is stored')
    t.notOk(JSON.stringify(await db('password_resets')).includes(token), 'the token itself is nowhere in the table')

    const form = await v.get(String(link))
    t.equal(form.statusCode, 200)
    t.equal(form.headers['referrer-policy'], 'no-referrer', 'the token does not leak through Referer')
    const weak = await v.post(String(link), { password: 'short', password_confirmation: 'short' })
    t.equal(weak.statusCode, 422)
    t.match(visibleText(weak.body), 'at least 12 characters', 'the same strength rules as everywhere')
    const done = await v.post(String(link), { password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD })
    t.equal(done.statusCode, 303)
    t.equal(done.headers.location, '/login?reset=1')
    t.match(visibleText((await v.get('/login?reset=1')).body), 'Your new password is set')

    t.equal((await signedIn.get('/')).statusCode, 303, 'the session Ada had is ended')
    t.equal(
      await db('sessions')
        .where({ user_id: admin.id })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
    )
    await db('sessions').insert({ ...inFlight, id: undefined })
    const ghost = new Visitor(app)
    ghost.cookies = itsCookies
    t.equal((await ghost.get('/')).statusCode, 303, 'and stays ended when a request still running saves it back')
    const again = await v.post(String(link), { password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD })
    t.equal(again.statusCode, 404, 'a reused link is refused')
    t.match(visibleText(again.body), 'This link does not work')

    const fresh = new Visitor(app)
    await fresh.get('/login')
    const old = await fresh.post('/login', { email: admin.email, password: PASSWORD })
    t.equal(old.statusCode, 303, 'the old password still opens the twin account in Gamma (its link was not used)')
    const audit = await db('audit_log')
      .where({ target_id: admin.id })
      .whereIn('action', ['auth.password_reset_requested', 'auth.password_reset'])
    t.same(
      audit.map((a) => a.action).sort(),
      ['auth.password_reset', 'auth.password_reset_requested'],
      'both steps audited',
    )
    t.ok(
      await db('outbox_emails')
        .where({ to_address: admin.email, subject: 'Your KYC Desk password was changed' })
        .first(),
      'Ada is told',
    )
    t.ok(twin, 'the twin account exists')
  },
)

t.test('an expired link and a link raced twice', async (t) => {
  const { app, db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  const v = new Visitor(app)
  await askForLink(v, admin.email)
  await sendResetLinks(db, PUBLIC_URL)
  const link = String(await resetLink(db, admin.email))

  await db('password_resets')
    .where({ user_id: admin.id })
    .update({ expires_at: db.raw("now() - interval '1 second'") })
  t.equal((await v.get(link)).statusCode, 404, 'an expired link does not work')
  await db('password_resets')
    .where({ user_id: admin.id })
    .update({ expires_at: db.raw("now() + interval '1 hour'") })

  await v.get(link)
  const tries = await Promise.all(
    ['first racer password', 'second racer password'].map((p) =>
      v.post(link, { password: p, password_confirmation: p }),
    ),
  )
  t.same(tries.map((r) => r.statusCode).sort(), [303, 404], 'one of two racing uses wins, the other is refused')
  t.equal(
    await db('audit_log')
      .where({ target_id: admin.id, action: 'auth.password_reset' })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    1,
    'one reset audited',
  )
})

t.test('limits per address and per client', async (t) => {
  const { app, db } = await testApp(t, { trustProxy: true })
  const { admin } = await twoCompanies(db)
  const v = new Visitor(app)
  for (let i = 0; i < RESET.perAddress + 2; i += 1) {
    const res = await askForLink(v, admin.email)
    t.equal(res.statusCode, 303, `request ${i + 1} for the address gets the same answer`)
  }
  t.equal(await sendResetLinks(db, PUBLIC_URL), RESET.perAddress, `only ${RESET.perAddress} links are sent in an hour`)

  const client = new Visitor(app)
  await client.get('/login/forgot')
  let last = 0
  for (let i = 0; i < RESET.perClient + 1; i += 1) {
    const res = await client.post(
      '/login/forgot',
      { email: `someone${i}@example.test` },
      { headers: { 'x-forwarded-for': '203.0.113.9' } },
    )
    last = res.statusCode
  }
  t.equal(last, 429, 'a client over its limit is told to wait, whatever the address')
  t.match(visibleText(client.lastHtml), 'Too many requests from your network')
})

t.test('changing one’s own password', async (t) => {
  const { app, db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  const here = new Visitor(app)
  await here.login(admin.email, PASSWORD)
  const elsewhere = new Visitor(app)
  await elsewhere.login(admin.email, PASSWORD)

  const profile = await here.get('/profile')
  t.match(profile.body, 'href="/profile/password"', 'the profile links to it')
  await here.get('/profile/password')
  const wrong = await here.post('/profile/password', {
    current_password: 'not my password at all',
    password: NEW_PASSWORD,
    password_confirmation: NEW_PASSWORD,
  })
  t.equal(wrong.statusCode, 422)
  t.match(visibleText(wrong.body), 'Your current password is not right')
  t.match(wrong.body, 'href="#current_password"', 'the error summary links to the field')
  const mismatch = await here.post('/profile/password', {
    current_password: PASSWORD,
    password: NEW_PASSWORD,
    password_confirmation: 'something else entirely',
  })
  t.equal(mismatch.statusCode, 422)
  t.match(visibleText(mismatch.body), 'The two passwords do not match')

  const ok = await here.post('/profile/password', {
    current_password: PASSWORD,
    password: NEW_PASSWORD,
    password_confirmation: NEW_PASSWORD,
  })
  t.equal(ok.statusCode, 303)
  t.match(
    visibleText((await here.get('/profile')).body),
    'Your password is changed, and your 1 other session has ended',
  )
  t.equal((await elsewhere.get('/')).statusCode, 303, 'the other session is ended')
  const fresh = new Visitor(app)
  await fresh.get('/login')
  t.equal(
    (await fresh.post('/login', { email: admin.email, password: PASSWORD })).statusCode,
    401,
    'the old password no longer works',
  )
  t.equal(
    (await fresh.post('/login', { email: admin.email, password: NEW_PASSWORD })).statusCode,
    303,
    'the new one does',
  )
  t.ok(
    await db('outbox_emails').where({ to_address: admin.email, subject: 'Your KYC Desk password was changed' }).first(),
    'Ada is told by email',
  )
  const actions = (await db('audit_log').where({ target_id: admin.id }).whereLike('action', 'auth.password%')).map(
    (a) => a.action,
  )
  t.same(
    actions.sort(),
    ['auth.password_change_refused', 'auth.password_changed'],
    'the refusal and the change audited',
  )
})
