import t from 'tap'
import { buildApp } from '../../src/app.js'
import { browserInWords } from '../../src/sessions/user-agent.js'
import { testApp, testConfig, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aSession, aUser, PASSWORD } from '../helpers/factories.js'

t.test('Signout Users ends every session of a user at once, on every server process', async (t) => {
  const { app, db, url } = await testApp(t)
  const company = await aCompany(db, 'Alpha Advisers')
  const other = await aCompany(db, 'Beta Bank')
  const officer = await aUser(db, { company, name: 'Sid Signout', permissions: ['signout_users'] })
  const target = await aUser(db, { company, name: 'Tom Target', permissions: ['read_data'] })
  const foreigner = await aUser(db, { company: other, name: 'Fay Foreign' })
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })

  // A second server process over the same database.
  const { createDb } = await import('../../src/db/knex.js')
  const db2 = createDb(url)
  const app2 = await buildApp({ config: testConfig(), db: db2, logger: false })
  t.teardown(async () => {
    await app2.close()
    await db2.destroy()
  })

  const laptop = new Visitor(app)
  const phone = new Visitor(app2)
  await laptop.login(target.email, PASSWORD)
  await phone.login(target.email, PASSWORD)
  const f = new Visitor(app)
  await f.login(foreigner.email, PASSWORD)

  const v = new Visitor(app)
  await v.login(officer.email, PASSWORD)
  const list = visibleText((await v.get('/settings/sessions')).body)
  t.match(list, /Tom Target \S+ 2 /)
  t.notMatch(list, 'Fay Foreign', 'only this company’s sessions')
  const detail = await v.get(`/settings/users/${target.id}/sessions`)
  t.equal(detail.statusCode, 200)
  t.notMatch(detail.body, laptop.cookies.get('kyc.sid')?.split('.')[0] as string, 'session ids never appear on a page')
  t.match(visibleText(detail.body), 'Sign Tom Target out of all sessions')

  const res = await v.post(`/settings/users/${target.id}/sessions/end`, {})
  t.equal(res.statusCode, 303)
  const after = await v.get(String(res.headers.location))
  t.match(visibleText(after.body), 'Tom Target was signed out of 2 sessions.')
  t.match(visibleText(after.body), 'No active sessions.')
  t.notMatch(visibleText(after.body), 'out of all sessions', 'nothing to sign out of: no button offered')
  t.equal((await laptop.get('/')).statusCode, 303, 'the laptop must sign in again')
  t.equal((await phone.get('/')).statusCode, 303, 'so must the phone, served by the other process')
  const audit = await db('audit_log').where({ action: 'user.signed_out', target_id: target.id }).first()
  t.same(audit.after, { sessions_ended: 2 })
  t.equal(audit.actor_user_id, officer.id)

  await v.get('/settings/sessions')
  t.equal((await v.post(`/settings/users/${foreigner.id}/sessions/end`, {})).statusCode, 404)
  t.equal((await f.get('/')).statusCode, 200, 'another company’s user is untouched')

  const r = new Visitor(app)
  await r.login(reader.email, PASSWORD)
  t.equal((await r.get('/settings/sessions')).statusCode, 403)
  await r.get('/')
  t.equal((await r.post(`/settings/users/${officer.id}/sessions/end`, {})).statusCode, 403)
  t.equal((await v.get('/')).statusCode, 200, 'nothing happened to the officer')
})

t.test('users see and end their own sessions from their profile', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const user = await aUser(db, { company })
  const someoneElse = await aUser(db, { company })
  const here = new Visitor(app)
  const there = new Visitor(app)
  await here.login(user.email, PASSWORD)
  await there.login(user.email, PASSWORD)
  const elsewhere = new Visitor(app)
  await elsewhere.login(someoneElse.email, PASSWORD)

  const page = await here.get('/profile/sessions')
  t.equal(page.statusCode, 200)
  t.match(visibleText(page.body), '(this browser)')
  const endable = [...page.body.matchAll(/action="\/profile\/sessions\/([0-9a-f-]+)\/end"/g)].map((m) => m[1])
  t.equal(endable.length, 1, 'the other session can be ended; this one is ended by signing out')
  const res = await here.post(`/profile/sessions/${endable[0]}/end`, {})
  t.equal(res.statusCode, 303)
  t.equal((await there.get('/')).statusCode, 303, 'the other browser is signed out')
  t.equal((await here.get('/')).statusCode, 200, 'this one is not')

  const foreignSession = (await db('sessions').where({ user_id: someoneElse.id }).first()).id
  await here.get('/profile/sessions')
  t.equal((await here.post(`/profile/sessions/${foreignSession}/end`, {})).statusCode, 404, 'not someone else’s')
  t.equal((await elsewhere.get('/')).statusCode, 200)
})

t.test('sessions name the browser and system in words, not the raw User-Agent', async (t) => {
  const chrome =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.8078.73 Safari/537.36'
  const iphone =
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
  const windows = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'
  t.equal(browserInWords(chrome), 'Chrome 156 on Linux')
  t.equal(browserInWords(iphone), 'Safari 17 on iOS 17.4')
  t.equal(browserInWords(windows), 'Firefox 128 on Windows 10')
  t.equal(browserInWords(''), undefined)
  t.equal(browserInWords('curl/8.1'), 'curl/8.1', 'unknown to the parser: shown as sent')

  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const officer = await aUser(db, { company, permissions: ['signout_users'] })
  const target = await aUser(db, { company, name: 'Una Agent' })
  await aSession(db, { sid: 'ua-session-1', user: target, userAgent: chrome })
  const v = new Visitor(app)
  await v.login(officer.email, PASSWORD)
  const page = visibleText((await v.get(`/settings/users/${target.id}/sessions`)).body)
  t.match(page, 'Chrome 156 on Linux')
  t.notMatch(page, 'Mozilla/5.0')
})
