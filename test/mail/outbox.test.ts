import { SMTPServer } from 'smtp-server'
import t from 'tap'
import { freePort } from '../../scripts/test-database.js'
import { buildApp } from '../../src/app.js'
import { createDb } from '../../src/db/knex.js'
import { backoffSeconds, enqueueEmail } from '../../src/mail/outbox.js'
import { smtpTransport } from '../../src/mail/smtp.js'
import { testApp, testConfig, Visitor, visibleText } from '../helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'
import { outboxDueNow } from '../helpers/time.js'

interface Received {
  to: string
  messageId: string
  raw: string
}

/** A real SMTP server in this process, collecting what it receives. */
async function smtpServer(port: number, received: Received[]) {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (c: Buffer) => {
        raw += c.toString()
      })
      stream.on('end', () => {
        const messageId = /^Message-ID: (.*)$/im.exec(raw)?.[1]?.trim() ?? ''
        received.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), messageId, raw })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

t.test('the outbox delivers through SMTP, retries after a failure, and never sends a message twice', async (t) => {
  const port = await freePort()
  const { db, url } = await testApp(t)
  const company = await aCompany(db)
  const transport = smtpTransport(`smtp://127.0.0.1:${port}`)
  const config = testConfig({ smtpUrl: `smtp://127.0.0.1:${port}` })
  // Two server processes over the same database, each delivering (as the job outbox.deliver does, through
  // app.deliverMail) at the same time.
  const db2 = createDb(url)
  const app1 = await buildApp({ config, db, logger: false, mail: { transport } })
  const app2 = await buildApp({ config, db: db2, logger: false, mail: { transport } })
  t.teardown(async () => {
    await app1.close()
    await app2.close()
    await db2.destroy()
  })

  // Server down: the message stays pending with the error and a later attempt time.
  await enqueueEmail(db, { companyId: company.id, to: 'first@example.test', subject: 'First', text: 'Hello' })
  t.equal(await app1.deliverMail(), 0)
  const failed = await db('outbox_emails').where({ to_address: 'first@example.test' }).first()
  t.equal(failed.status, 'pending')
  t.equal(failed.attempts, 1)
  t.match(failed.last_error, /ECONNREFUSED|connect/i)
  t.ok(new Date(failed.next_attempt_at).getTime() > Date.now() + 20_000, 'retried later, with backoff')
  t.equal(await app1.deliverMail(), 0, 'not retried before its time')

  const received: Received[] = []
  const server = await smtpServer(port, received)
  t.teardown(server.close)
  await outboxDueNow(db)
  t.equal(await app1.deliverMail(), 1, 'delivered once the server is back')
  t.equal(received.length, 1)
  t.equal(received[0]?.to, 'first@example.test')
  t.match(received[0]?.raw, 'Subject: First')
  const sent = await db('outbox_emails').where({ to_address: 'first@example.test' }).first()
  t.equal(sent.status, 'sent')
  t.equal(sent.attempts, 2)
  t.ok(sent.sent_at)

  // Many messages, two processes delivering at the same time: each message arrives exactly once.
  for (let i = 0; i < 20; i++) {
    await enqueueEmail(db, { companyId: company.id, to: `bulk${i}@example.test`, subject: `Bulk ${i}`, text: 'x' })
  }
  let rounds = 0
  while ((await db('outbox_emails').where({ status: 'pending' })).length > 0 && rounds++ < 10) {
    await Promise.all([app1.deliverMail(), app2.deliverMail(), app1.deliverMail()])
  }
  const ids = received.map((r) => r.messageId)
  t.equal(received.length, 21)
  t.equal(new Set(ids).size, ids.length, 'no message was delivered twice')
  t.equal((await db('outbox_emails').where({ status: 'sent' })).length, 21)
  t.equal(await app1.deliverMail(), 0, 'nothing left to send')
})

t.test('a dedupe key makes a message idempotent', async (t) => {
  const { db } = await testApp(t)
  const company = await aCompany(db)
  const first = await enqueueEmail(db, {
    companyId: company.id,
    to: 'a@example.test',
    subject: 'Digest',
    text: 'x',
    dedupeKey: 'digest:u1:2026-11-24',
  })
  const again = await enqueueEmail(db, {
    companyId: company.id,
    to: 'a@example.test',
    subject: 'Digest',
    text: 'x',
    dedupeKey: 'digest:u1:2026-11-24',
  })
  t.same([first, again], [true, false])
  t.equal((await db('outbox_emails')).length, 1)
})

t.test('backoff grows and is capped at an hour', async (t) => {
  t.same([1, 2, 3, 4].map(backoffSeconds), [30, 60, 120, 240])
  t.equal(backoffSeconds(20), 3600)
})

t.test('without SMTP, administrators read what would be sent at Settings > Outgoing email', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db, 'Alpha Advisers')
  const other = await aCompany(db, 'Beta Bank')
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const manager = await aUser(db, { company, permissions: ['manage_user_accounts'] })
  await enqueueEmail(db, {
    companyId: company.id,
    to: 'nia@example.test',
    subject: 'You are invited',
    text: 'Link: http://kyc.test/x',
  })
  await enqueueEmail(db, { companyId: other.id, to: 'secret@beta.test', subject: 'Beta only', text: 'x' })
  t.equal(await app.deliverMail(), 0, 'no SMTP: nothing is sent')

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const page = visibleText((await v.get('/settings/outgoing-email')).body)
  t.match(page, 'No SMTP server is configured (SMTP_URL), so messages are kept here and not sent.')
  t.match(page, 'You are invited To nia@example.test')
  t.match(page, 'Status: kept (no SMTP server)')
  t.match(page, 'Link: http://kyc.test/x')
  t.notMatch(page, 'Beta only', 'never another company’s mail')

  const m = new Visitor(app)
  await m.login(manager.email, PASSWORD)
  t.equal((await m.get('/settings/outgoing-email')).statusCode, 403)
})
