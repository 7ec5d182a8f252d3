import t, { type Test } from 'tap'
import { screenAllCompanies, screenCompany } from '../../src/screening/nightly.js'
import { testApp } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, twoCompanies } from '../helpers/factories.js'
import { aList, LISTED } from '../helpers/screening.js'
import { appWithQueue } from '../jobs/helpers.js'

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  await aList(db, company)
  const client = (name: string, kind: 'individual' | 'organisation' = 'individual', deleted = false) =>
    anEntity(db, { company, owner: admin, name, kind, deleted })
  const ivan = await client('Ivan Sidorov')
  const plain = await client('Penelope Plainname')
  const shadow = await client('Shadow Fleet Trading', 'organisation')
  const binned = await client('Ivan Sidorov', 'individual', true)
  const searchesOf = (entityId: string) =>
    db('screening_searches').where({ entity_id: entityId }).orderBy('created_at').select()
  return { app, db, company, other, admin, foreigner, ivan, plain, shadow, binned, searchesOf, client }
}

t.test('the first run screens every live client once, records each outcome, spends no credit', async (t) => {
  const s = await setup(t)
  const result = await screenCompany(s.db, s.company.id)
  t.match(result, { screened: 3, searches: 3, full: true })
  t.match(await s.searchesOf(s.ivan.id), [{ kind: 'automated', status: 'open', match_count: 1, created_by: null }])
  t.match(await s.searchesOf(s.plain.id), [{ kind: 'automated', status: 'clear', match_count: 0 }])
  t.match(await s.searchesOf(s.shadow.id), [{ status: 'open', match_count: 1 }])
  t.same(await s.searchesOf(s.binned.id), [], 'a client in the recycle bin is not screened')
  const [match] = await s
    .db('screening_matches')
    .join('screening_searches as s', 's.id', 'screening_matches.search_id')
    .where('s.entity_id', s.ivan.id)
    .select('screening_matches.*')
  t.match(match, { list: 'watch', entry_id: 'os-ivan', name: 'Ivan Petrovich Sidorov' })
  t.match(match.explanation, { matchedName: 'Ivan Petrovich Sidorov', unpairedList: ['petrovich'] })
  t.equal((await s.db('companies').where({ id: s.company.id }).first()).screening_credits, 0)
  t.equal((await s.db('screening_credit_ledger')).length, 0)
  t.match(await s.db('screening_runs').where({ company_id: s.company.id }).first(), { list_versions: { watch: 1 } })
})

t.test('nothing changed: the next run screens nobody and records nothing', async (t) => {
  const s = await setup(t)
  await screenCompany(s.db, s.company.id)
  t.match(await screenCompany(s.db, s.company.id), { screened: 0, searches: 0, full: false })
  t.equal((await s.db('screening_searches')).length, 3)
})

t.test('a changed client is screened again; a search is recorded only when its outcome changes', async (t) => {
  const s = await setup(t)
  await screenCompany(s.db, s.company.id)
  await s.db('entities').where({ id: s.plain.id }).update({ name: 'Penelope Q. Plainname' })
  t.match(await screenCompany(s.db, s.company.id), { screened: 1, searches: 0 }, 'screened, still clear: no new search')
  await s.db('entities').where({ id: s.plain.id }).update({ name: 'Maria Gonzalez Lopez' })
  t.match(await screenCompany(s.db, s.company.id), { screened: 1, searches: 1 })
  t.match((await s.searchesOf(s.plain.id)).at(-1), { status: 'open', match_count: 1 })
})

t.test('a new list version: only the entries it added or changed are screened against every client', async (t) => {
  const s = await setup(t)
  await screenCompany(s.db, s.company.id)
  const penelope = {
    ...(LISTED[1] as (typeof LISTED)[number]),
    entryId: 'os-penelope',
    topics: ['pep' as const],
    name: 'Penelope Plainname',
    names: [{ name: 'Penelope Plainname', quality: 'strong' as const }],
  }
  // Penelope is added; Shadow Fleet leaves the list.
  await aList(s.db, s.company, [LISTED[0], LISTED[1], penelope] as typeof LISTED)
  const run = await screenCompany(s.db, s.company.id)
  t.match(
    run,
    { full: false, screened: 2, searches: 2 },
    'only Penelope (now matched) and Shadow Fleet (its entry left) are screened in full',
  )
  t.match((await s.searchesOf(s.plain.id)).at(-1), { status: 'open', match_count: 1 })
  t.match((await s.searchesOf(s.shadow.id)).at(-1), { status: 'clear', match_count: 0 })
  t.equal((await s.searchesOf(s.ivan.id)).length, 1, 'Ivan’s outcome is unchanged: no new search')
})

t.test('a false match resolved stays quiet at night too', async (t) => {
  const s = await setup(t)
  await screenCompany(s.db, s.company.id)
  const [search] = await s.searchesOf(s.ivan.id)
  const state = await s.db('entity_screening').where({ entity_id: s.ivan.id }).first()
  const [m] = await s.db('screening_matches').where({ search_id: search.id })
  await s.db('screening_dismissals').insert({
    company_id: s.company.id,
    entity_id: s.ivan.id,
    list: 'watch',
    entry_id: 'os-ivan',
    entry_hash: m.entry_hash,
    subject_hash: state.subject_hash,
    search_id: search.id,
  })
  await s.db('entities').where({ id: s.ivan.id }).update({ notes: 'A change that is not name data' })
  // A profile change screens everyone again in full; Ivan's match is dismissed, so his outcome is now clear.
  await s.db('screening_profiles').where({ company_id: s.company.id }).update({ threshold: 0.87 })
  const run = await screenCompany(s.db, s.company.id)
  t.match(run, { full: true, screened: 3 })
  t.match((await s.searchesOf(s.ivan.id)).at(-1), { status: 'clear', match_count: 0 })
})

t.test('the job screens every company that has lists, each against its own', async (t) => {
  const s = await setup(t)
  const foreign = await anEntity(s.db, { company: s.other, owner: s.foreigner, name: 'Ivan Sidorov' })
  const run = await screenAllCompanies(s.db)
  t.match(run, { companies: 1, screened: 3, searches: 3 })
  t.same(await s.searchesOf(foreign.id), [], 'a company without lists is not screened')
})

t.test('the nightly run is the job screening.nightly of the job queue', async (t) => {
  const { db, url } = await testDatabase(t)
  const { app, queue } = await appWithQueue(t, { db, url, work: false })
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  await aList(db, company)
  await anEntity(db, { company, owner: admin, name: 'Maria Gonzalez Lopez' })
  t.ok(
    queue.definitions.some((d) => d.name === 'screening.nightly' && d.cron === '0 2 * * *'),
    'every night at 02:00',
  )
  t.same(await app.jobs.runNow('screening.nightly'), { companies: 1, screened: 1, searches: 1 })
  t.match(await db('screening_searches').where({ company_id: company.id }), [{ kind: 'automated', status: 'open' }])
})

t.test('a client restored from the recycle bin is screened in full the next night', async (t) => {
  const s = await setup(t)
  await screenCompany(s.db, s.company.id)
  await s.db('entities').where({ id: s.plain.id }).update({ deleted_at: s.db.fn.now() })
  const penelope = {
    ...(LISTED[1] as (typeof LISTED)[number]),
    entryId: 'os-penelope',
    name: 'Penelope Plainname',
    names: [{ name: 'Penelope Plainname', quality: 'strong' as const }],
  }
  await aList(s.db, s.company, [...LISTED, penelope] as typeof LISTED)
  await screenCompany(s.db, s.company.id)
  t.equal((await s.searchesOf(s.plain.id)).length, 1, 'not screened while in the bin')
  await s.db('entities').where({ id: s.plain.id }).update({ deleted_at: null })
  t.notOk(await s.db('entity_screening').where({ entity_id: s.plain.id }).first(), 'its screening state is forgotten')
  await screenCompany(s.db, s.company.id)
  t.match(
    (await s.searchesOf(s.plain.id)).at(-1),
    { status: 'open', match_count: 1 },
    'matched to the entry added meanwhile',
  )
})
