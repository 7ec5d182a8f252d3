/**
 * Two-factor sign-in with TOTP (issue 17, point 3): enrolment by a QR code drawn on the server and the key as
 * text, confirmed with a code; ten recovery codes shown once and stored hashed; the code asked after the
 * password; each code and each recovery code accepted once (also under a race); wrong codes slowed down; an
 * administrator's reset, audited and told by email.
 */
import type { FastifyInstance } from 'fastify'
import type { Knex } from 'knex'
import { generate } from 'otplib'
import t from 'tap'
import { RECOVERY_CODES, TWO_FACTOR_THROTTLE } from '../../src/auth/two-factor.js'
import { secretHash } from '../../src/identity/secrets.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aUser, PASSWORD, twoCompanies, type User } from '../helpers/factories.js'

/** The code the user's app shows `stepsAhead` 30-second steps from now. */
async function codeOf(db: Knex, user: User, stepsAhead = 0): Promise<string> {
  const { secret } = await db('user_totp').where({ user_id: user.id }).first('secret')
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * stepsAhead })
}

/** Signs in and turns two-factor sign-in on; returns the visitor, signed in, and the recovery codes shown. */
async function enrolled(app: FastifyInstance, db: Knex, user: User) {
  const v = new Visitor(app)
  await v.login(user.email, PASSWORD)
  await v.get('/profile/two-factor')
  const on = await v.post('/profile/two-factor', { code: await codeOf(db, user) })
  if (on.statusCode !== 303) throw new Error(`enrolment answered ${on.statusCode}`)
  const page = await v.get('/profile/two-factor/recovery-codes')
  const codes = [...page.body.matchAll(/<code>([a-z0-9]{5}-[a-z0-9]{5})<\/code>/g)].map((m) => m[1] as string)
  return { v, codes }
}

/** A new visitor who typed the right password and now sees the code page. */
async function atCodePage(app: FastifyInstance, user: User) {
  const v = new Visitor(app)
  await v.get('/login')
  const res = await v.post('/login', { email: user.email, password: PASSWORD })
  if (res.headers.location !== '/login/code') throw new Error(`sign-in went to ${res.headers.location}`)
  await v.get('/login/code')
  return v
}

t.test(
  'enrolment: a QR code and the key, confirmed with a code; ten recovery codes shown once, stored hashed',
  async (t) => {
    const { app, db } = await testApp(t)
    const { admin } = await twoCompanies(db)
    const v = new Visitor(app)
    await v.login(admin.email, PASSWORD)
    t.match((await v.get('/profile')).body, 'href="/profile/two-factor"', 'the profile links to it')
    const page = await v.get('/profile/two-factor')
    t.equal(page.statusCode, 200)
    t.match(
      page.body,
      /<div role="img" aria-label="QR code for your authenticator app"><svg[^>]*viewBox/,
      'a QR code drawn on the server, named for screen readers',
    )
    t.notMatch(page.body, /<svg[^>]*style=/, 'no inline style (the CSP stays strict)')
    const { secret } = await db('user_totp').where({ user_id: admin.id }).first('secret')
    t.match(visibleText(page.body), secret.replace(/(.{4})/g, '$1 ').trim(), 'the key as text, in groups of four')
    t.equal(
      (await v.get('/profile/two-factor')).body.includes(secret.slice(0, 4)),
      true,
      'reloading shows the same key',
    )

    const wrong = await v.post('/profile/two-factor', { code: '000000' })
    t.equal(wrong.statusCode, 422)
    t.match(visibleText(wrong.body), 'That code is not right')
    t.notOk((await db('user_totp').where({ user_id: admin.id }).first()).confirmed_at, 'not on after a wrong code')

    const on = await v.post('/profile/two-factor', { code: await codeOf(db, admin) })
    t.equal(on.statusCode, 303)
    const shown = await v.get('/profile/two-factor/recovery-codes')
    const codes = [...shown.body.matchAll(/<code>([a-z0-9]{5}-[a-z0-9]{5})<\/code>/g)].map((m) => m[1] as string)
    t.equal(codes.length, RECOVERY_CODES, 'ten recovery codes')
    t.equal(new Set(codes).size, RECOVERY_CODES, 'all different')
    const stored = await db('user_recovery_codes').where({ user_id: admin.id })
    t.same(stored.map((r) => r.code_hash).sort(), codes.map((c) => secretHash(c)).sort(), 'stored as their hashes')
    t.notOk(JSON.stringify(stored).includes(codes[0] as string), 'never as themselves')
    t.equal((await v.get('/profile/two-factor/recovery-codes')).statusCode, 303, 'shown once: the page is gone after')
    t.match(visibleText((await v.get('/profile/two-factor')).body), 'Two-factor sign-in is on')
    t.ok(await db('audit_log').where({ target_id: admin.id, action: 'auth.two_factor_enabled' }).first(), 'audited')
  },
)

t.test('sign-in asks for the code; a code and a recovery code are each accepted once', async (t) => {
  const { app, db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  const { codes } = await enrolled(app, db, admin)

  const v = await atCodePage(app, admin)
  t.equal((await v.get('/')).statusCode, 303, 'the password alone signs no one in')
  const code = await codeOf(db, admin, 1)
  const ok = await v.post('/login/code', { code })
  t.equal(ok.statusCode, 303)
  t.equal(ok.headers.location, '/')
  t.equal((await v.get('/')).statusCode, 200, 'signed in with the code')

  const again = await atCodePage(app, admin)
  const replay = await again.post('/login/code', { code })
  t.equal(replay.statusCode, 422, 'the same code a second time is refused')
  t.match(visibleText(replay.body), 'That code is not right, or was used already')

  const recovery = await again.post('/login/code', { code: (codes[0] as string).toUpperCase() })
  t.equal(recovery.statusCode, 303, 'a recovery code signs in (any case)')
  t.match(
    visibleText((await again.get('/')).body),
    `You signed in with a recovery code; ${RECOVERY_CODES - 1} of ${RECOVERY_CODES} are left`,
  )
  const reused = await atCodePage(app, admin)
  t.equal(
    (await reused.post('/login/code', { code: codes[0] as string })).statusCode,
    422,
    'a used recovery code is refused',
  )
  const actions = (
    await db('audit_log')
      .where({ target_id: admin.id })
      .whereIn('action', ['auth.recovery_code_used', 'auth.second_factor_failed'])
  ).map((a) => a.action)
  t.same(
    actions.sort(),
    ['auth.recovery_code_used', 'auth.second_factor_failed', 'auth.second_factor_failed'],
    'uses and refusals audited',
  )
})

t.test('two racing requests with one code: one signs in', async (t) => {
  const { app, db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  await enrolled(app, db, admin)
  const [a, b] = [await atCodePage(app, admin), await atCodePage(app, admin)]
  const code = await codeOf(db, admin, 1)
  const answers = await Promise.all([a.post('/login/code', { code }), b.post('/login/code', { code })])
  t.same(answers.map((r) => r.statusCode).sort(), [303, 422], 'one accepted, the other refused')
})

t.test('wrong codes are slowed down', async (t) => {
  const { app, db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  await enrolled(app, db, admin)
  const v = await atCodePage(app, admin)
  for (let i = 0; i < TWO_FACTOR_THROTTLE.free; i += 1) {
    t.equal((await v.post('/login/code', { code: '000000' })).statusCode, 422, `wrong code ${i + 1}`)
  }
  const slowed = await v.post('/login/code', { code: await codeOf(db, admin, 1) })
  t.equal(slowed.statusCode, 429, 'even the right code waits its turn')
  t.match(visibleText(slowed.body), 'Too many wrong codes. Wait')
  t.ok(Number(slowed.headers['retry-after']) > 0)
})

t.test('an administrator resets a user’s second factor; the user is told; others may not', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  const bea = await aUser(db, { company, name: 'Bea Lost-Phone', permissions: ['read_data'] })
  await enrolled(app, db, bea)
  const manager = await aUser(db, { company, permissions: ['manage_user_accounts'] })

  const m = new Visitor(app)
  await m.login(manager.email, PASSWORD)
  await m.get(`/settings/users/${bea.id}`)
  t.notMatch(m.lastHtml, 'Reset two-factor sign-in', 'a user manager is not offered the reset')
  t.equal((await m.post(`/settings/users/${bea.id}/two-factor/reset`, {})).statusCode, 403, 'and is refused it')

  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await a.get(`/settings/users/${bea.id}`)
  t.match(a.lastHtml, 'Reset two-factor sign-in', 'an administrator is offered it')
  const reset = await a.post(`/settings/users/${bea.id}/two-factor/reset`, {})
  t.equal(reset.statusCode, 303)
  t.notOk(await db('user_totp').where({ user_id: bea.id }).first(), 'the secret is gone')
  t.equal((await db('user_recovery_codes').where({ user_id: bea.id })).length, 0, 'and the recovery codes')
  t.ok(
    await db('audit_log')
      .where({ target_id: bea.id, action: 'user.two_factor_reset', actor_user_id: admin.id })
      .first(),
    'audited',
  )
  t.ok(
    await db('outbox_emails')
      .where({ to_address: bea.email, subject: 'Your KYC Desk two-factor sign-in was reset' })
      .first(),
    'Bea is told',
  )
  const b = new Visitor(app)
  await b.get('/login')
  const signIn = await b.post('/login', { email: bea.email, password: PASSWORD })
  t.equal(signIn.headers.location, '/', 'Bea signs in with her password again')
})

t.test('a company requires two-factor sign-in of administrators or of everyone', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  const plain = await aUser(db, { company, name: 'Pat Plain', permissions: ['read_data'] })

  const p = new Visitor(app)
  await p.login(plain.email, PASSWORD)
  t.equal((await p.get('/settings/sign-in')).statusCode, 403, 'only an administrator changes the setting')

  const { v: a } = await enrolled(app, db, admin)
  const page = await a.get('/settings/sign-in')
  t.match(visibleText(page.body), '1 active user has not set up two-factor sign-in', 'the page says who is without')
  const bad = await a.post('/settings/sign-in', { two_factor_required: 'sometimes' })
  t.equal(bad.statusCode, 422, 'an unknown choice is refused')
  t.equal((await a.post('/settings/sign-in', { two_factor_required: 'administrators' })).statusCode, 303)
  t.equal((await p.get('/')).statusCode, 200, 'required of administrators: a plain user goes on')

  t.equal((await a.post('/settings/sign-in', { two_factor_required: 'everyone' })).statusCode, 303)
  const sent = await p.get('/')
  t.equal(sent.statusCode, 303)
  t.equal(sent.headers.location, '/profile/two-factor', 'required of everyone: the plain user is sent to set it up')
  t.equal((await p.get('/entities')).headers.location, '/profile/two-factor', 'from any page')
  const setUp = await p.get('/profile/two-factor')
  t.match(visibleText(setUp.body), 'Your company requires two-factor sign-in')
  const on = await p.post('/profile/two-factor', { code: await codeOf(db, plain) })
  t.equal(on.statusCode, 303)
  t.equal((await p.get('/')).statusCode, 200, 'once set up, the app is open again')
  const changes = await db('audit_log').where({ company_id: company.id, action: 'settings.two_factor_changed' })
  t.same(
    changes.map((c) => c.after.two_factor_required),
    ['administrators', 'everyone'],
    'each change audited',
  )
})

t.test('a user required to set it up may still sign out', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  await db('companies').where({ id: company.id }).update({ two_factor_required: 'administrators' })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  t.equal((await v.get('/')).headers.location, '/profile/two-factor')
  await v.get('/profile/two-factor')
  const out = await v.post('/logout', {})
  t.equal(out.headers.location, '/login?signed_out=1', 'signing out works')
})
