import t, { type Test } from 'tap'
import { SHIPPED_COUNTRY_LISTS } from '../../src/risk/shipped-country-lists.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  const assessor = await aUser(db, {
    company,
    name: 'Cara Carrier',
    permissions: ['carry_out_risk_assessments', 'read_data'],
  })
  const client = await anEntity(db, { company, owner: admin, name: 'Harbour Trust', kind: 'organisation' })
  await db('entities').where({ id: client.id }).update({ country_of_incorporation: 'NZ' })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  return { app, db, company, other, admin, foreigner, assessor, client, as }
}

const versions = (db: Awaited<ReturnType<typeof setup>>['db'], companyId: string, key: string) =>
  db('country_lists').where({ company_id: companyId, key }).orderBy('version').select()

t.test('the shipped lists: source, as-at day, countries; a list long past says so', async (t) => {
  const { admin, as } = await setup(t)
  const v = await as(admin)
  const page = visibleText((await v.get('/settings/country-lists')).body)
  t.match(page, 'FATF: high-risk jurisdictions subject to a call for action Version 1')
  t.match(page, 'As at 2026-02-13')
  t.match(page, 'Countries (3) Islamic Republic of Iran, Myanmar, North Korea')
  t.match(page, `Countries (${SHIPPED_COUNTRY_LISTS.fatf_increased_monitoring.countries.length})`)
  t.match(page, 'EU: high-risk third countries Version 1')
  t.match(page, /As at 2024-02-07 Not recent [\d,]+ days ago: check the source for a later version\./)
  t.match(
    page,
    'Commission Delegated Regulation (EU) 2016/1675, Annex, as amended by Delegated Regulation (EU) 2024/163',
  )
})

t.test('only administrators see or change the lists', async (t) => {
  const { assessor, as, db, company } = await setup(t)
  const v = await as(assessor)
  t.equal((await v.get('/settings/country-lists')).statusCode, 403)
  t.equal((await v.get('/settings/country-lists/eu_high_risk')).statusCode, 403)
  await v.get('/entities')
  const res = await v.post('/settings/country-lists/eu_high_risk', {
    countries: 'IR',
    as_at: '2026-01-01',
    source: 'x',
    note: 'y',
    based_on: '1',
  })
  t.equal(res.statusCode, 403)
  t.strictSame(
    (await versions(db, company.id, 'eu_high_risk')).filter((l) => l.version > 1),
    [],
    'nothing saved',
  )
})

t.test('a new version: checked, saved with its note, audited with what it added and removed', async (t) => {
  const { admin, as, db, company } = await setup(t)
  const v = await as(admin)
  t.equal((await v.get('/settings/country-lists/nosuch')).statusCode, 404, 'an unknown list is not found')
  await v.get('/settings/country-lists/fatf_call_for_action')
  const bad = await v.post('/settings/country-lists/fatf_call_for_action', {
    countries: 'IR KP XX zz',
    as_at: '2999-01-01',
    source: '',
    source_url: 'javascript:alert(1)',
    note: '',
    based_on: '1',
  })
  t.equal(bad.statusCode, 422)
  const text = visibleText(bad.body)
  t.match(text, 'There is a problem')
  t.match(text, 'Use two-letter ISO 3166-1 country codes: XX, ZZ are not')
  t.match(text, 'The "as at" day cannot be in the future')
  t.match(text, 'Name the source of the list')
  t.match(text, 'Enter the address of the source, starting with https://')
  t.match(text, 'Say what changed and why')
  t.match(bad.body, 'IR KP XX zz', 'what was typed is kept')
  t.equal((await versions(db, company.id, 'fatf_call_for_action')).length, 1, 'nothing saved')

  const ok = await v.post('/settings/country-lists/fatf_call_for_action', {
    countries: 'kp, IR\nRU',
    as_at: '2026-10-24',
    source: 'FATF, October 2026 (test)',
    source_url: 'https://example.org/fatf',
    note: 'A test version: Myanmar out, Russia in.',
    based_on: '1',
  })
  t.equal(ok.statusCode, 303)
  const [, second] = await versions(db, company.id, 'fatf_call_for_action')
  t.strictSame(second.countries, ['IR', 'KP', 'RU'], 'codes upper-cased, each once, sorted')
  t.equal(second.version, 2)
  t.equal(second.created_by, admin.id)
  const page = visibleText((await v.get('/settings/country-lists/fatf_call_for_action')).body)
  t.match(page, 'Version 2, as at 2026-10-24')
  t.match(page, 'Added: Russian Federation. Removed: Myanmar. Why: A test version: Myanmar out, Russia in.')
  const audit = await db('audit_log').where({ action: 'risk.country_list_saved', company_id: company.id }).first()
  t.match(audit.after, { version: 2, added: 'Russian Federation', removed: 'Myanmar', as_at: '2026-10-24' })
  t.match(audit.before, { version: 1, as_at: '2026-02-13' })
})

t.test('two saves of the same version at once: one is version 2, the other is told', async (t) => {
  const { admin, as, db, company } = await setup(t)
  const a = await as(admin)
  const b = await as(admin)
  await a.get('/settings/country-lists/eu_high_risk')
  await b.get('/settings/country-lists/eu_high_risk')
  const form = (code: string) => ({
    countries: `IR KP ${code}`,
    as_at: '2026-01-01',
    source: 'Test',
    note: `Only ${code}`,
    based_on: '1',
  })
  const [ra, rb] = await Promise.all([
    a.post('/settings/country-lists/eu_high_risk', form('AF')),
    b.post('/settings/country-lists/eu_high_risk', form('YE')),
  ])
  t.strictSame([ra.statusCode, rb.statusCode].sort(), [303, 409])
  const saved = await versions(db, company.id, 'eu_high_risk')
  t.equal(saved.length, 2, 'one new version')
  const refused = ra.statusCode === 409 ? ra : rb
  t.match(visibleText(refused.body), 'Someone saved version 2 of this list meanwhile')
  t.match(refused.body, 'name="based_on" value="2"', 'the form now builds on the version saved')
  // Saving again from an old form is refused the same way.
  const stale = await a.post('/settings/country-lists/eu_high_risk', form('SO'))
  t.equal(stale.statusCode, 409)
  t.equal((await versions(db, company.id, 'eu_high_risk')).length, 2)
})

t.test('a country put on a list moves the recommendation, forces High, and is recorded', async (t) => {
  const { admin, assessor, as, db, client } = await setup(t)
  const c = await as(assessor)
  await c.get(`/entities/${client.id}`)
  await c.post(`/entities/${client.id}/risk`, {})
  const first = await db('risk_assessments').where({ entity_id: client.id }).first()
  t.strictSame(first.country_list_versions, {
    eu_high_risk: 1,
    fatf_call_for_action: 1,
    fatf_increased_monitoring: 1,
  })
  t.equal(first.classification, 'low')

  const v = await as(admin)
  await v.get('/settings/country-lists/eu_high_risk')
  const codes = [...SHIPPED_COUNTRY_LISTS.eu_high_risk.countries, 'NZ'].join(' ')
  const saved = await v.post('/settings/country-lists/eu_high_risk', {
    countries: codes,
    as_at: '2026-06-01',
    source: 'Test',
    note: 'New Zealand added for the test',
    based_on: '1',
  })
  t.equal(saved.statusCode, 303)
  t.equal(
    (await db('entity_risk').where({ entity_id: client.id }).first()).needs_check,
    true,
    'the assessed client is marked for a recheck',
  )

  const page = visibleText((await c.get(`/entities/${client.id}`)).body)
  t.match(page, 'Recommended: High risk')
  t.match(page, 'EU: high-risk third countries, version 2 as at 2026-06-01')
  t.match(page, 'Country of incorporation: New Zealand, on EU: high-risk third countries')
  t.match(page, 'High whatever the scores: A country of the client is a high-risk third country (EU)')
  t.match(
    page,
    'Geography 9 A country of the client is a high-risk third country (EU) or under an FATF call for action',
  )
  t.match(page, 'Assessment out of date')
  const list = visibleText((await c.get('/entities?stale=1')).body)
  t.match(list, 'Harbour Trust Non-individual Prospect Low review by')
  t.match(list, 'Assessment out of date')

  await c.post(`/entities/${client.id}/risk`, {})
  const latest = await db('risk_assessments').where({ entity_id: client.id }).orderBy('created_at', 'desc').first()
  t.equal(latest.classification, 'high')
  t.equal(latest.country_list_versions.eu_high_risk, 2, 'the assessment names the version it read')
  t.equal((await db('risk_assessments').where({ id: first.id }).first()).classification, 'low', 'the first is kept')
  const audit = await db('audit_log')
    .where({ action: 'risk.assessed', target_id: client.id })
    .orderBy('id', 'desc')
    .first()
  t.match(audit.before, { assessment: first.id, classification: 'low', rule_set_version: 1 }, 'audited with before…')
  t.match(audit.after, { assessment: latest.id, classification: 'high' }, '…and after')
})

t.test("another company's lists are its own", async (t) => {
  const { admin, foreigner, as, db, company, other } = await setup(t)
  const v = await as(admin)
  await v.get('/settings/country-lists/eu_high_risk')
  await v.post('/settings/country-lists/eu_high_risk', {
    countries: 'IR',
    as_at: '2026-01-01',
    source: 'Test',
    note: 'Only Iran',
    based_on: '1',
  })
  // Fay Foreign is Beta Bank's administrator.
  const f = await as(foreigner)
  const theirs = visibleText((await f.get('/settings/country-lists/eu_high_risk')).body)
  t.match(theirs, 'Version 1, as at 2024-02-07')
  t.equal((await versions(db, other.id, 'eu_high_risk')).length, 1)
  t.equal((await versions(db, company.id, 'eu_high_risk')).length, 2)
})
