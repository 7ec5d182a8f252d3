import t, { type Test } from 'tap'
import { recheckAll, recheckRisk } from '../../src/risk/risk-state.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity, entityVersion, initialiseSharing } from '../helpers/entities.js'
import { aService, aShare, aUser, clientAccessOn, PASSWORD, twoCompanies } from '../helpers/factories.js'

/**
 * Each assessed client's risk state (entity_risk): what the client list shows, filters and sorts by, kept
 * current when the client, its services, the rule set or an override's end change it.
 */
async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  await clientAccessOn(db, company)
  const assessor = await aUser(db, {
    company,
    name: 'Otto Override',
    permissions: ['override_risk_assessments', 'edit_entities'],
  })
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })
  const trust = await anEntity(db, { company, owner: admin, name: 'Harbour Trust', kind: 'organisation' })
  await db('entities').where({ id: trust.id }).update({ legal_form: 'Trust', volume_band: 'over_1m' })
  const service = await aService(db, { company, name: 'Payroll', riskLevel: 'high' })
  await db('entity_services').insert({ company_id: company.id, entity_id: trust.id, service_id: service.id })
  const low = await anEntity(db, { company, owner: admin, name: 'Quiet Bakery' })
  const pep = await anEntity(db, { company, owner: admin, name: 'Minister Example' })
  await db('entities').where({ id: pep.id }).update({ pep: true })
  const unassessed = await anEntity(db, { company, owner: admin, name: 'New Prospect' })
  const hidden = await anEntity(db, { company, owner: admin, name: 'Hidden Holdings' })
  await initialiseSharing(db, trust, low, pep, unassessed, hidden)
  for (const client of [trust, low, pep, unassessed]) {
    for (const user of [assessor, reader]) await aShare(db, { company, client, user })
  }
  const foreign = await anEntity(db, { company: other, owner: foreigner, name: 'Beta Client' })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  const o = await as(assessor)
  await o.get('/')
  for (const client of [trust, low, pep]) await o.post(`/entities/${client.id}/risk`, {})
  return { app, db, company, admin, assessor, reader, trust, low, pep, unassessed, hidden, foreign, service, o, as }
}

/** The names in the list's rows, in order. */
const names = (html: string) =>
  [...html.matchAll(/<th scope="row">(?:<a [^>]*>)?<bdi>([^<]+)<\/bdi>/g)].map((m) => m[1])

t.test('the list filters by classification, review day and out-of-date, and sorts by risk and review', async (t) => {
  const { db, trust, low, pep, reader, as } = await setup(t)
  const v = await as(reader)
  t.strictSame(names((await v.get('/entities?risk=high')).body), ['Minister Example'])
  t.strictSame(names((await v.get('/entities?risk=medium')).body), ['Harbour Trust'])
  t.strictSame(names((await v.get('/entities?risk=low')).body), ['Quiet Bakery'])
  t.strictSame(
    names((await v.get('/entities?risk=none')).body),
    ['New Prospect'],
    'not assessed: only clients the reader may open (never Hidden Holdings)',
  )
  t.strictSame(names((await v.get('/entities?sort=risk')).body), [
    'Minister Example',
    'Harbour Trust',
    'Quiet Bakery',
    'New Prospect',
  ])
  // High is reviewed in a year, Medium in two, Low in three; move one review into the past.
  await db('entity_risk').where({ entity_id: low.id }).update({ review_due_on: '2020-01-01' })
  t.strictSame(names((await v.get('/entities?sort=review')).body), [
    'Quiet Bakery',
    'Minister Example',
    'Harbour Trust',
    'New Prospect',
  ])
  t.strictSame(names((await v.get('/entities?review=overdue')).body), ['Quiet Bakery'])
  t.strictSame(names((await v.get('/entities?review=within_90_days')).body), ['Quiet Bakery'])
  t.strictSame(names((await v.get('/entities?stale=1')).body), [], 'nothing is out of date yet')
  const page = visibleText((await v.get('/entities?risk=bogus&review=soon&stale=yes&sort=DROP')).body)
  t.match(page, 'Harbour Trust', 'unknown values are ignored: the whole list')
  t.equal((await v.get('/entities?risk=%00')).statusCode, 400, 'a NUL is refused, as everywhere')
  t.ok(trust && pep)
})

t.test('a change to the client or its services marks the assessment out of date in the list', async (t) => {
  const { db, app, admin, trust, low, service, reader, as } = await setup(t)
  const v = await as(reader)
  // Through the client's form: Quiet Bakery becomes cash intensive and introduced by an intermediary.
  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await a.get(`/entities/${low.id}/edit`)
  const saved = await a.post(`/entities/${low.id}`, {
    version: await entityVersion(db, low.id),
    kind: 'individual',
    name: 'Quiet Bakery',
    status: 'prospect',
    owner_user_id: admin.id,
    delivery_channel: 'intermediary',
    volume_band: 'over_1m',
    cash_intensive: 'yes',
  })
  t.equal(saved.statusCode, 303, visibleText(saved.body))
  t.match(await db('entities').where({ id: low.id }).first(), {
    delivery_channel: 'intermediary',
    cash_intensive: true,
  })
  t.equal((await db('entity_risk').where({ entity_id: low.id }).first()).needs_check, true, 'marked in the save')
  const list = await v.get('/entities?stale=1')
  t.strictSame(names(list.body), ['Quiet Bakery'])
  t.match(visibleText(list.body), 'Quiet Bakery Individual Prospect Low review by')
  t.match(visibleText(list.body), 'Assessment out of date')
  t.match(await db('entity_risk').where({ entity_id: low.id }).first(), {
    needs_check: false,
    out_of_date: true,
    classification: 'low',
    // Delivery 6 and transactions 9 now, but still Low overall (4.2): the scores moved, so it is out of date.
    recommended_classification: 'low',
  })
  // A service's risk level changes: every client with it is marked.
  await db('services').where({ id: service.id }).update({ risk_level: 'low' })
  t.equal((await db('entity_risk').where({ entity_id: trust.id }).first()).needs_check, true)
  t.strictSame(names((await v.get('/entities?stale=1')).body), ['Harbour Trust', 'Quiet Bakery'])
  // Back as it was: no longer out of date.
  await db('services').where({ id: service.id }).update({ risk_level: 'high' })
  t.strictSame(names((await v.get('/entities?stale=1')).body), ['Quiet Bakery'])
})

t.test('an ended override gives way to the recommendation in the list; the assessment is kept', async (t) => {
  const { db, trust, o, reader, as } = await setup(t)
  await o.get(`/entities/${trust.id}`)
  const res = await o.post(`/entities/${trust.id}/risk/override`, {
    customer: '7',
    geography: '2',
    products: '7',
    delivery: '3',
    transactions: '7',
    classification: 'high',
    rationale: 'Adverse press, pending review.',
    expires_on: '2099-01-31',
  })
  t.equal(res.statusCode, 303)
  const v = await as(reader)
  t.strictSame(names((await v.get('/entities?risk=high')).body), ['Harbour Trust', 'Minister Example'])
  // The day passes.
  await db('entity_risk').where({ entity_id: trust.id }).update({ override_expires_on: '2020-01-31' })
  await db('risk_assessments')
    .where({ entity_id: trust.id, overridden: true })
    .update({ override_expires_on: '2020-01-31' })
  t.strictSame(names((await v.get('/entities?risk=high')).body), ['Minister Example'])
  t.strictSame(names((await v.get('/entities?risk=medium')).body), ['Harbour Trust'])
  t.match(await db('entity_risk').where({ entity_id: trust.id }).first(), {
    override_ended: true,
    saved_classification: 'high',
    classification: 'medium',
  })
  const saved = await db('risk_assessments').where({ entity_id: trust.id, overridden: true }).first()
  t.equal(saved.classification, 'high', 'the override as saved is unchanged')
})

t.test('publishing a rule set marks every assessed client; the job rechecks them', async (t) => {
  const { db, company, admin, app, reader, as } = await setup(t)
  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await a.get('/settings/risk')
  // The draft makes Medium start at 4: Quiet Bakery (overall 2.2) stays Low, Harbour Trust stays Medium.
  const page = await a.get('/settings/risk')
  const rules = /<textarea[^>]*name="rules"[^>]*>([\s\S]*?)<\/textarea>/.exec(page.body)?.[1] ?? '[]'
  const draft = await a.post('/settings/risk/draft', {
    aggregation: 'maximum',
    medium: '5',
    high: '7',
    ...Object.fromEntries(
      ['customer', 'geography', 'products', 'delivery', 'transactions'].flatMap((p) => [
        [`weight_${p}`, '1'],
        [`base_${p}`, '2'],
      ]),
    ),
    base_delivery: '3',
    rules: rules
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&'),
  })
  t.equal(draft.statusCode, 303)
  t.equal((await a.post('/settings/risk/publish', {})).statusCode, 303)
  t.equal(
    Number((await db('entity_risk').where({ company_id: company.id, needs_check: true }).count('* as n'))[0]?.n),
    3,
    'all three assessed clients are marked',
  )
  t.strictSame(await recheckAll(db), { checked: 3 }, 'the job rechecks them')
  t.strictSame(await recheckAll(db), { checked: 0 }, 'and then has nothing to do')
  // By the maximum, every overall score moves (Harbour Trust's to 7, High): all three are out of date.
  const v = await as(reader)
  t.strictSame(names((await v.get('/entities?stale=1')).body), ['Harbour Trust', 'Minister Example', 'Quiet Bakery'])
  t.strictSame(names((await v.get('/entities?stale=1&risk=medium')).body), ['Harbour Trust'])
})

t.test('two rechecks at once each take their own clients', async (t) => {
  const { db, company } = await setup(t)
  await db('entity_risk').where({ company_id: company.id }).update({ needs_check: true })
  const [a, b] = await Promise.all([recheckRisk(db, company.id, 2), recheckRisk(db, company.id, 2)])
  t.equal(a.checked + b.checked, 3, 'every client checked once')
  t.equal(Number((await db('entity_risk').where({ needs_check: true }).count('* as n'))[0]?.n), 0)
})

t.test('compare two assessments: every row side by side, the differences marked', async (t) => {
  const { db, trust, o, reader, foreign, hidden, as, admin, app } = await setup(t)
  await db('entity_services').where({ entity_id: trust.id }).delete()
  await o.get(`/entities/${trust.id}`)
  await o.post(`/entities/${trust.id}/risk`, {})
  const [later, earlier] = await db('risk_assessments')
    .where({ entity_id: trust.id })
    .orderBy('created_at', 'desc')
    .select('id')
  const v = await as(reader)
  const show = visibleText((await v.get(`/entities/${trust.id}`)).body)
  t.match(show, 'Compare the current assessment with the one before')
  const res = await v.get(`/entities/${trust.id}/risk/compare`)
  t.equal(res.statusCode, 200)
  const page = visibleText(res.body)
  t.match(page, 'Compare risk assessments Client: Harbour Trust.')
  t.match(page, 'Classification Medium Low Changed')
  t.match(page, 'Products and services 7 2 Changed')
  t.match(page, 'Customer 7 7 Same')
  t.match(page, 'Risk levels of its services High No service Changed')
  t.match(page, 'Rule set version 1 1 Same')
  t.match(page, 'Saved by Otto Override Otto Override Same')
  const chosen = visibleText((await v.get(`/entities/${trust.id}/risk/compare?a=${later.id}&b=${earlier.id}`)).body)
  t.match(chosen, 'Classification Low Medium Changed', 'any two, in the order chosen')
  t.equal((await v.get(`/entities/${trust.id}/risk/compare?a=not-a-uuid`)).statusCode, 404)
  const foreignAssessment = '00000000-0000-4000-8000-000000000000'
  t.equal((await v.get(`/entities/${trust.id}/risk/compare?a=${foreignAssessment}`)).statusCode, 404)
  t.equal((await v.get(`/entities/${hidden.id}/risk/compare`)).statusCode, 403, 'no access: refused')
  t.equal((await v.get(`/entities/${foreign.id}/risk/compare`)).statusCode, 404, 'another company: not found')
  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  t.equal((await a.get(`/entities/${trust.id}/risk/compare`)).statusCode, 200)
  const single = await db('risk_assessments').where({ entity_id: trust.id }).first('entity_id')
  t.ok(single)
})
