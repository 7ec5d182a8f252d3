import t from 'tap'
import { cronInWords, nextCronTime } from '../../src/jobs/cron.js'
import { JOBS, type JobDefinition } from '../../src/jobs/definitions.js'
import { fmt } from '../../src/plugins/app/render.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'
import { appWithQueue, eventually, jobRows } from './helpers.js'

t.test('a failing job is retried with a doubling wait, and its error shows on Background jobs', async (t) => {
  const { db, url } = await testDatabase(t)
  const attempts: number[] = []
  const failing: JobDefinition = {
    name: 'test.always-fails',
    title: 'Always failing test job',
    retryLimit: 2,
    retryDelaySeconds: 1,
    expireInSeconds: 30,
    async run() {
      attempts.push(Date.now())
      throw new Error('the test job broke (as intended)\n    at somewhere (/srv/kyc/src/secret.ts:1:1)')
    },
  }
  const { app, queue } = await appWithQueue(t, { db, url, jobs: [...JOBS, failing] })
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const reader = await aUser(db, { company, permissions: ['read_data'] })

  await queue.send('test.always-fails')
  const [failed] = await eventually(
    'the job to give up',
    async () => (await jobRows(db, 'test.always-fails')).filter((r) => r.state === 'failed'),
    20_000,
  )
  t.equal(attempts.length, 3, 'the first attempt and two retries')
  const [first = 0, second = 0, third = 0] = attempts
  t.ok(second - first >= 1000, `the first retry waited at least the retry delay (${second - first} ms)`)
  t.ok(third - second >= 2000, `the second retry waited at least twice as long (${third - second} ms)`)
  t.equal(failed?.retry_count, 2)
  t.notOk('stack' in (failed?.output ?? {}), 'pg-boss keeps the message, not the stack')

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const res = await v.get('/settings/jobs')
  t.equal(res.statusCode, 200)
  const page = visibleText(res.body)
  t.match(page, 'Recent failures')
  t.match(
    page,
    /Always failing test job test\.always-fails \d{4}-\d\d-\d\d \d\d:\d\d UTC 3 of 3 the test job broke \(as intended\) Gave up/,
  )
  t.notMatch(res.body, 'secret.ts', 'never a stack trace')
  t.match(page, 'Always failing test job test.always-fails only when sent Failed')

  const r = new Visitor(app)
  await r.login(reader.email, PASSWORD)
  t.equal((await r.get('/settings/jobs')).statusCode, 403, 'administrators only')
  t.notMatch(visibleText((await r.get('/settings/users')).body), 'Background jobs', 'not in the navigation of others')
  t.match(visibleText((await v.get('/settings/users')).body), 'Outgoing email Background jobs', 'after Outgoing email')
})

t.test('the page shows each schedule in words with its last and next run', async (t) => {
  const { db, url } = await testDatabase(t)
  const { app } = await appWithQueue(t, { db, url })
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  t.same(await app.jobs.runNow('storage.sweep'), { removed: 0 }, 'a run now, beside the workers')
  await eventually('the run to be recorded', async () =>
    (await jobRows(db, 'storage.sweep')).some((r) => r.state === 'completed'),
  )

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const before = new Date()
  const page = visibleText((await v.get('/settings/jobs')).body)
  const after = new Date()
  const next = (cron: string) =>
    new Set([fmt.dateTime(nextCronTime(cron, 'UTC', before)), fmt.dateTime(nextCronTime(cron, 'UTC', after))])
  const row = (title: string, name: string, every: string, cron: string) =>
    new RegExp(
      `${title} ${name.replace('.', '\\.')} ${every} (Not run yet|Completed|Running since|Failed).*? (${[...next(cron)].join('|')})`,
    )
  t.match(page, row('Outgoing email delivery', 'outbox.deliver', 'every minute', '* * * * *'))
  t.match(page, row('Daily digest', 'digest.check', 'every minute', '* * * * *'))
  t.match(page, row('Expired sessions sweep', 'sessions.sweep', 'every 10 minutes', '*/10 * * * *'))
  t.match(page, row('Document storage sweep', 'storage.sweep', 'every 10 minutes', '*/10 * * * *'))
  t.match(page, row('Sent forms sweep', 'forms.sweep', 'every hour at minute 17', '17 * * * *'))
  t.match(
    page,
    /Document storage sweep storage\.sweep every 10 minutes Completed \d{4}-\d\d-\d\d \d\d:\d\d UTC \(0 removed\)/,
    'the last run: when, and what it did',
  )
  t.match(page, 'No failed runs.')
})

t.test('without a job queue the page says nothing is scheduled; runNow needs a queue', async (t) => {
  const { app, db } = await testApp(t)
  const admin = await aUser(db, { company: await aCompany(db), permissions: ['system_administrator'] })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const page = visibleText((await v.get('/settings/jobs')).body)
  t.match(page, 'Daily digest digest.check every minute Not run yet Not scheduled: no server has started the job queue')
  t.equal((await v.get('/settings/jobs?page=2')).statusCode, 200, 'an unknown parameter is dropped')
  await t.rejects(app.jobs.runNow('storage.sweep'), /no job queue/)
})

t.test('cron expressions in words, and their next time', async (t) => {
  t.equal(cronInWords('* * * * *'), 'every minute')
  t.equal(cronInWords('*/10 * * * *'), 'every 10 minutes')
  t.equal(cronInWords('15 * * * *'), 'every hour at minute 15')
  t.equal(cronInWords('30 2 * * *', 'Europe/London'), 'every day at 02:30 Europe/London')
  t.equal(cronInWords('0 9 * * 1-5'), 'cron “0 9 * * 1-5” (UTC)')
  t.equal(cronInWords('nonsense'), 'cron “nonsense”')
  t.same(nextCronTime('*/10 * * * *', 'UTC', new Date('2030-01-01T10:03:00Z')), new Date('2030-01-01T10:10:00Z'))
  t.same(
    nextCronTime('30 2 * * *', 'Europe/London', new Date('2030-06-01T12:00:00Z')),
    new Date('2030-06-02T01:30:00Z'),
    'in the schedule’s time zone',
  )
})
