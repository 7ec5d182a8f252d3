import { Readable } from 'node:stream'
import t from 'tap'
import type { JobDefinition } from '../../src/jobs/definitions.js'
import { enqueueEmail, type MailTransport } from '../../src/mail/outbox.js'
import { testDatabase } from '../helpers/database.js'
import { aCompany, aSession, aStorageDeletion } from '../helpers/factories.js'
import { appWithQueue, eventually, jobRows } from './helpers.js'

t.test('the queue runs jobs sent through pg-boss: the storage sweep removes queued bytes', async (t) => {
  const { db, url } = await testDatabase(t)
  const { app, queue, storage } = await appWithQueue(t, { db, url })
  const stored = await storage.put(Readable.from([Buffer.from('bytes whose row is gone')]))
  await aStorageDeletion(db, stored.key)

  t.ok(await queue.send('storage.sweep'), 'sent through pg-boss')
  await eventually('the sweep', async () => (await db('storage_deletions')).length === 0)
  await t.rejects(storage.get(stored.key), 'the bytes are gone')
  const [run] = await eventually('the job to complete', async () =>
    (await jobRows(db, 'storage.sweep')).filter((r) => r.state === 'completed'),
  )
  t.same(run?.output, { removed: 1 }, 'pg-boss keeps what the run did')
  t.equal(run?.retry_limit, 3, 'the retry policy of the job')
  t.equal(run?.retry_backoff, true)
  t.equal(run?.policy, 'stately', 'at most one waiting and one running')

  const schedules = await db.withSchema('pgboss').from('schedule').orderBy('name').select('name', 'cron', 'timezone')
  t.same(schedules, [
    { name: 'auth.password_resets', cron: '* * * * *', timezone: 'UTC' },
    { name: 'digest.check', cron: '* * * * *', timezone: 'UTC' },
    { name: 'forms.sweep', cron: '17 * * * *', timezone: 'UTC' },
    { name: 'outbox.deliver', cron: '* * * * *', timezone: 'UTC' },
    { name: 'portal.reminders', cron: '23 * * * *', timezone: 'UTC' },
    { name: 'rate_limits.sweep', cron: '*/10 * * * *', timezone: 'UTC' },
    { name: 'risk.recheck', cron: '* * * * *', timezone: 'UTC' },
    { name: 'screening.nightly', cron: '0 2 * * *', timezone: 'UTC' },
    { name: 'sessions.sweep', cron: '*/10 * * * *', timezone: 'UTC' },
    { name: 'storage.sweep', cron: '*/10 * * * *', timezone: 'UTC' },
  ])
  t.ok(app.jobs.queue, 'the app has its queue')
})

t.test('outbox.deliver delivers through the transport, keeps delivering, and ends when the app closes', async (t) => {
  const { db, url } = await testDatabase(t)
  const company = await aCompany(db)
  const sent: string[] = []
  const transport: MailTransport = {
    async send(message) {
      sent.push(message.to)
    },
  }
  const { app, queue } = await appWithQueue(t, { db, url, transport })
  await enqueueEmail(db, { companyId: company.id, to: 'first@example.test', subject: 'First', text: 'x' })
  await queue.send('outbox.deliver')
  await eventually('the first message', async () => sent.length === 1)
  t.equal((await db('outbox_emails').first()).status, 'sent')

  // The same run keeps delivering every 5 seconds: a message queued now goes out within seconds.
  await enqueueEmail(db, { companyId: company.id, to: 'second@example.test', subject: 'Second', text: 'x' })
  await eventually('the second message', async () => sent.length === 2, 8000)
  t.same(sent, ['first@example.test', 'second@example.test'], 'each message once')
  // (The queue also sent one when it started: at most one waits while one runs.)
  t.equal(
    (await jobRows(db, 'outbox.deliver')).filter((r) => r.state === 'active').length,
    1,
    'one run at a time, still delivering',
  )

  const closing = Date.now()
  await app.close()
  t.ok(Date.now() - closing < 5000, 'stopping ends the running job early instead of waiting out its minute')
  const runs = await jobRows(db, 'outbox.deliver')
  t.same(
    runs.filter((r) => r.state !== 'created').map((r) => [r.state, r.output]),
    [['completed', { sent: 2 }]],
    'the run completed, with what it sent',
  )
})

t.test(
  'runNow runs a job in this process, recorded by pg-boss; a queue that does not work runs nothing itself',
  async (t) => {
    const { db, url } = await testDatabase(t)
    const { app } = await appWithQueue(t, { db, url, work: false })
    await aSession(db, {
      sid: 'expired-session',
      createdAt: new Date(Date.now() - 13 * 3600_000),
      lastSeenAt: new Date(Date.now() - 13 * 3600_000),
    })
    t.same(await app.jobs.runNow('sessions.sweep'), { deleted: 1 })
    t.equal((await db('sessions')).length, 0, 'the expired session is gone')
    const rows = await jobRows(db, 'sessions.sweep')
    t.same(
      rows.map((r) => [r.state, r.output]),
      [['completed', { deleted: 1 }]],
      'recorded like a scheduled run',
    )
    t.same(await db.withSchema('pgboss').from('schedule'), [], 'no schedule written by a queue that does not work')

    // Sent, but nobody works: it waits.
    await app.jobs.queue?.send('storage.sweep')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.same(
      (await jobRows(db, 'storage.sweep')).map((r) => r.state),
      ['created'],
    )
    await t.rejects(app.jobs.runNow('no.such.job'), /no job named no.such.job/)
  },
)

t.test(
  'closing the app lets a running job finish within the grace period, else hands it back to the queue',
  async (t) => {
    const { db, url } = await testDatabase(t)
    let release: () => void = () => {}
    const finished: string[] = []
    /** A job that runs until the test releases it (or for ever), as a long sweep would. */
    const slow = (name: string): JobDefinition => ({
      name,
      title: name,
      retryLimit: 2,
      retryDelaySeconds: 1,
      expireInSeconds: 60,
      async run() {
        await new Promise<void>((resolve) => {
          release = resolve
        })
        finished.push(name)
        return { done: 1 }
      },
    })

    await t.test('a job that ends within the grace period completes', async (t) => {
      // shutdownGraceSeconds 5: the queue waits for running jobs 3 s (src/jobs/plugin.ts).
      const { app, queue } = await appWithQueue(t, {
        db,
        url,
        jobs: [slow('test.slow')],
        config: { shutdownGraceSeconds: 5 },
      })
      await queue.send('test.slow')
      await eventually('the job to run', async () => (await jobRows(db, 'test.slow')).some((r) => r.state === 'active'))
      const closing = app.close()
      setTimeout(() => release(), 1_000)
      await closing
      t.same(finished, ['test.slow'], 'the job ran to its end')
      t.same(
        (await jobRows(db, 'test.slow')).map((r) => r.state),
        ['completed'],
        'and pg-boss recorded it completed',
      )
    })

    await t.test('a job still running when the grace period ends goes back to its queue', async (t) => {
      const { app, queue } = await appWithQueue(t, {
        db,
        url,
        jobs: [slow('test.stuck')],
        config: { shutdownGraceSeconds: 3 },
      })
      await queue.send('test.stuck')
      await eventually('the job to run', async () =>
        (await jobRows(db, 'test.stuck')).some((r) => r.state === 'active'),
      )
      const started = Date.now()
      await app.close()
      const took = Date.now() - started
      t.ok(took < 3_000, `the queue stopped within the grace period (${took} ms)`)
      const [row] = await jobRows(db, 'test.stuck')
      t.equal(row?.state, 'retry', 'the job waits for its retry, for whichever process works next')
      release()
    })
  },
)
