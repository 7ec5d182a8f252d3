import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'
import { aList, creditsOf } from '../helpers/screening.js'

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  await aList(db, company)
  await aList(db, company, undefined, 'peps')
  const searcher = await aUser(db, { company, name: 'Sam Searcher', permissions: ['manual_external_searches'] })
  const everyoneElse = await aUser(db, {
    company,
    name: 'Nearly Everything',
    permissions: [
      'manage_external_searches',
      'manual_external_searches',
      'approve_entity_external_searches',
      'check_entity_external_searches',
      'manage_user_accounts',
    ],
  })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    await v.get('/')
    return v
  }
  const audits = (action: string) => db('audit_log').where({ company_id: company.id, action }).orderBy('id')
  return { app, db, company, other, admin, foreigner, searcher, everyoneElse, as, audits }
}

t.test('only administrators open or change the screening settings', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.everyoneElse)
  for (const url of ['/settings/screening', '/settings/screening/credits', '/settings/screening/profiles/new'])
    t.equal((await v.get(url)).statusCode, 403, url)
  const posts: [string, Record<string, string>][] = [
    ['/settings/screening/four-eyes', { four_eyes: 'on' }],
    ['/settings/screening/credits', { amount: '50' }],
    ['/settings/screening/budget', { user: s.searcher.id, [`budget-${s.searcher.id}`]: '3' }],
    ['/settings/screening/profiles/new', { name: 'Strict', threshold: '0.95' }],
  ]
  for (const [url, fields] of posts) t.equal((await v.post(url, fields)).statusCode, 403, `POST ${url}`)
  t.match(await s.db('companies').where({ id: s.company.id }).first(), {
    screening_four_eyes: false,
    screening_credits: 0,
  })
  t.equal((await s.db('users').where({ id: s.searcher.id }).first()).manual_search_budget, null)
  t.equal((await s.db('screening_profiles').where({ company_id: s.company.id })).length, 0)
})

t.test('four-eyes review on and off, audited', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.admin)
  t.match(visibleText((await v.get('/settings/screening')).body), 'Four-eyes review of searches')
  t.equal((await v.post('/settings/screening/four-eyes', { four_eyes: 'on' })).statusCode, 303)
  t.match(visibleText((await v.get('/settings/screening')).body), 'Four-eyes review is on')
  t.equal((await s.db('companies').where({ id: s.company.id }).first()).screening_four_eyes, true)
  t.equal((await v.post('/settings/screening/four-eyes', {})).statusCode, 303)
  t.equal((await s.db('companies').where({ id: s.company.id }).first()).screening_four_eyes, false)
  t.match(await s.audits('screening.four_eyes_changed'), [
    { before: { four_eyes: false }, after: { four_eyes: true } },
    { before: { four_eyes: true }, after: { four_eyes: false } },
  ])
  t.equal((await s.db('companies').where({ id: s.other.id }).first()).screening_four_eyes, false, 'not Beta’s')
})

t.test('credits: a top-up, its ledger row and audit row; bad amounts refused with the value kept', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.admin)
  for (const amount of ['', '0', '-5', '1.5', 'ten', '100001']) {
    const res = await v.post('/settings/screening/credits', { amount, note: 'Invoice 42' })
    t.equal(res.statusCode, 422, `"${amount}" refused`)
    t.match(visibleText(res.body), 'Enter a whole number of credits from 1 to 100,000')
    t.match(res.body, 'value="Invoice 42"', 'the note is kept')
  }
  t.equal(await creditsOf(s.db, s.company), 0)
  t.equal((await v.post('/settings/screening/credits', { amount: '25', note: 'Invoice 42' })).statusCode, 303)
  t.equal(await creditsOf(s.db, s.company), 25)
  t.match(visibleText((await v.get('/settings/screening')).body), 'Credits topped up: the balance is now 25.')
  const ledger = visibleText((await v.get('/settings/screening/credits')).body)
  t.match(ledger, 'Balance: 25 credits.')
  t.match(ledger, /\+25 25 Top-up: Invoice 42 Ada/)
  t.match(await s.audits('screening.credits_topped_up'), [
    { before: { balance: 0 }, after: { balance: 25, added: 25 } },
  ])
  t.match(
    visibleText((await v.get('/settings/screening')).body),
    /Balance: 25\./,
    'no “Low” below the balance of 10 or more',
  )
})

t.test('two top-ups at once both count', async (t) => {
  const s = await setup(t)
  const [a, b] = [await s.as(s.admin), await s.as(s.admin)]
  await Promise.all([a.get('/settings/screening'), b.get('/settings/screening')])
  const answers = await Promise.all([
    a.post('/settings/screening/credits', { amount: '10' }),
    b.post('/settings/screening/credits', { amount: '15' }),
  ])
  t.same(
    answers.map((r) => r.statusCode),
    [303, 303],
  )
  t.equal(await creditsOf(s.db, s.company), 25)
  t.same(
    (await s.db('screening_credit_ledger').orderBy('balance_after'))
      .map((l) => l.balance_after)
      .sort((x, y) => x - y)
      .at(-1),
    25,
  )
})

t.test('a monthly budget per user who may run manual searches', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.admin)
  const page = visibleText((await v.get('/settings/screening')).body)
  t.match(page, 'Monthly budget of Sam Searcher')
  const bad = await v.post('/settings/screening/budget', { user: s.searcher.id, [`budget-${s.searcher.id}`]: 'lots' })
  t.equal(bad.statusCode, 422)
  t.match(visibleText(bad.body), 'Enter a whole number of searches a month')
  t.match(bad.body, `href="#budget-${s.searcher.id}"`)
  t.equal(
    (await v.post('/settings/screening/budget', { user: s.searcher.id, [`budget-${s.searcher.id}`]: '3' })).statusCode,
    303,
  )
  t.equal((await s.db('users').where({ id: s.searcher.id }).first()).manual_search_budget, 3)
  t.equal(
    (await v.post('/settings/screening/budget', { user: s.searcher.id, [`budget-${s.searcher.id}`]: '' })).statusCode,
    303,
  )
  t.equal((await s.db('users').where({ id: s.searcher.id }).first()).manual_search_budget, null)
  t.match(await s.audits('screening.budget_changed'), [
    { target_id: s.searcher.id, before: { monthly_budget: 'no limit' }, after: { monthly_budget: 3 } },
    { after: { monthly_budget: 'no limit' } },
  ])
  const foreign = await v.post('/settings/screening/budget', {
    user: s.foreigner.id,
    [`budget-${s.foreigner.id}`]: '1',
  })
  t.equal(foreign.statusCode, 409, 'another company’s user is not found')
  t.equal((await s.db('users').where({ id: s.foreigner.id }).first()).manual_search_budget, null)
})

t.test('search profiles: one default; a new one, its errors, making it the default', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.admin)
  const page = visibleText((await v.get('/settings/screening')).body)
  t.match(page, 'Standard (default): threshold 0.88, every list, date of birth used, country used')
  const bad = await v.post('/settings/screening/profiles/new', { name: '', threshold: '0.3', lists: ['nope'] })
  t.equal(bad.statusCode, 422)
  const said = visibleText(bad.body)
  t.match(said, 'Give the profile a name')
  t.match(said, 'Enter a threshold between 0.5 and 1, like 0.85')
  t.match(said, "Choose among the company's lists (nope is not one)")
  t.match(bad.body, 'value="0.3"', 'the threshold typed is kept')
  const made = await v.post('/settings/screening/profiles/new', {
    name: 'PEP check',
    threshold: '0.9',
    lists: ['peps'],
    use_birth_date: 'on',
    is_default: 'on',
  })
  t.equal(made.statusCode, 303)
  const profiles = await s.db('screening_profiles').where({ company_id: s.company.id }).orderBy('name')
  t.match(profiles, [
    {
      name: 'PEP check',
      lists: ['peps'],
      threshold: '0.900',
      use_birth_date: true,
      use_country: false,
      is_default: true,
    },
    { name: 'Standard', is_default: false },
  ])
  const taken = await v.post('/settings/screening/profiles/new', { name: 'standard', threshold: '0.9' })
  t.equal(taken.statusCode, 422)
  t.match(visibleText(taken.body), 'Another profile already has this name')
  const standard = profiles[1]
  t.equal(
    (
      await v.post(`/settings/screening/profiles/${standard.id}`, {
        name: 'Standard',
        threshold: '0.86',
        use_country: 'on',
      })
    ).statusCode,
    303,
  )
  t.match(await s.db('screening_profiles').where({ id: standard.id }).first(), {
    threshold: '0.860',
    use_birth_date: false,
  })
  t.match(await s.audits('screening.profile_changed'), [{ before: { threshold: 0.88 }, after: { threshold: 0.86 } }])
  const foreign = new Visitor(s.app)
  await foreign.login(s.foreigner.email, PASSWORD)
  t.equal((await foreign.get(`/settings/screening/profiles/${standard.id}`)).statusCode, 404, 'not Beta’s to open')
})
