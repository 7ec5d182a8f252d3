/**
 * One-time searches (issue 14): a name that is not a client, screened against the company's lists, recorded
 * and audited without spending a credit; who may create, view and delete them; bad input; other companies.
 */
import t, { type Test } from 'tap'
import { parseListPaths } from '../../src/screening/lists/parse.js'
import { importList } from '../../src/screening/lists/store.js'
import { profilesOf } from '../../src/screening/profiles.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

const FIXTURE = new URL('fixtures/opensanctions-targets.simple.csv', import.meta.url).pathname
const PUTIN = 'NK-3kXHJ2oEAmhTRRJbjvqfKF'
const UUID = /^\/one-time-searches\/([0-9a-f-]{36})$/

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  const [list] = await parseListPaths([FIXTURE])
  if (!list) throw new Error('no fixture list')
  await importList(db, { companyId: company.id, userId: admin.id }, list, { source: 'targets.simple.csv' })
  await db('companies').where({ id: company.id }).update({ screening_credits: 7 })
  const creator = await aUser(db, { company, name: 'Cleo Creator', permissions: ['create_one_time_searches'] })
  const viewer = await aUser(db, { company, name: 'Vic Viewer', permissions: ['view_one_time_searches'] })
  const deleter = await aUser(db, { company, name: 'Del Deleter', permissions: ['delete_one_time_searches'] })
  const reader = await aUser(db, {
    company,
    name: 'Rui Reader',
    permissions: ['read_data', 'manual_external_searches'],
  })
  const client = await anEntity(db, { company, owner: admin, name: 'Harbour Trust', kind: 'organisation' })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  const searches = (companyId = company.id) =>
    db('screening_searches').where({ company_id: companyId }).orderBy('created_at').select()
  const audits = (action: string) => db('audit_log').where({ company_id: company.id, action }).orderBy('id').select()
  /** Creates a one-time search through the form; returns its id. */
  const create = async (v: Visitor, fields: Record<string, string>) => {
    await v.get('/one-time-searches/new')
    const res = await v.post('/one-time-searches/new', fields)
    const id = UUID.exec(String(res.headers.location))?.[1]
    if (res.statusCode !== 303 || !id) throw new Error(`one-time search refused: ${res.statusCode}`)
    return id
  }
  return {
    app,
    db,
    company,
    other,
    admin,
    foreigner,
    creator,
    viewer,
    deleter,
    reader,
    client,
    as,
    searches,
    audits,
    create,
  }
}

t.test('a one-time search is recorded with its potential matches and explained, without a credit', async (t) => {
  const { db, company, creator, as, searches, audits } = await setup(t)
  const v = await as(creator)
  const form = await v.get('/one-time-searches/new')
  t.equal(form.statusCode, 200)
  t.match(visibleText(form.body), 'New one-time search')
  t.notMatch(form.body, 'name="profile"', 'no choice of profile without Manual External Searches')

  const res = await v.post('/one-time-searches/new', {
    name: 'Vladimir Putin',
    kind: 'individual',
    date_of_birth: '1952-10-07',
    country: 'RU',
  })
  t.equal(res.statusCode, 303)
  const id = UUID.exec(String(res.headers.location))?.[1] as string
  t.ok(id, 'sent to the search page')
  const page = await v.get(`/one-time-searches/${id}`)
  t.equal(page.statusCode, 200)
  const text = visibleText(page.body)
  t.match(text, 'The one-time search was recorded.')
  t.match(text, 'One-time search: Vladimir Putin')
  t.match(text, 'Searched as Vladimir Putin (individual, born 1952-10-07, Russian Federation)')
  t.match(text, /by Cleo Creator/)
  t.match(text, /Profile Standard: threshold [01]\.\d+/)
  t.match(text, 'Lists read OpenSanctions: opensanctions, version 1')
  t.match(text, /Potential matches \(1\)/)
  t.match(text, /Vladimir Vladimirovich Putin — score [01]\.\d{3}/)
  t.match(text, `OpenSanctions: opensanctions, entry ${PUTIN} (sanctions, PEP)`)
  t.match(text, /Matched name [^.]*putin/i, 'the name of the entry that matched')
  t.match(text, /Name parts .*vladimir ↔ vladimir .*putin ↔ putin .*Name score [\d.]+\./i, 'the name parts paired')
  t.match(text, /Date of birth 1952-10-07 searched, 1952-10-07 listed: raised the score by/)
  t.match(text, /Country Russian Federation searched, Russian Federation listed: /)
  t.notMatch(text, 'Delete this one-time search', 'Create does not include Delete')

  const [search] = await searches()
  t.match(search, {
    id,
    kind: 'one_time',
    entity_id: null,
    query: { name: 'Vladimir Putin', schema: 'individual', birthDate: '1952-10-07', country: 'RU' },
    profile: { name: 'Standard' },
    list_versions: { opensanctions: 1 },
    match_count: 1,
    status: 'closed',
    created_by: creator.id,
  })
  const matches = await db('screening_matches').where({ search_id: id }).select()
  t.equal(matches.length, 1)
  t.match(matches[0], { list: 'opensanctions', entry_id: PUTIN, name: 'Vladimir Vladimirovich Putin' })
  t.equal(Number(search.top_score), Number(matches[0].score))
  t.match(await audits('screening.one_time_search'), [
    {
      actor_user_id: creator.id,
      target_type: 'screening_search',
      target_id: id,
      after: { name: 'Vladimir Putin', profile: 'Standard', matches: 1 },
    },
  ])

  t.equal(
    (await db('companies').where({ id: company.id }).first('screening_credits')).screening_credits,
    7,
    'no credit spent',
  )
  t.equal((await db('screening_credit_ledger').where({ company_id: company.id })).length, 0, 'no ledger row')

  // Create includes View: the list of one-time searches.
  const listed = await v.get('/one-time-searches')
  t.equal(listed.statusCode, 200)
  t.match(visibleText(listed.body), /Vladimir Putin [\d-]+ [\d:]+ UTC Cleo Creator 1 \(best [01]\.\d{3}\)/)
  t.match(listed.body, `href="/one-time-searches/${id}"`)

  // A name no entry resembles: recorded, no potential match.
  const nobody = await v.post('/one-time-searches/new', { name: 'Zygmunt Quaxelbrot', kind: 'individual' })
  t.equal(nobody.statusCode, 303)
  const clear = visibleText((await v.get(String(nobody.headers.location))).body)
  t.match(clear, 'Potential matches (0) No potential match.')
  t.match((await searches())[1], { match_count: 0, status: 'clear', top_score: null })
})

t.test('who may create, view and delete one-time searches', async (t) => {
  const { db, creator, viewer, deleter, reader, as, searches, audits, create } = await setup(t)
  const c = await as(creator)
  const id = await create(c, { name: 'Kim Jong Un', kind: 'individual', country: 'KP' })
  const matchCount = async () => (await db('screening_matches').where({ search_id: id })).length
  const found = await matchCount()
  t.ok(found >= 1, 'Kim Jong Un is a potential match')

  // Read Data (even with Manual External Searches) is no permission for one-time searches.
  const r = await as(reader)
  for (const url of ['/one-time-searches', '/one-time-searches/new', `/one-time-searches/${id}`]) {
    t.equal((await r.get(url)).statusCode, 403, `GET ${url}: 403 without the permission`)
  }
  await r.get('/entities')
  const refused = await r.post('/one-time-searches/new', { name: 'Emmanuel Macron', kind: 'individual' })
  t.equal(refused.statusCode, 403, 'a user without Create One-Time Searches cannot create one')
  t.match(visibleText(refused.body), 'Create One-Time Searches')
  t.equal((await searches()).length, 1, 'nothing recorded')
  t.equal((await audits('screening.one_time_search')).length, 1)

  // View: sees them, creates none, deletes none.
  const v = await as(viewer)
  t.equal((await v.get('/one-time-searches')).statusCode, 200)
  const shown = await v.get(`/one-time-searches/${id}`)
  t.equal(shown.statusCode, 200)
  t.match(visibleText(shown.body), 'One-time search: Kim Jong Un')
  t.notMatch(visibleText(shown.body), 'Delete this one-time search')
  t.notMatch(visibleText((await v.get('/one-time-searches')).body), 'New one-time search')
  t.equal((await v.get('/one-time-searches/new')).statusCode, 403)
  t.equal((await v.get(`/one-time-searches/${id}/delete`)).statusCode, 403)
  await v.get('/one-time-searches')
  t.equal((await v.post('/one-time-searches/new', { name: 'X', kind: 'individual' })).statusCode, 403)
  t.equal((await v.post(`/one-time-searches/${id}/delete`, {})).statusCode, 403)
  t.equal((await searches()).length, 1, 'still there, and nothing new')

  // Delete includes View; it asks first, then deletes for good.
  const d = await as(deleter)
  const page = await d.get(`/one-time-searches/${id}`)
  t.equal(page.statusCode, 200, 'Delete includes View')
  t.match(page.body, `href="/one-time-searches/${id}/delete"`)
  t.equal((await d.get('/one-time-searches/new')).statusCode, 403, 'Delete does not include Create')
  const confirm = await d.get(`/one-time-searches/${id}/delete`)
  t.equal(confirm.statusCode, 200)
  t.match(visibleText(confirm.body), 'Delete the one-time search of Kim Jong Un? It is deleted for good')
  t.match(confirm.body, `action="/one-time-searches/${id}/delete"`)
  t.equal((await searches()).length, 1, 'the confirmation deletes nothing')

  const deleted = await d.post(`/one-time-searches/${id}/delete`, {})
  t.equal(deleted.statusCode, 303)
  t.equal(deleted.headers.location, '/one-time-searches')
  const after = visibleText((await d.get('/one-time-searches')).body)
  t.match(after, 'The one-time search of Kim Jong Un was deleted for good.')
  t.match(after, 'No one-time search has been recorded.')
  t.strictSame(await searches(), [], 'the search is gone')
  t.equal(await matchCount(), 0, 'its matches too')
  t.match(await audits('screening.one_time_search_deleted'), [
    {
      actor_user_id: deleter.id,
      target_type: 'screening_search',
      target_id: id,
      before: { name: 'Kim Jong Un', matches: found },
      after: null,
    },
  ])
  t.equal((await audits('screening.one_time_search')).length, 1, 'the audit row of its creation stays')
  t.equal((await d.get(`/one-time-searches/${id}`)).statusCode, 404, 'gone for good')
  t.equal((await d.get(`/one-time-searches/${id}/delete`)).statusCode, 404)
  await d.get('/one-time-searches')
  t.equal((await d.post(`/one-time-searches/${id}/delete`, {})).statusCode, 404, 'deleting it again: not found')
  t.equal((await audits('screening.one_time_search_deleted')).length, 1)
})

t.test('bad input is refused with what was typed kept, and nothing recorded', async (t) => {
  const { creator, as, searches, audits } = await setup(t)
  const v = await as(creator)
  await v.get('/one-time-searches/new')
  const cases: { what: string; fields: Record<string, string>; says: string[]; kept: string[] }[] = [
    {
      what: 'an empty name and no type',
      fields: { name: '   ', kind: '', date_of_birth: '', country: '' },
      says: ['Enter the name to screen', 'Choose whether the name is of an individual or an organisation'],
      kept: [],
    },
    {
      what: 'a date that does not exist',
      fields: { name: 'Anna Example', kind: 'individual', date_of_birth: '1984-02-30', country: 'DE' },
      says: ['Enter the date of birth as a real date, like 1984-03-27, or leave it empty'],
      kept: ['value="Anna Example"', 'value="1984-02-30"', '<option value="DE" selected'],
    },
    {
      what: 'a date that is no date',
      fields: { name: 'Anna Example', kind: 'individual', date_of_birth: '27/03/1984', country: '' },
      says: ['Enter the date of birth as a real date'],
      kept: ['value="27/03/1984"'],
    },
    {
      what: 'a date of birth for an organisation',
      fields: { name: 'Example Holdings', kind: 'organisation', date_of_birth: '1984-03-27', country: '' },
      says: ['Only an individual has a date of birth'],
      kept: ['value="Example Holdings"', 'value="1984-03-27"', 'value="organisation" checked'],
    },
    {
      what: 'an unknown country code',
      fields: { name: 'Anna Example', kind: 'individual', date_of_birth: '', country: 'XX' },
      says: ['Choose a country from the list, or leave it empty'],
      kept: ['value="Anna Example"'],
    },
    {
      what: 'a name over 300 characters',
      fields: { name: 'A'.repeat(301), kind: 'individual' },
      says: ['The name must be 300 characters or fewer'],
      kept: [`value="${'A'.repeat(301)}"`],
    },
  ]
  for (const c of cases) {
    const res = await v.post('/one-time-searches/new', c.fields)
    t.equal(res.statusCode, 422, `${c.what}: refused`)
    const text = visibleText(res.body)
    t.match(text, 'New one-time search', `${c.what}: the form again`)
    t.match(text, 'There is a problem', `${c.what}: with the error summary`)
    for (const said of c.says) t.match(text, said, `${c.what}: says ${said}`)
    for (const value of c.kept) t.match(res.body, value, `${c.what}: keeps ${value}`)
  }
  t.strictSame(await searches(), [], 'nothing recorded')
  t.equal((await audits('screening.one_time_search')).length, 0)
})

t.test('a company without lists is told to import them first', async (t) => {
  const { other, foreigner, as, searches } = await setup(t)
  const f = await as(foreigner)
  await f.get('/one-time-searches/new')
  const res = await f.post('/one-time-searches/new', { name: 'Vladimir Putin', kind: 'individual' })
  t.equal(res.statusCode, 422)
  t.match(visibleText(res.body), 'No sanctions or PEP lists are imported yet: an administrator imports them first')
  t.strictSame(await searches(other.id), [], "Alpha's lists are not Beta's")
})

t.test("another company's one-time search, or one under a client's address, is not found", async (t) => {
  const { db, admin, creator, foreigner, client, as, searches, create } = await setup(t)
  const id = await create(await as(creator), { name: 'Hizballah', kind: 'organisation' })

  const f = await as(foreigner)
  t.equal((await f.get(`/one-time-searches/${id}`)).statusCode, 404, "another company's search: 404")
  t.equal((await f.get(`/one-time-searches/${id}/delete`)).statusCode, 404)
  await f.get('/one-time-searches')
  t.equal((await f.post(`/one-time-searches/${id}/delete`, {})).statusCode, 404)
  t.notMatch(visibleText((await f.get('/one-time-searches')).body), 'Hizballah', 'not in their list either')
  t.equal((await searches()).length, 1, 'still there')

  const a = await as(admin)
  t.equal((await a.get(`/one-time-searches/${id}`)).statusCode, 200, 'its own company sees it')
  t.equal(
    (await a.get(`/entities/${client.id}/searches/${id}`)).statusCode,
    404,
    "a one-time search is no client's search",
  )
  t.equal((await a.get('/one-time-searches/not-a-uuid')).statusCode, 404)
  t.equal((await a.get('/one-time-searches/00000000-0000-4000-8000-000000000000')).statusCode, 404)
  t.equal((await db('screening_searches').where({ id })).length, 1)
})

t.test('the profile is chosen only by a user with Manual External Searches', async (t) => {
  const { db, company, creator, as, searches, create } = await setup(t)
  await profilesOf(db, company.id)
  const [strict] = await db('screening_profiles')
    .insert({ company_id: company.id, name: 'Strict', threshold: 0.99, is_default: false })
    .returning('id')
  const c = await as(creator)
  await create(c, { name: 'Kim Jong Un', kind: 'individual', profile: strict.id })
  t.match((await searches())[0], { profile: { name: 'Standard' } }, 'the default, whatever was sent')

  await db('user_permissions').insert({
    company_id: company.id,
    user_id: creator.id,
    permission: 'manual_external_searches',
  })
  const m = await as(creator)
  const form = await m.get('/one-time-searches/new')
  t.match(form.body, 'name="profile"', 'offered the profiles')
  t.match(visibleText(form.body), 'Standard (default)')
  await create(m, { name: 'Kim Jong Un', kind: 'individual', profile: strict.id })
  t.match((await searches())[1], { profile: { name: 'Strict', threshold: 0.99 }, profile_id: strict.id })
  await m.get('/one-time-searches/new')
  const unknown = await m.post('/one-time-searches/new', {
    name: 'Kim Jong Un',
    kind: 'individual',
    profile: '00000000-0000-4000-8000-000000000000',
  })
  t.equal(unknown.statusCode, 422)
  t.match(visibleText(unknown.body), 'Choose one of the search profiles')
  t.equal((await searches()).length, 2)
})
