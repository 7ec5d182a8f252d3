import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity, entityVersion, initialiseSharing } from '../helpers/entities.js'
import { aService, aShare, aUser, clientAccessOn, PASSWORD, twoCompanies } from '../helpers/factories.js'

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  await clientAccessOn(db, company)
  const assessor = await aUser(db, {
    company,
    name: 'Cara Carrier',
    permissions: ['carry_out_risk_assessments', 'read_data'],
  })
  const overrider = await aUser(db, { company, name: 'Otto Override', permissions: ['override_risk_assessments'] })
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })
  const client = await anEntity(db, { company, owner: admin, name: 'Harbour Trust', kind: 'organisation' })
  await db('entities').where({ id: client.id }).update({ legal_form: 'Trust', volume_band: 'over_1m' })
  const service = await aService(db, { company, name: 'Payroll', riskLevel: 'high' })
  await db('entity_services').insert({ company_id: company.id, entity_id: client.id, service_id: service.id })
  const hidden = await anEntity(db, { company, owner: admin, name: 'Hidden Holdings' })
  await initialiseSharing(db, client, hidden)
  for (const user of [assessor, overrider, reader]) await aShare(db, { company, client, user })
  const foreign = await anEntity(db, { company: other, owner: foreigner, name: 'Beta Client' })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  return { app, db, company, admin, assessor, overrider, reader, client, hidden, foreign, as }
}

const assessments = (db: Awaited<ReturnType<typeof setup>>['db'], entityId: string) =>
  db('risk_assessments').where({ entity_id: entityId }).orderBy('created_at').select()

t.test('the Risk section recommends pillar by pillar, and says why', async (t) => {
  const { client, reader, as } = await setup(t)
  const v = await as(reader)
  const page = visibleText((await v.get(`/entities/${client.id}`)).body)
  // Customer 7 (trust), geography 2, products 7 (a high-risk service), delivery 3, transactions 7 (over 1m).
  t.match(
    page,
    'Recommended: Medium risk, overall score 5.2 (rule set version 1; country lists: FATF: high-risk jurisdictions subject to a call for action, version 1 as at 2026-02-13;',
  )
  t.match(page, 'Customer 7 The legal form is a trust or a foundation (score 7)')
  t.match(page, 'Products and services 7 A service of the client is high risk (score 7)')
  t.match(page, 'Geography 2 No rule applies: the base score.')
  t.match(page, 'No risk assessment has been saved for this client yet.')
  t.notMatch(page, 'Save the recommended assessment', 'a reader may not save one')
  t.notMatch(page, 'Override the recommendation')
})

t.test('Carry Out saves the recommendation as it is; a crafted post changes nothing', async (t) => {
  const { db, client, assessor, as } = await setup(t)
  const v = await as(assessor)
  const page = await v.get(`/entities/${client.id}`)
  t.match(page.body, 'Save the recommended assessment')
  t.notMatch(page.body, 'Override the recommendation', 'Carry Out cannot override')
  const crafted = await v.post(`/entities/${client.id}/risk`, { customer: '1', classification: 'low' })
  t.equal(crafted.statusCode, 422, 'a score sent with it is refused')
  t.match(crafted.body, 'Saving the recommendation takes no score or classification: to change one, override it')
  t.same(await assessments(db, client.id), [], 'and nothing was saved')
  await v.get(`/entities/${client.id}`)
  const override = await v.post(`/entities/${client.id}/risk/override`, {
    customer: '1',
    geography: '1',
    products: '1',
    delivery: '1',
    transactions: '1',
    classification: 'low',
    rationale: 'I say so',
  })
  t.equal(override.statusCode, 403, 'Carry Out may not override')
  t.same(await assessments(db, client.id), [])

  await v.get(`/entities/${client.id}`)
  const saved = await v.post(`/entities/${client.id}/risk`, {})
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, `/entities/${client.id}#risk`)
  const [row] = await assessments(db, client.id)
  t.match(row, { classification: 'medium', overridden: false, rationale: null })
  t.same(row.result, {
    pillars: { customer: 7, geography: 2, products: 7, delivery: 3, transactions: 7 },
    overall: 5.2,
    classification: 'medium',
  })
  t.equal(row.facts.highest_service_risk, 'high', 'the facts it read are kept')
  const years = new Date(row.review_due_on).getUTCFullYear() - new Date().getUTCFullYear()
  t.equal(years, 2, 'Medium: the next review in two years')
  const after = visibleText((await v.get(`/entities/${client.id}`)).body)
  t.match(after, 'The risk assessment was saved: medium risk.')
  t.match(after, 'Current assessment: Medium risk (overall score 5.2), saved by Cara Carrier')
  t.match(
    after,
    'Cara Carrier saved the recommended risk assessment of Harbour Trust: Classification: Medium; Overall score: 5.2',
  )
})

t.test('Override needs a rationale; the form keeps what was typed', async (t) => {
  const { db, client, overrider, as } = await setup(t)
  const v = await as(overrider)
  const page = await v.get(`/entities/${client.id}`)
  t.match(page.body, 'Override the recommendation')
  t.match(page.body, 'Save the recommended assessment', 'Override includes Carry Out')
  const scores = { customer: '7', geography: '2', products: '3', delivery: '3', transactions: '7' }
  const refused = await v.post(`/entities/${client.id}/risk/override`, {
    ...scores,
    classification: 'low',
    rationale: '  ',
    expires_on: '2001-01-01',
  })
  t.equal(refused.statusCode, 422)
  t.match(refused.body, '<a href="#rationale">Enter the rationale for the override</a>')
  t.match(refused.body, '<a href="#expires_on">Enter a day after today')
  t.match(
    refused.body,
    /<option value="3" selected>3<\/option>\s*<option value="4">4<\/option>[\s\S]*name="classification"/,
  )
  t.match(refused.body, 'value="2001-01-01"', 'the day as typed')
  t.same(await assessments(db, client.id), [], 'nothing saved')

  const long = 'x'.repeat(4001)
  const tooLong = await v.post(`/entities/${client.id}/risk/override`, {
    ...scores,
    classification: 'low',
    rationale: long,
  })
  t.equal(tooLong.statusCode, 422)
  t.match(tooLong.body, 'Enter a rationale of at most 4,000 characters')
  t.match(tooLong.body, `>${long}</textarea>`, 'the rationale as typed, not cut')

  await v.get(`/entities/${client.id}`)
  const unchanged = await v.post(`/entities/${client.id}/risk/override`, {
    customer: '7',
    geography: '2',
    products: '7',
    delivery: '3',
    transactions: '7',
    classification: 'medium',
    rationale: 'Nothing to change',
  })
  t.equal(unchanged.statusCode, 422)
  t.match(unchanged.body, 'Change a score or the classification to override, or save the recommendation')

  await v.get(`/entities/${client.id}`)
  const saved = await v.post(`/entities/${client.id}/risk/override`, {
    ...scores,
    classification: 'low',
    rationale: 'Payroll here is for two employees only.',
    expires_on: '2099-06-30',
  })
  t.equal(saved.statusCode, 303)
  const [row] = await assessments(db, client.id)
  t.match(row, { classification: 'low', overridden: true, rationale: 'Payroll here is for two employees only.' })
  t.same(row.result, {
    pillars: { customer: 7, geography: 2, products: 3, delivery: 3, transactions: 7 },
    overall: 4.4,
    classification: 'low',
  })
  t.equal(row.recommendation.classification, 'medium', 'the recommendation is kept beside it')
  const after = visibleText((await v.get(`/entities/${client.id}`)).body)
  t.match(after, 'Current assessment: Low risk (overall score 4.4), overridden, saved by Otto Override')
  t.match(
    after,
    'Rationale: Payroll here is for two employees only. The recommendation applies again after 2099-06-30.',
  )
  t.match(
    after,
    'Otto Override overrode the risk assessment of Harbour Trust: Classification: Low; Recommended: Medium; Overall score: 4.4; Scores changed: Products and services 7 → 3; Rationale: “Payroll here is for two employees only.”; Override ends: 2099-06-30',
  )
})

t.test('a PEP is High whatever the scores; an override of it needs its rationale and is kept as one', async (t) => {
  const { db, client, overrider, as } = await setup(t)
  await db('entities').where({ id: client.id }).update({ pep: true, legal_form: null, volume_band: null })
  await db('entity_services').where({ entity_id: client.id }).delete()
  const v = await as(overrider)
  const page = visibleText((await v.get(`/entities/${client.id}`)).body)
  t.match(page, 'Recommended: High risk, overall score 3.6')
  t.match(page, 'High whatever the scores: A politically exposed person')
  await v.post(`/entities/${client.id}/risk`, {})
  t.equal((await assessments(db, client.id))[0].classification, 'high', 'carried out: High')
  await v.get(`/entities/${client.id}`)
  await v.post(`/entities/${client.id}/risk/override`, {
    customer: '8',
    geography: '2',
    products: '2',
    delivery: '3',
    transactions: '2',
    classification: 'medium',
    rationale: 'Former minister of a low-risk country, out of office for ten years.',
  })
  const rows = await assessments(db, client.id)
  t.equal(rows.length, 2, 'every saved assessment is kept')
  t.match(rows[1], { classification: 'medium', overridden: true })
  t.same(rows[1].recommendation.forcedHigh, ['pep'], 'the forced High is kept with it')
  t.match(
    visibleText((await v.get(`/entities/${client.id}`)).body),
    'Overrides a forced High (A politically exposed person).',
    'and the page marks it',
  )
})

t.test('without access to the client: 403; another company’s client: 404; nothing saved', async (t) => {
  const { db, hidden, foreign, overrider, as } = await setup(t)
  const v = await as(overrider)
  await v.get('/')
  t.equal((await v.post(`/entities/${hidden.id}/risk`, {})).statusCode, 403)
  t.equal((await v.get(`/entities/${hidden.id}`)).statusCode, 403)
  t.equal((await v.post(`/entities/${foreign.id}/risk`, {})).statusCode, 404)
  t.equal((await v.post(`/entities/${foreign.id}/risk/override`, { rationale: 'x' })).statusCode, 404)
  t.same(await db('risk_assessments').select('id'), [])
})

t.test('two saves at once: one rule set version 1, two whole assessments', async (t) => {
  const { db, company, client, overrider, assessor, as } = await setup(t)
  const a = await as(assessor)
  const o = await as(overrider)
  await a.get('/')
  await o.get('/')
  const [first, second] = await Promise.all([
    a.post(`/entities/${client.id}/risk`, {}),
    o.post(`/entities/${client.id}/risk`, {}),
  ])
  t.same([first.statusCode, second.statusCode], [303, 303])
  t.equal((await db('risk_rule_sets').where({ company_id: company.id })).length, 1, 'the default is published once')
  const rows = await assessments(db, client.id)
  t.equal(rows.length, 2)
  t.ok(
    rows.every((r) => r.classification === 'medium' && r.rule_set_id === rows[0].rule_set_id),
    'each saved whole, with the same rule set',
  )
  t.equal((await db('audit_log').where({ action: 'risk.assessed', target_id: client.id })).length, 2, 'each audited')
})

t.test('the client form sets what the rules read: delivery channel, volume, cash, PEP', async (t) => {
  const { app, db, client, admin } = await setup(t)
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const edit = await v.get(`/entities/${client.id}/edit`)
  t.match(edit.body, '<option value="over_1m" selected>Over 1 million</option>', 'the stored volume, chosen')
  const version = await entityVersion(db, client.id)
  const fields = {
    version,
    kind: 'organisation',
    name: 'Harbour Trust',
    legal_form: 'Trust',
    status: 'prospect',
    owner_user_id: admin.id,
    volume_band: 'over_1m',
  }
  const refused = await v.post(`/entities/${client.id}`, { ...fields, delivery_channel: 'carrier pigeon' })
  t.equal(refused.statusCode, 422)
  t.match(refused.body, '<a href="#delivery_channel">Choose how the relationship is conducted from the list</a>')
  const saved = await v.post(`/entities/${client.id}`, { ...fields, delivery_channel: 'intermediary', pep: 'yes' })
  t.equal(saved.statusCode, 303)
  t.match(await db('entities').where({ id: client.id }).first(), {
    delivery_channel: 'intermediary',
    volume_band: 'over_1m',
    cash_intensive: false,
    pep: true,
  })
  const page = visibleText((await v.get(`/entities/${client.id}`)).body)
  t.match(page, 'How the relationship is conducted Through an intermediary Expected yearly volume Over 1 million')
  t.match(page, 'Politically exposed person Yes')
  t.match(page, 'Recommended: High risk')
  t.match(page, 'Delivery channel 6 Introduced through an intermediary (score 6)')
  t.match(
    page,
    'Ada Admin changed Harbour Trust: How the relationship is conducted from empty to Through an intermediary; Politically exposed person from no to yes',
  )
})

t.test('out of date when the rules recommend something else now; an ended override gives way', async (t) => {
  const { db, client, overrider, as } = await setup(t)
  const v = await as(overrider)
  await v.get(`/entities/${client.id}`)
  await v.post(`/entities/${client.id}/risk`, {})
  t.notMatch(visibleText((await v.get(`/entities/${client.id}`)).body), 'Assessment out of date')
  // The service goes: products and services 7 → 2, overall 5.2 → 4.2, Medium → Low.
  await db('entity_services').where({ entity_id: client.id }).delete()
  t.match(
    visibleText((await v.get(`/entities/${client.id}`)).body),
    'Assessment out of date The client’s data, services, the rule set or the country lists have changed: the rules now recommend Low risk, overall 4.2 (when it was saved: Medium, overall 5.2). Save a new assessment.',
  )
  await v.post(`/entities/${client.id}/risk`, {})
  t.notMatch(
    visibleText((await v.get(`/entities/${client.id}`)).body),
    'Assessment out of date',
    'saved again: current',
  )

  await v.post(`/entities/${client.id}/risk/override`, {
    customer: '7',
    geography: '2',
    products: '2',
    delivery: '3',
    transactions: '7',
    classification: 'high',
    rationale: 'Pending a source-of-funds check.',
    expires_on: '2099-01-31',
  })
  t.notMatch(visibleText((await v.get(`/entities/${client.id}`)).body), 'The override ended')
  // The day passes (both copies of it: the assessment's, and the client's risk state's).
  await db('risk_assessments')
    .where({ entity_id: client.id, overridden: true })
    .update({ override_expires_on: '2020-01-31' })
  await db('entity_risk').where({ entity_id: client.id }).update({ override_expires_on: '2020-01-31' })
  t.match(
    visibleText((await v.get(`/entities/${client.id}`)).body),
    'The override ended on 2020-01-31: the recommendation below applies again.',
  )
})

t.test('the client list shows the current classification and next review, to readers with access only', async (t) => {
  const { db, client, hidden, overrider, reader, as } = await setup(t)
  const o = await as(overrider)
  await o.get(`/entities/${client.id}`)
  await o.post(`/entities/${client.id}/risk`, {})
  // An assessment of a client the reader has no access to (saved as the administrators' would be).
  const [row] = await db('risk_assessments').where({ entity_id: client.id }).select()
  const [copy] = await db('risk_assessments')
    .insert({ ...row, id: undefined, entity_id: hidden.id, classification: 'high' })
    .returning('*')
  await db('entity_risk').insert({
    entity_id: hidden.id,
    company_id: copy.company_id,
    assessment_id: copy.id,
    saved_classification: 'high',
    review_due_on: copy.review_due_on,
    recommended_classification: 'high',
    classification: 'high',
  })
  const due = String(
    (
      await db('risk_assessments')
        .where({ entity_id: client.id })
        .first(db.raw(`to_char(review_due_on, 'YYYY-MM-DD') AS d`))
    ).d,
  )
  const list = visibleText((await (await as(reader)).get('/entities')).body)
  t.match(list, `Harbour Trust Non-individual Prospect Medium review by ${due}`)
  t.match(list, 'Hidden Holdings No access', 'a client without access shows its name only')
  t.notMatch(list, 'High review by', 'and not its classification')
})
