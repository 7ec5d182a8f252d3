import t from 'tap'
import { writeAudit } from '../../src/audit/audit.js'
import { createDb } from '../../src/db/knex.js'
import { testDatabase } from '../helpers/database.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, digestAt } from '../helpers/factories.js'
import { crashedDigestRuns } from '../helpers/time.js'
import { appWithQueue, eventually, jobRows } from './helpers.js'

t.test('two server processes with queues, the digest due: one digest per user and day', async (t) => {
  const { db, url } = await testDatabase(t)
  const db2 = createDb(url)
  t.teardown(() => db2.destroy())
  const company = await aCompany(db, 'Digest Partners')
  // Due now, whatever the time: the digest hour is midnight UTC.
  await digestAt(db, company, { hour: 0, timeZone: 'UTC' })
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const users = [
    admin,
    await aUser(db, { company, permissions: ['read_data'] }),
    await aUser(db, { company, permissions: ['read_data'] }),
  ]
  const client = await anEntity(db, { company, owner: admin, name: 'Busy Client Ltd' })
  await writeAudit(db, {
    companyId: company.id,
    actorUserId: admin.id,
    action: 'entity.updated',
    targetType: 'entity',
    targetId: client.id,
  })

  const one = await appWithQueue(t, { db, url })
  const two = await appWithQueue(t, { db: db2, url })
  const allDone = async () =>
    (await jobRows(db, 'digest.check')).every((r) => r.state === 'completed') &&
    (await db('digest_runs').whereNull('finished_at')).length === 0

  // Both processes send the check several times at once; each is run by whichever worker takes it.
  await Promise.all([
    one.queue.send('digest.check'),
    two.queue.send('digest.check'),
    one.queue.send('digest.check'),
    two.queue.send('digest.check'),
  ])
  await eventually('the checks to run', async () => (await jobRows(db, 'digest.check')).length > 0 && allDone())
  const day = new Date().toISOString().slice(0, 10)
  const digests = async () => db('outbox_emails').where('subject', `Daily digest for ${day}`)
  t.equal((await digests()).length, 3, 'one digest for each of the three users')

  // A run that crashed half-way (its claim left unfinished for 15 minutes) is taken again by a later check,
  // and queues no second digest.
  await crashedDigestRuns(db, db.raw("now() - interval '20 minutes'"))
  const sent = await Promise.all([one.queue.send('digest.check'), two.queue.send('digest.check')])
  t.ok(sent.some(Boolean), 'a check was sent')
  await eventually('the retaken claim to finish', allDone)
  const emails = await digests()
  t.equal(emails.length, 3, 'still one digest for each user')
  t.same(emails.map((e) => e.to_address).sort(), users.map((u) => u.email).sort())
  t.equal(new Set(emails.map((e) => e.dedupe_key)).size, 3)
  t.match(emails[0]?.body_text, 'Busy Client Ltd')
  const runs = await jobRows(db, 'digest.check')
  t.ok(runs.length >= 2, `${runs.length} runs of the check, all completed`)
})
