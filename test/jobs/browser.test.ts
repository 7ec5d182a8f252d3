import t from 'tap'
import { JOBS } from '../../src/jobs/definitions.js'
import { JobQueue } from '../../src/jobs/queue.js'
import { FileSystemStorage } from '../../src/storage/document-storage.js'
import { accountRecord, mainText, signInByKeyboard } from '../browser/flows.js'
import { testConfig } from '../helpers/app.js'
import { browserSuite } from '../helpers/browser.js'
import { aCompany, aUser, type Company } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  // Runs recorded by pg-boss for the page to show: a completed sweep and a failed digest check (through a
  // queue that does not work, whose digest check fails on purpose).
  let company: Company | undefined
  await t.test('pg-boss has runs to show', async (t) => {
    company = await aCompany(db)
    const { connectionString } = db.client.config.connection as { connectionString: string }
    const digest = JOBS.find((j) => j.name === 'digest.check')
    if (!digest) throw new Error('no digest.check job')
    const queue = new JobQueue({
      connectionString,
      work: false,
      jobs: JOBS.map((j) =>
        j === digest
          ? {
              ...j,
              run: async () => {
                throw new Error('the mail server said no')
              },
            }
          : j,
      ),
    })
    await queue.start({
      db,
      config: testConfig(),
      storage: new FileSystemStorage('/nonexistent'),
      deliverMail: async () => 0,
      mailTransport: false,
      log: suite.app.log,
    })
    await queue.runNow('storage.sweep')
    await t.rejects(queue.runNow('digest.check'), /the mail server said no/)
    await queue.stop()
  })

  // (No await between the subtest and the flow: tap ends a file whose root test is idle.)
  await suite.flow('an administrator looks at the background jobs', async (s, t) => {
    if (!company) throw new Error('no company')
    const admin = await aUser(db, { company, permissions: ['system_administrator'] })
    await signInByKeyboard(s, t, admin)
    await s.tabTo('link', 'Settings')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
    await s.tabTo('link', 'Background jobs')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Background jobs', h1: 'Background jobs', status: 200 })
    const text = await mainText(s)
    t.match(text, /Document storage sweep storage\.sweep every 10 minutes Completed .* UTC \(0 removed\)/)
    t.match(text, /Daily digest digest\.check \S+ \S+ UTC 1 of 4 the mail server said no Tries again at/)
    return { path: s.path, record: await accountRecord(db, admin) }
  })

  await suite.validateSavedPages()
}
