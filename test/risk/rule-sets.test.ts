import t from 'tap'
import { DEFAULT_RULE_SET } from '../../src/risk/default-rules.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aService, aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

/** The draft form's fields for a rule set, as the page fills them. */
function form(d = DEFAULT_RULE_SET): Record<string, string> {
  const fields: Record<string, string> = {
    aggregation: d.aggregation,
    medium: String(d.thresholds.medium),
    high: String(d.thresholds.high),
    rules: JSON.stringify(d.rules),
  }
  for (const [p, w] of Object.entries(d.weights)) fields[`weight_${p}`] = String(w)
  for (const [p, b] of Object.entries(d.base)) fields[`base_${p}`] = String(b)
  return fields
}

t.test('administrators edit a draft rule set, try it on every client, and publish it', async (t) => {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  const manager = await aUser(db, { company, name: 'Mia Manager', permissions: ['manage_user_accounts', 'read_data'] })
  const trust = await anEntity(db, { company, owner: admin, name: 'Harbour Trust', kind: 'organisation' })
  await db('entities').where({ id: trust.id }).update({ legal_form: 'Trust', volume_band: 'over_1m' })
  const service = await aService(db, { company, name: 'Payroll', riskLevel: 'high' })
  await db('entity_services').insert({ company_id: company.id, entity_id: trust.id, service_id: service.id })
  await anEntity(db, { company, owner: admin, name: 'Plain Person' })
  await anEntity(db, { company: other, owner: foreigner, name: 'Beta Client' })

  const m = new Visitor(app)
  await m.login(manager.email, PASSWORD)
  t.equal((await m.get('/settings/risk')).statusCode, 403, 'administrators only')
  t.equal((await m.post('/settings/risk/draft', form())).statusCode, 403)
  t.equal((await m.post('/settings/risk/publish', {})).statusCode, 403)

  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  // An assessment saved under version 1 stays as it was.
  await v.get(`/entities/${trust.id}`)
  await v.post(`/entities/${trust.id}/risk`, {})
  const page = visibleText((await v.get('/settings/risk')).body)
  t.match(page, `Published: version 1, with ${DEFAULT_RULE_SET.rules.length} rules.`)

  const badJson = await v.post('/settings/risk/draft', { ...form(), rules: '[{"id": ' })
  t.equal(badJson.statusCode, 422)
  t.match(badJson.body, '<a href="#rules">Enter the rules as JSON:')
  t.match(badJson.body, '>[{&quot;id&quot;:</textarea>', 'the rules as typed')
  const badOrder = await v.post('/settings/risk/draft', { ...form(), medium: '7', high: '5' })
  t.equal(badOrder.statusCode, 422)
  t.match(badOrder.body, 'The Medium threshold must be below the High one.')
  const badRule = await v.post('/settings/risk/draft', {
    ...form(),
    rules: '[{"id":"x","label":"X","pillar":"customer","when":{"method":[1,"x"]},"score":3}]',
  })
  t.match(badRule.body, 'uses “method”, which a condition may not use')
  t.same(await db('risk_rule_sets').where({ company_id: company.id }).whereNull('version'), [], 'no draft saved')

  await v.get('/settings/risk')
  const saved = await v.post('/settings/risk/draft', { ...form(), aggregation: 'maximum' })
  t.equal(saved.statusCode, 303)
  const run = visibleText((await v.get(String(saved.headers.location).replace(/#.*/, ''))).body)
  t.match(
    run,
    'On your 2 client relationships, the draft would change the recommended classification of 1.',
    'another company’s client is not among them',
  )
  t.match(run, 'Low 1 1 Medium 1 0 High 0 1', 'counts before and after')
  t.match(run, 'Harbour Trust: Medium to High')
  t.match(
    visibleText((await v.get('/settings/audit')).body),
    'Ada Admin saved the draft risk rule set: Overall score from the weighted average to the highest pillar',
    'audited in words',
  )
  const published = await v.post('/settings/risk/publish', {})
  t.equal(published.statusCode, 303)
  const after = visibleText((await v.get('/settings/risk')).body)
  t.match(after, 'The draft is published as version 2. Saved assessments are unchanged.')
  t.match(after, 'Published: version 2')
  const client = visibleText((await v.get(`/entities/${trust.id}`)).body)
  t.match(client, 'Recommended: High risk, overall score 7 (rule set version 2;')
  t.match(client, 'Current assessment: Medium risk (overall score 5.2)', 'the saved one is as it was')
  t.match(client, 'Assessment out of date')
  const versions = await db('risk_rule_sets').where({ company_id: company.id }).orderBy('version').pluck('version')
  t.same(versions, [1, 2])
  t.match(
    await db('audit_log').where({ action: 'risk.published', company_id: company.id }).first(),
    { before: { rule_set_version: 1 }, after: { rule_set_version: 2 } },
    'publishing is audited, with the version before and after',
  )

  // Two publishes at once: one publishes, the other finds no draft; never two versions 3.
  await v.get('/settings/risk')
  await v.post('/settings/risk/draft', form())
  const w = new Visitor(app)
  await w.login(admin.email, PASSWORD)
  await w.get('/settings/risk')
  await v.get('/settings/risk')
  const [p1, p2] = await Promise.all([v.post('/settings/risk/publish', {}), w.post('/settings/risk/publish', {})])
  t.same([p1.statusCode, p2.statusCode].sort(), [303, 422])
  t.match((p1.statusCode === 422 ? p1 : p2).body, 'There is no draft to publish: it may just have been published')
  t.same(await db('risk_rule_sets').where({ company_id: company.id }).orderBy('version').pluck('version'), [1, 2, 3])
})
