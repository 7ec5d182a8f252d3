import t from 'tap'
import { buildApp } from '../../src/app.js'
import type { Db } from '../../src/db/knex.js'
import { DELIVERY, enqueueEmail, type MailTransport } from '../../src/mail/outbox.js'
import { testApp, testConfig, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, type Company, PASSWORD } from '../helpers/factories.js'
import { anEmail } from '../helpers/mail.js'
import { outboxDueNow } from '../helpers/time.js'

/** A message of the company that used up its attempts, as the worker leaves it. */
async function aFailedEmail(db: Db, company: Company, subject = 'Undeliverable'): Promise<string> {
  const row = await anEmail(db, { company, to: 'nia@example.test', subject, text: 'x', status: 'failed' })
  return String(row.id)
}

const email = (db: Db, id: string) => db('outbox_emails').where({ id }).first()
const retryAudits = (db: Db) => db('audit_log').where({ action: 'mail.retry_requested' })

t.test('an administrator sends a failed message again: it is queued afresh, audited, then delivered', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })

  // A worker whose transport fails until `up`: the message uses up its attempts and is marked failed.
  let up = false
  const sent: string[] = []
  const transport: MailTransport = {
    async send(message) {
      if (!up) throw new Error('connection refused')
      sent.push(message.to)
    },
  }
  const worker = await buildApp({ config: testConfig(), db, logger: false, mail: { transport } })
  t.teardown(() => worker.close())
  await enqueueEmail(db, { companyId: company.id, to: 'nia@example.test', subject: 'Welcome', text: 'Hello' })
  for (let i = 0; i < DELIVERY.maxAttempts; i++) {
    await worker.deliverMail()
    await outboxDueNow(db)
  }
  const failed = await db('outbox_emails').first()
  t.equal(failed.status, 'failed')
  t.equal(failed.attempts, DELIVERY.maxAttempts)
  t.equal(await worker.deliverMail(), 0, 'a failed message is not tried again by itself')

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const page = (await v.get('/settings/outgoing-email')).body
  t.match(page, `action="/settings/outgoing-email/${failed.id}/retry"`, 'the failed message has a Send again form')
  t.match(visibleText(page), 'Send again Welcome')

  const res = await v.post(`/settings/outgoing-email/${failed.id}/retry`, {})
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/settings/outgoing-email')
  t.match(visibleText((await v.get('/settings/outgoing-email')).body), '“Welcome” will be sent again.')
  const queued = await email(db, failed.id)
  t.equal(queued.status, 'pending')
  t.equal(queued.attempts, 0)
  t.ok(new Date(queued.next_attempt_at).getTime() <= Date.now() + 1000, 'due now')
  const [audit] = await retryAudits(db)
  t.match(audit, {
    company_id: company.id,
    actor_user_id: admin.id,
    target_type: 'email',
    target_id: String(failed.id),
  })
  t.same(audit.before, { status: 'failed', attempts: DELIVERY.maxAttempts })
  t.same(audit.after, { status: 'pending' })

  // A second click (or a second tab) finds it no longer failed: nothing more happens.
  await v.post(`/settings/outgoing-email/${failed.id}/retry`, {})
  t.equal((await retryAudits(db)).length, 1, 'audited once')
  t.equal((await email(db, failed.id)).attempts, 0)

  up = true
  t.equal(await worker.deliverMail(), 1)
  t.same(sent, ['nia@example.test'])
  const delivered = await email(db, failed.id)
  t.equal(delivered.status, 'sent')
  t.equal(delivered.attempts, 1)
})

t.test('a user who is not an administrator cannot send a failed message again', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const manager = await aUser(db, { company, permissions: ['manage_user_accounts'] })
  const id = await aFailedEmail(db, company)

  const v = new Visitor(app)
  await v.login(manager.email, PASSWORD)
  t.equal((await v.post(`/settings/outgoing-email/${id}/retry`, {})).statusCode, 403)
  t.match(await email(db, id), { status: 'failed', attempts: DELIVERY.maxAttempts })
  t.equal((await retryAudits(db)).length, 0)
})

t.test('another company’s message, an unknown id or one that is not a whole number is not found', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const other = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const foreign = await aFailedEmail(db, other, 'Beta only')

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get('/settings/outgoing-email')
  for (const id of [foreign, '999999', '1.5', 'abc', '99999999999999999999']) {
    t.equal((await v.post(`/settings/outgoing-email/${id}/retry`, {})).statusCode, 404, id)
  }
  t.match(await email(db, foreign), { status: 'failed', attempts: DELIVERY.maxAttempts })
  t.equal((await retryAudits(db)).length, 0)
})

t.test('a message that has not failed is not sent again, and nothing changes', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const pending = await anEmail(db, {
    company,
    to: 'a@example.test',
    subject: 'Waiting',
    text: 'x',
    status: 'pending',
    attempts: 3,
  })
  const sent = await anEmail(db, { company, to: 'b@example.test', subject: 'Done', text: 'x', status: 'sent' })

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const page = (await v.get('/settings/outgoing-email')).body
  t.notMatch(page, '/retry"', 'no Send again form for a message that has not failed')
  for (const before of [pending, sent]) {
    const res = await v.post(`/settings/outgoing-email/${before.id}/retry`, {})
    t.equal(res.statusCode, 303)
    t.match(
      visibleText((await v.get('/settings/outgoing-email')).body),
      `That email was not sent again: it is ${before.status}, not failed.`,
    )
    t.same(await email(db, before.id), before, `the ${before.status} message is unchanged`)
  }
  t.equal((await retryAudits(db)).length, 0)
})
