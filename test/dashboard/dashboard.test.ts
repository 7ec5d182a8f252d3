/**
 * The dashboard is a work queue (issue 12): what waits for the reader, each with a count and a link; the
 * permission descriptions are on the reader's own profile page.
 */
import t from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aShare, aUser, clientAccessOn, PASSWORD, twoCompanies, unshareAll } from '../helpers/factories.js'

t.test(
  'access requests to decide wait on the dashboard of those who decide them, with a count and a link',
  async (t) => {
    const { app, db } = await testApp(t)
    const { company, admin } = await twoCompanies(db)
    const owner = await aUser(db, { company, name: 'Owen Owner', permissions: ['read_data'] })
    const asker = await aUser(db, { company, name: 'Asha Asker', permissions: ['read_data'] })
    await clientAccessOn(db, company, { allowAccessRequests: true })
    const clients = [
      await anEntity(db, { company, owner, name: 'First Ltd' }),
      await anEntity(db, { company, owner, name: 'Second Ltd' }),
    ]
    const a = new Visitor(app)
    await a.login(asker.email, PASSWORD)
    for (const client of clients) {
      await unshareAll(db, client)
      await a.get(`/entities/${client.id}/sharing`)
      t.equal((await a.post(`/entities/${client.id}/access-requests`, { message: '' })).statusCode, 303)
    }
    await aShare(db, { company, client: clients[0] as { id: string }, user: asker })

    const o = new Visitor(app)
    await o.login(owner.email, PASSWORD)
    const dashboard = await o.get('/')
    t.match(visibleText(dashboard.body), 'Waiting for you 2 access requests to decide')
    t.match(
      dashboard.body,
      /<a href="\/access-requests"><strong class="count">2<\/strong> access requests to decide<\/a>/,
    )

    const asked = visibleText((await a.get('/')).body)
    t.match(asked, 'Waiting for you Nothing is waiting for you.', 'the asker decides nothing')
    t.notMatch(asked, 'What you can do', 'the permissions moved to the profile')

    const ad = new Visitor(app)
    await ad.login(admin.email, PASSWORD)
    t.match(visibleText((await ad.get('/')).body), '2 access requests to decide', 'the administrator decides them too')
  },
)

t.test('the profile shows who the reader is and what each of their permissions lets them do', async (t) => {
  const { app, db } = await testApp(t)
  const { company } = await twoCompanies(db)
  const clerk = await aUser(db, { company, name: 'Cal Clerk', permissions: ['read_data'] })
  const none = await aUser(db, { company, name: 'Nel None', permissions: [] })
  const v = new Visitor(app)
  await v.login(clerk.email, PASSWORD)
  const page = await v.get('/profile')
  t.equal(page.statusCode, 200)
  const text = visibleText(page.body)
  t.match(text, `Your profile Name Cal Clerk Email address ${clerk.email} Company ${company.name}`)
  t.match(text, 'What you can do Read Data: View information only.')
  t.match(page.body, '<a href="/profile" aria-current="page">', 'the header link to it is current')
  const n = new Visitor(app)
  await n.login(none.email, PASSWORD)
  t.match(visibleText((await n.get('/profile')).body), 'You have no permissions yet.')
})
