import t, { type Test } from 'tap'
import { evaluate } from '../../src/risk/evaluate.js'
import { currentRuleSet, factsOf } from '../../src/risk/service.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'
import { aList, creditsOf, setCredits } from '../helpers/screening.js'

/** A company with a small list, a client named like a listed person, and the people of a search's review. */
async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, admin, foreigner } = await twoCompanies(db)
  await aList(db, company)
  const client = await anEntity(db, { company, owner: admin, name: 'Ivan Sidorov', kind: 'individual' })
  await db('entities').where({ id: client.id }).update({ date_of_birth: '1970-05-01', nationality: 'RU' })
  const searcher = await aUser(db, { company, name: 'Sam Searcher', permissions: ['manual_external_searches'] })
  const manager = await aUser(db, { company, name: 'Mia Manager', permissions: ['manage_external_searches'] })
  const checker = await aUser(db, { company, name: 'Cy Checker', permissions: ['check_entity_external_searches'] })
  const approver = await aUser(db, { company, name: 'Al Approver', permissions: ['approve_entity_external_searches'] })
  const both = await aUser(db, {
    company,
    name: 'Bo Both',
    permissions: ['check_entity_external_searches', 'approve_entity_external_searches'],
  })
  const reader = await aUser(db, { company, name: 'Rea Reader', permissions: ['read_data'] })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    await v.get(`/entities/${client.id}`)
    return v
  }
  return { app, db, company, admin, foreigner, client, searcher, manager, checker, approver, both, reader, as }
}
type Setup = Awaited<ReturnType<typeof setup>>

/** A manual search of the client by the searcher (one credit given first); the search's id. */
async function searched(s: Setup): Promise<string> {
  await setCredits(s.db, s.company, (await creditsOf(s.db, s.company)) + 1)
  const res = await (await s.as(s.searcher)).post(`/entities/${s.client.id}/searches`, {})
  if (res.statusCode !== 303) throw new Error(`search answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return String(res.headers.location).split('/').pop() as string
}

const searchRow = (s: Setup, id: string) => s.db('screening_searches').where({ id }).first()
const matchIds = async (s: Setup, id: string) =>
  (await s.db('screening_matches').where({ search_id: id }).select('id')).map((m) => m.id as string)
const decide = (ids: string[], decision: string, rationale = 'Checked the date of birth and the passport.') =>
  Object.fromEntries(
    ids.flatMap((id) => [
      [`decision-${id}`, decision],
      [`rationale-${id}`, rationale],
    ]),
  )
const review = (s: Setup, v: Visitor, searchId: string, fields: Record<string, string>) =>
  v.post(`/entities/${s.client.id}/searches/${searchId}/review`, fields)

t.test('a manual search: the permission, one credit spent, the search and its explanation shown', async (t) => {
  const s = await setup(t)
  const reader = await s.as(s.reader)
  t.equal((await reader.post(`/entities/${s.client.id}/searches`, {})).statusCode, 403, 'read_data alone: refused')
  t.notMatch(visibleText((await reader.get(`/entities/${s.client.id}`)).body), 'Run a manual search')

  await setCredits(s.db, s.company, 12)
  const v = await s.as(s.searcher)
  t.match(visibleText((await v.get(`/entities/${s.client.id}`)).body), 'The company has 12 credits left')
  const res = await v.post(`/entities/${s.client.id}/searches`, {})
  t.equal(res.statusCode, 303)
  const page = visibleText((await v.get(String(res.headers.location))).body)
  t.match(page, 'One credit was spent: 11 left')
  t.match(page, 'Ivan Petrovich Sidorov')
  t.match(page, 'ivan ↔ ivan (1)')
  t.match(page, 'sidorov ↔ sidorov (1)')
  t.match(page, 'on the list only: petrovich')
  t.match(page, 'Date of birth 1970-05-01 searched, 1970-05-01 listed: raised the score')
  t.match(page, 'Lists read OpenSanctions: watch, version 1')
  t.equal(await creditsOf(s.db, s.company), 11)
  const ledger = await s.db('screening_credit_ledger').where({ company_id: s.company.id })
  t.match(ledger, [{ change: -1, balance_after: 11, reason: 'manual_search', user_id: s.searcher.id }])
  const search = await s.db('screening_searches').where({ company_id: s.company.id }).first()
  t.match(search, { kind: 'manual', status: 'open', match_count: 1, created_by: s.searcher.id })
  t.ok(await s.db('audit_log').where({ action: 'screening.manual_search', target_id: s.client.id }).first())
})

t.test('no credits: refused with a clear message, nothing spent, nothing recorded', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.searcher)
  const res = await v.post(`/entities/${s.client.id}/searches`, {})
  t.equal(res.statusCode, 409)
  t.match(visibleText(res.body), 'No screening credits are left, so no manual search was run and nothing was spent')
  t.equal(await creditsOf(s.db, s.company), 0)
  t.equal((await s.db('screening_searches')).length, 0)
  t.equal((await s.db('screening_credit_ledger')).length, 0)
})

t.test('a monthly budget: the search past it is refused and spends nothing', async (t) => {
  const s = await setup(t)
  await setCredits(s.db, s.company, 5)
  await s.db('users').where({ id: s.searcher.id }).update({ manual_search_budget: 1 })
  const v = await s.as(s.searcher)
  t.equal((await v.post(`/entities/${s.client.id}/searches`, {})).statusCode, 303)
  const again = await v.post(`/entities/${s.client.id}/searches`, {})
  t.equal(again.statusCode, 409)
  t.match(visibleText(again.body), 'You have used your budget of 1 manual search this month')
  t.equal(await creditsOf(s.db, s.company), 4, 'one credit spent, not two')
  t.equal((await s.db('screening_searches')).length, 1)
})

t.test('the last credit, taken by two searches at once: one runs, the other is refused', async (t) => {
  const s = await setup(t)
  await setCredits(s.db, s.company, 1)
  const other = await aUser(s.db, { company: s.company, permissions: ['manual_external_searches'] })
  const [a, b] = [await s.as(s.searcher), await s.as(other)]
  const answers = await Promise.all([
    a.post(`/entities/${s.client.id}/searches`, {}),
    b.post(`/entities/${s.client.id}/searches`, {}),
  ])
  t.same(answers.map((r) => r.statusCode).sort(), [303, 409])
  t.equal(await creditsOf(s.db, s.company), 0)
  t.equal((await s.db('screening_credit_ledger')).length, 1)
  t.equal((await s.db('screening_searches')).length, 1)
})

t.test('without four-eyes: Manage External Searches resolves; each match needs a decision and a reason', async (t) => {
  const s = await setup(t)
  const id = await searched(s)
  const checker = await s.as(s.checker)
  t.equal(
    (await review(s, checker, id, { step: 'resolve', ...decide(await matchIds(s, id), 'true_match') })).statusCode,
    403,
  )

  const manager = await s.as(s.manager)
  t.match(visibleText((await manager.get(`/entities/${s.client.id}/searches/${id}`)).body), 'Resolve the search')
  const [match] = await matchIds(s, id)
  const missing = await review(s, manager, id, { step: 'resolve', [`decision-${match}`]: 'true_match' })
  t.equal(missing.statusCode, 422)
  t.match(visibleText(missing.body), 'Give the reason for this decision')
  t.match(missing.body, `href="#rationale-${match}"`, 'the error summary links to the field')
  t.match(missing.body, /<input[^>]+value="true_match"[^>]+checked/, 'what was chosen is kept')
  t.equal((await searchRow(s, id)).status, 'open')

  const done = await review(s, manager, id, { step: 'resolve', ...decide([match as string], 'true_match') })
  t.equal(done.statusCode, 303)
  t.match(await searchRow(s, id), { status: 'closed', checked_by: s.manager.id, approved_by: null })
  t.match(await s.db('screening_matches').where({ id: match }).first(), {
    decision: 'true_match',
    decided_by: s.manager.id,
  })
  t.ok(await s.db('audit_log').where({ action: 'screening.search_resolved', target_id: s.client.id }).first())
  t.equal(
    (await review(s, manager, id, { step: 'resolve', ...decide([match as string], 'false_match') })).statusCode,
    409,
  )
})

t.test('a confirmed sanctions match is a forced-High reason of the risk assessment', async (t) => {
  const s = await setup(t)
  const ruleSet = await currentRuleSet(s.db, s.company.id)
  t.notOk(
    evaluate(ruleSet.definition, await factsOf(s.db, s.company.id, s.client.id)).forcedHigh.includes('sanctions_match'),
  )
  const id = await searched(s)
  await review(s, await s.as(s.manager), id, { step: 'resolve', ...decide(await matchIds(s, id), 'true_match') })
  t.match(await s.db('entities').where({ id: s.client.id }).first(), {
    screening_sanctions_match: true,
    screening_pep_match: false,
  })
  const facts = await factsOf(s.db, s.company.id, s.client.id)
  t.ok(evaluate(ruleSet.definition, facts).forcedHigh.includes('sanctions_match'))
  t.match(visibleText((await (await s.as(s.admin)).get(`/entities/${s.client.id}`)).body), 'Confirmed sanctions match')
})

t.test('four-eyes: a checker, then a different approver; the same person never both', async (t) => {
  const s = await setup(t)
  await s.db('companies').where({ id: s.company.id }).update({ screening_four_eyes: true })
  const id = await searched(s)
  const ids = await matchIds(s, id)
  const manager = await s.as(s.manager)
  t.equal(
    (await review(s, manager, id, { step: 'resolve', ...decide(ids, 'false_match') })).statusCode,
    403,
    'no one resolves alone',
  )

  const both = await s.as(s.both)
  t.equal((await review(s, both, id, { step: 'check', ...decide(ids, 'false_match') })).statusCode, 303)
  t.match(await searchRow(s, id), { status: 'awaiting_approval', checked_by: s.both.id })
  const page = visibleText((await both.get(`/entities/${s.client.id}/searches/${id}`)).body)
  t.match(page, 'You checked this search: a different person must approve it')
  t.notMatch(page, 'Save my decision', 'no approval form for the checker')
  const crafted = await review(s, both, id, { step: 'approve', verdict: 'approve' })
  t.equal(crafted.statusCode, 403, 'a crafted approval by the checker is refused')
  t.match(await searchRow(s, id), { status: 'awaiting_approval', approved_by: null })

  await t.rejects(
    s.db('screening_searches').where({ id }).update({ approved_by: s.both.id, status: 'closed' }),
    /screening_searches_check/,
    'the database refuses the same checker and approver too',
  )

  const approver = await s.as(s.approver)
  const back = await review(s, approver, id, { step: 'approve', verdict: 'send_back' })
  t.equal(back.statusCode, 422)
  t.match(visibleText(back.body), 'Say why the search goes back')
  t.equal(
    (await review(s, approver, id, { step: 'approve', verdict: 'send_back', reason: 'Look at the DOB again' }))
      .statusCode,
    303,
  )
  t.match(await searchRow(s, id), { status: 'open', checked_by: null, sent_back_reason: 'Look at the DOB again' })

  const checker = await s.as(s.checker)
  t.equal((await review(s, checker, id, { step: 'check', ...decide(ids, 'true_match') })).statusCode, 303)
  t.equal(
    (await review(s, manager, id, { step: 'approve', verdict: 'approve' })).statusCode,
    303,
    'Manage External Searches approves others’ reviews',
  )
  t.match(await searchRow(s, id), { status: 'closed', checked_by: s.checker.id, approved_by: s.manager.id })
  for (const action of ['screening.search_checked', 'screening.search_sent_back', 'screening.search_approved'])
    t.ok(await s.db('audit_log').where({ action, target_id: s.client.id }).first(), action)
})

t.test(
  'four-eyes by two racing requests of one person: checking and approving at once never both succeed',
  async (t) => {
    const s = await setup(t)
    await s.db('companies').where({ id: s.company.id }).update({ screening_four_eyes: true })
    for (let round = 0; round < 5; round += 1) {
      const id = await searched(s)
      const ids = await matchIds(s, id)
      const both = await s.as(s.both)
      const [check, approve] = await Promise.all([
        review(s, both, id, { step: 'check', ...decide(ids, 'false_match') }),
        review(s, both, id, { step: 'approve', verdict: 'approve' }),
      ])
      t.equal(check.statusCode, 303, `round ${round}: the check is recorded`)
      t.ok([403, 409].includes(approve.statusCode), `round ${round}: the approval is refused (${approve.statusCode})`)
      t.match(await searchRow(s, id), { status: 'awaiting_approval', approved_by: null })
    }
  },
)

t.test('two approvers at once: one approves, the other is told the search moved on', async (t) => {
  const s = await setup(t)
  await s.db('companies').where({ id: s.company.id }).update({ screening_four_eyes: true })
  const id = await searched(s)
  await review(s, await s.as(s.checker), id, { step: 'check', ...decide(await matchIds(s, id), 'false_match') })
  const [a, b] = [await s.as(s.approver), await s.as(s.manager)]
  const answers = await Promise.all([
    review(s, a, id, { step: 'approve', verdict: 'approve' }),
    review(s, b, id, { step: 'approve', verdict: 'approve' }),
  ])
  t.same(answers.map((r) => r.statusCode).sort(), [303, 409])
  t.equal((await searchRow(s, id)).status, 'closed')
})

t.test('a resolved false match stays quiet until the client’s name data or the entry changes', async (t) => {
  const s = await setup(t)
  const first = await searched(s)
  await review(s, await s.as(s.manager), first, { step: 'resolve', ...decide(await matchIds(s, first), 'false_match') })
  t.match(await s.db('entities').where({ id: s.client.id }).first(), { screening_sanctions_match: false })

  const quiet = await searched(s)
  t.match(await searchRow(s, quiet), { status: 'clear', match_count: 0 }, 'the same client, the same entry: not raised')

  // The entry changes (a new alias): raised again.
  const [ivan, ...rest] = (await import('../helpers/screening.js')).LISTED
  await aList(s.db, s.company, [
    { ...(ivan as (typeof rest)[number]), programs: ['RUSSIA-EO14024', 'UKRAINE-EO13660'] },
    ...rest,
  ])
  const raised = await searched(s)
  t.match(await searchRow(s, raised), { status: 'open', match_count: 1 }, 'the entry changed')
  await review(s, await s.as(s.manager), raised, {
    step: 'resolve',
    ...decide(await matchIds(s, raised), 'false_match'),
  })
  t.match(await searchRow(s, await searched(s)), { match_count: 0 })

  // The client's name data changes: raised again.
  await s.db('entities').where({ id: s.client.id }).update({ name: 'Ivan P. Sidorov' })
  t.match(await searchRow(s, await searched(s)), { status: 'open', match_count: 1 }, 'the client changed')
})

t.test('another company’s search, or a search of another client: not found', async (t) => {
  const s = await setup(t)
  const id = await searched(s)
  const otherClient = await anEntity(s.db, { company: s.company, owner: s.admin, name: 'Someone Else' })
  const admin = await s.as(s.admin)
  t.equal((await admin.get(`/entities/${otherClient.id}/searches/${id}`)).statusCode, 404)
  const foreigner = new Visitor(s.app)
  await foreigner.login(s.foreigner.email, PASSWORD)
  t.equal((await foreigner.get(`/entities/${s.client.id}/searches/${id}`)).statusCode, 404)
})

t.test('a newer search of the client supersedes its open one, which can no longer be reviewed', async (t) => {
  const s = await setup(t)
  const older = await searched(s)
  const newer = await searched(s)
  t.match(await searchRow(s, older), { status: 'superseded', superseded_by: newer })
  t.match(await searchRow(s, newer), { status: 'open', superseded_by: null })
  const manager = await s.as(s.manager)
  const page = visibleText((await manager.get(`/entities/${s.client.id}/searches/${older}`)).body)
  t.match(page, 'Superseded by a newer search')
  t.match(page, 'A newer search of this client replaced this one: review the newer search')
  const refused = await review(s, manager, older, {
    step: 'resolve',
    ...decide(await matchIds(s, older), 'false_match'),
  })
  t.equal(refused.statusCode, 409)
  t.equal((await searchRow(s, older)).status, 'superseded')

  // A search under review is not superseded.
  await s.db('companies').where({ id: s.company.id }).update({ screening_four_eyes: true })
  await review(s, await s.as(s.checker), newer, { step: 'check', ...decide(await matchIds(s, newer), 'false_match') })
  await searched(s)
  t.equal((await searchRow(s, newer)).status, 'awaiting_approval')
})

t.test('a confirmed match decided false in a later review no longer counts for the risk assessment', async (t) => {
  const s = await setup(t)
  const first = await searched(s)
  await review(s, await s.as(s.manager), first, { step: 'resolve', ...decide(await matchIds(s, first), 'true_match') })
  t.equal((await s.db('entities').where({ id: s.client.id }).first()).screening_sanctions_match, true)
  const second = await searched(s)
  await review(s, await s.as(s.manager), second, {
    step: 'resolve',
    ...decide(await matchIds(s, second), 'false_match'),
  })
  t.equal((await s.db('entities').where({ id: s.client.id }).first()).screening_sanctions_match, false)
})

t.test(
  'a manual search under a narrower profile neither supersedes the open search nor becomes the nightly state',
  async (t) => {
    const s = await setup(t)
    const { screenCompany } = await import('../../src/screening/nightly.js')
    await screenCompany(s.db, s.company.id)
    const [nightly] = await s.db('screening_searches').where({ entity_id: s.client.id }).pluck('id')
    const state = await s.db('entity_screening').where({ entity_id: s.client.id }).first()
    const [strict] = await s
      .db('screening_profiles')
      .insert({ company_id: s.company.id, name: 'Other list only', lists: ['other'], threshold: 0.9 })
      .returning('id')
    await setCredits(s.db, s.company, 1)
    const v = await s.as(s.searcher)
    const res = await v.post(`/entities/${s.client.id}/searches`, { profile: strict.id })
    t.equal(res.statusCode, 303)
    const manual = String(res.headers.location).split('/').pop() as string
    t.match(await searchRow(s, manual), { status: 'clear', match_count: 0 }, 'the narrower profile finds nothing')
    t.equal((await searchRow(s, nightly)).status, 'open', 'the nightly search stays open to review')
    t.same(await s.db('entity_screening').where({ entity_id: s.client.id }).first(), state, 'the nightly state is kept')
  },
)

t.test('an older search approved late does not undo what a newer review decided', async (t) => {
  const s = await setup(t)
  await s.db('companies').where({ id: s.company.id }).update({ screening_four_eyes: true })
  const older = await searched(s)
  await review(s, await s.as(s.checker), older, { step: 'check', ...decide(await matchIds(s, older), 'false_match') })
  const newer = await searched(s)
  await review(s, await s.as(s.both), newer, { step: 'check', ...decide(await matchIds(s, newer), 'true_match') })
  await review(s, await s.as(s.approver), newer, { step: 'approve', verdict: 'approve' })
  t.equal((await s.db('entities').where({ id: s.client.id }).first()).screening_sanctions_match, true)
  await review(s, await s.as(s.manager), older, { step: 'approve', verdict: 'approve' })
  t.equal((await searchRow(s, older)).status, 'closed')
  t.equal(
    (await s.db('entities').where({ id: s.client.id }).first()).screening_sanctions_match,
    true,
    'the newer confirmation stands',
  )
  t.same(await s.db('screening_dismissals').where({ entity_id: s.client.id }), [], 'and the entry is not dismissed')
})
