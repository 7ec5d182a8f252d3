/**
 * The Searches page and the search log (issue 14): searches set up through the services (the nightly run,
 * a manual search, one-time searches, a four-eyes check), then read as each kind of user: client access,
 * tabs and filters, the administrators' log with its filters, and its CSV export.
 */
import { parse } from 'csv-parse/sync'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/knex.js'
import { actorOfUser } from '../../src/http/actor.js'
import { parseListPaths } from '../../src/screening/lists/parse.js'
import { importList } from '../../src/screening/lists/store.js'
import { runManualSearch, runOneTimeSearch } from '../../src/screening/manual.js'
import { screenCompany } from '../../src/screening/nightly.js'
import type { ScreenedClient } from '../../src/screening/provider.js'
import { recordReview } from '../../src/screening/review.js'
import { setFourEyes } from '../../src/screening/settings.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity, initialiseSharing } from '../helpers/entities.js'
import { aShare, aUser, clientAccessOn, PASSWORD, twoCompanies } from '../helpers/factories.js'

const FIXTURE = new URL('fixtures/opensanctions-targets.simple.csv', import.meta.url).pathname
const FORMULA = '=HYPERLINK("x")'

/** A client as a search screens it. */
async function screened(db: Db, id: string): Promise<ScreenedClient & { id: string }> {
  return db('entities')
    .where({ id })
    .first(
      'id',
      'name',
      'kind',
      db.raw(`to_char(date_of_birth, 'YYYY-MM-DD') AS date_of_birth`),
      'nationality',
      'country_of_residence',
      'country_of_incorporation',
    )
}

/** The text of each row of a page's table body. */
function tableRows(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? ''
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => visibleText(m[1] ?? ''))
}

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  await clientAccessOn(db, company)
  const [list] = await parseListPaths([FIXTURE])
  if (!list) throw new Error('no fixture list')
  for (const [c, u] of [
    [company, admin],
    [other, foreigner],
  ] as const)
    await importList(db, { companyId: c.id, userId: u.id }, list, { source: 'targets.simple.csv' })

  const checker = await aUser(db, { company, name: 'Chuck Checker', permissions: ['check_entity_external_searches'] })
  const manager = await aUser(db, {
    company,
    name: 'Mona Manager',
    permissions: ['manage_external_searches', 'manual_external_searches'],
  })
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })

  const org = (name: string) => anEntity(db, { company, owner: admin, name, kind: 'organisation' })
  const rosneft = await org('Rosneft Oil Company')
  const hizballah = await org('Hizballah')
  const plain = await org('Plain Paper Ltd')
  const kim = await anEntity(db, { company, owner: admin, name: 'Kim Jong Un', kind: 'individual' })
  await db('entities').where({ id: rosneft.id }).update({ country_of_incorporation: 'RU' })
  await db('entities').where({ id: kim.id }).update({ nationality: 'KP' })
  await initialiseSharing(db, rosneft, hizballah, plain, kim)
  // The checker has access to every client but Rosneft's.
  for (const client of [hizballah, plain, kim]) await aShare(db, { company, client, user: checker })
  const foreignClient = await anEntity(db, {
    company: other,
    owner: foreigner,
    name: 'Banco Nacional de Cuba',
    kind: 'organisation',
  })

  // The nightly run screens every client once: Rosneft, Hizballah and Kim are open, Plain Paper is clear.
  t.match(await screenCompany(db, company.id), { screened: 4, searches: 4, full: true })
  t.match(await screenCompany(db, other.id), { screened: 1, searches: 1 })
  const automated = async (entityId: string) =>
    (await db('screening_searches').where({ entity_id: entityId, kind: 'automated' }).first()) as {
      id: string
      status: string
    }
  // A manual search of Hizballah by the manager: one credit.
  await db('companies').where({ id: company.id }).update({ screening_credits: 5 })
  const managerActor = await actorOfUser(db, manager.id)
  const manual = await runManualSearch(db, managerActor, await screened(db, hizballah.id), undefined)
  // Four-eyes review on; the checker checks Kim's search: it awaits approval.
  const adminActor = await actorOfUser(db, admin.id)
  await setFourEyes(db, adminActor, true)
  const kimSearch = await automated(kim.id)
  const kimMatches: string[] = await db('screening_matches').where({ search_id: kimSearch.id }).pluck('id')
  t.ok(kimMatches.length > 0, 'Kim Jong Un is a potential match')
  await recordReview(db, await actorOfUser(db, checker.id), company.id, kimSearch.id, {
    step: 'check',
    decisions: Object.fromEntries(
      kimMatches.map((id) => [id, { decision: 'true_match', rationale: 'The listed person, same nationality.' }]),
    ),
  })
  // One-time searches by the administrator, one of a name a spreadsheet would take for a formula.
  const oneTime = await runOneTimeSearch(db, adminActor, {
    name: 'Vladimir Putin',
    kind: 'individual',
    date_of_birth: '',
    country: 'RU',
    profile: '',
  })
  const formula = await runOneTimeSearch(db, adminActor, {
    name: FORMULA,
    kind: 'organisation',
    date_of_birth: '',
    country: '',
    profile: '',
  })

  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  const searches = {
    rosneft: (await automated(rosneft.id)).id,
    hizballah: (await automated(hizballah.id)).id,
    plain: (await automated(plain.id)).id,
    kim: kimSearch.id,
    manual: manual.searchId,
    oneTime,
    formula,
  }
  return {
    app,
    db,
    company,
    other,
    admin,
    foreigner,
    checker,
    manager,
    reader,
    rosneft,
    hizballah,
    plain,
    kim,
    foreignClient,
    searches,
    as,
  }
}

t.test('the searches are what the services recorded', async (t) => {
  const { db, company, manager, searches } = await setup(t)
  const rows = await db('screening_searches').where({ company_id: company.id }).select('id', 'kind', 'status')
  const byId = Object.fromEntries(rows.map((r) => [r.id, `${r.kind} ${r.status}`]))
  t.strictSame(byId, {
    [searches.rosneft]: 'automated open',
    [searches.hizballah]: 'automated superseded',
    [searches.plain]: 'automated clear',
    [searches.kim]: 'automated awaiting_approval',
    [searches.manual]: 'manual open',
    [searches.oneTime]: 'one_time closed',
    [searches.formula]: 'one_time clear',
  })
  t.match(await db('screening_credit_ledger').where({ company_id: company.id }).select(), [
    { change: -1, balance_after: 4, reason: 'manual_search', search_id: searches.manual, user_id: manager.id },
  ])
})

t.test('the Searches page: only clients the reader may open, by tab, kind and client name', async (t) => {
  const { admin, checker, manager, reader, foreigner, searches, rosneft, hizballah, plain, kim, as } = await setup(t)
  const c = await as(checker)
  const open = await c.get('/searches')
  t.equal(open.statusCode, 200)
  t.match(
    visibleText(open.body),
    'Four-eyes review is on: a search is checked by one person, then approved by another.',
  )
  const openRows = tableRows(open.body)
  t.equal(
    openRows.length,
    1,
    'the open searches of clients shared with the checker: Hizballah’s manual one (it superseded the nightly one)',
  )
  t.match(openRows[0], /^Hizballah: search of .+ Manual, by Mona Manager \d+ \(best [01]\.\d{3}\) Open: to review$/)
  t.match(open.body, `href="/entities/${hizballah.id}/searches/${searches.manual}"`)
  t.notMatch(open.body, 'Rosneft', 'a client the checker has no access to is not shown')
  t.notMatch(open.body, searches.rosneft)
  t.notMatch(visibleText(open.body), 'Vladimir Putin', 'one-time searches are not client searches')

  const awaiting = await c.get('/searches?tab=awaiting_approval')
  const awaitingRows = tableRows(awaiting.body)
  t.equal(awaitingRows.length, 1)
  t.match(
    awaitingRows[0],
    /^Kim Jong Un: search of .+ Automated \(nightly\) \d+ \(best [01]\.\d{3}\) Awaiting approval, checked by Chuck Checker$/,
  )
  t.match(awaiting.body, `href="/entities/${kim.id}/searches/${searches.kim}"`)
  const closed = await c.get('/searches?tab=closed')
  const closedRows = tableRows(closed.body)
  t.equal(closedRows.length, 2, 'closed: Plain Paper’s clear search and Hizballah’s superseded one')
  t.ok(closedRows.some((r) => /^Plain Paper Ltd: search of .+ Automated \(nightly\) 0 No potential match$/.test(r)))
  t.ok(
    closedRows.some((r) => /^Hizballah: search of .+ Automated \(nightly\) .+ Superseded by a newer search$/.test(r)),
  )
  t.match(closed.body, `href="/entities/${plain.id}/searches/${searches.plain}"`)
  t.match(closed.body, /<a href="\/searches\?tab=closed" aria-current="page">Closed<\/a>/)
  t.equal((await c.get('/searches?tab=nonsense')).statusCode, 200, 'an unknown tab is the open one')

  // The administrator has access to every client: Rosneft's search too.
  const a = await as(admin)
  const all = await a.get('/searches')
  t.equal(tableRows(all.body).length, 2)
  t.match(all.body, `href="/entities/${rosneft.id}/searches/${searches.rosneft}"`)

  // Filters: the kind, and the client's name.
  const manualOnly = tableRows((await a.get('/searches?kind=manual')).body)
  t.equal(manualOnly.length, 1)
  t.match(manualOnly[0], 'Hizballah: search of')
  t.match(manualOnly[0], 'Manual, by Mona Manager')
  const automatedOnly = tableRows((await a.get('/searches?kind=automated')).body)
  t.equal(automatedOnly.length, 1)
  t.ok(
    automatedOnly.every((r) => r.includes('Automated (nightly)')),
    'automated only',
  )
  const byName = await a.get('/searches?client=ROSN')
  t.strictSame(
    tableRows(byName.body).map((r) => r.split(':')[0]),
    ['Rosneft Oil Company'],
    'client name contains, any case',
  )
  t.match(byName.body, 'value="ROSN"', 'the filter is shown as typed')
  const none = await a.get('/searches?client=nobody&kind=manual')
  t.equal(tableRows(none.body).length, 0)
  t.match(visibleText(none.body), 'No search is open with these filters.')
  // The checker filtering on a client they may not open finds nothing.
  t.equal(tableRows((await c.get('/searches?client=rosneft')).body).length, 0)

  // Manage External Searches reads the page; Read Data alone does not.
  t.equal((await (await as(manager)).get('/searches')).statusCode, 200)
  const r = await as(reader)
  const refused = await r.get('/searches')
  t.equal(refused.statusCode, 403)
  t.notMatch(refused.body, 'Hizballah')

  // Beta Bank's administrator sees Beta's search only; Alpha's pages never show Beta's.
  const f = await as(foreigner)
  const theirs = tableRows((await f.get('/searches')).body)
  t.equal(theirs.length, 1)
  t.match(theirs[0], 'Banco Nacional de Cuba')
  t.notMatch(all.body, 'Banco Nacional de Cuba')
})

t.test('the search log: every search, who ran it, its profile, list versions and matches; filtered', async (t) => {
  const { db, admin, checker, manager, foreigner, searches, as } = await setup(t)
  const a = await as(admin)
  const page = await a.get('/settings/search-log')
  t.equal(page.statusCode, 200)
  const rows = tableRows(page.body)
  t.equal(rows.length, 7, 'every search of the company: automated, manual and one-time')
  const rowOf = (name: string) => rows.filter((r) => r.includes(name))
  t.match(rowOf('Rosneft Oil Company'), [
    /^[\d-]+ [\d:]+ UTC Automated \(nightly\), by the system Rosneft Oil Company Standard \([01]\.\d+\) opensanctions v1 \d+ [01]\.\d{3}$/,
  ])
  t.match(rowOf('Hizballah'), [
    /Manual, by Mona Manager Hizballah Standard \([01]\.\d+\) opensanctions v1 \d+ [01]\.\d{3}$/,
    /Automated \(nightly\), by the system Hizballah Standard \([01]\.\d+\) opensanctions v1 \d+ [01]\.\d{3}$/,
  ])
  t.match(rowOf('Vladimir Putin'), [
    /One-time, by Ada Admin Vladimir Putin Standard \([01]\.\d+\) opensanctions v1 \d+ [01]\.\d{3}$/,
  ])
  t.match(rowOf('Plain Paper Ltd'), [
    /Automated \(nightly\), by the system Plain Paper Ltd Standard \([01]\.\d+\) opensanctions v1 0 —$/,
  ])
  t.match(rowOf(FORMULA), [/One-time, by Ada Admin =HYPERLINK\("x"\) Standard \([01]\.\d+\) opensanctions v1 0 —$/])
  t.match(page.body, `href="/one-time-searches/${searches.oneTime}"`, 'a one-time search links to its page')
  t.match(page.body, `href="/entities/`)
  t.notMatch(page.body, 'Banco Nacional de Cuba', "Beta's search is not in Alpha's log")
  const topScore = await db('screening_searches').where({ id: searches.rosneft }).first('top_score')
  t.match(rowOf('Rosneft Oil Company')[0], new RegExp(` ${topScore.top_score.replace('.', '\\.')}$`))

  const filtered = async (q: string) => tableRows((await a.get(`/settings/search-log?${q}`)).body)
  t.strictSame(
    (await filtered('kind=one_time')).map((r) => r.replace(/^[\d-]+ [\d:]+ UTC /, '').split(' Standard')[0]),
    [`One-time, by Ada Admin ${FORMULA}`, 'One-time, by Ada Admin Vladimir Putin'],
    'one-time searches, newest first',
  )
  t.equal((await filtered('kind=automated')).length, 4)
  const byManager = await filtered(`user=${manager.id}`)
  t.equal(byManager.length, 1, 'run by the manager')
  t.match(byManager[0], 'Manual, by Mona Manager Hizballah')
  t.equal((await filtered(`user=${checker.id}`)).length, 0, 'a check is no search')
  t.strictSame(
    (await filtered('name=rosn')).map((r) => r.includes('Rosneft Oil Company')),
    [true],
    'name searched contains, any case',
  )
  t.equal((await filtered('kind=manual&name=rosn')).length, 0, 'filters together')

  // The day range (UTC, both days included): Plain Paper's search moved to 15 January 2026.
  await db('screening_searches')
    .where({ id: searches.plain })
    .update({ created_at: new Date('2026-01-15T23:30:00Z') })
  const day = await filtered('from=2026-01-15&to=2026-01-15')
  t.equal(day.length, 1)
  t.match(day[0], /^2026-01-15 23:30 UTC Automated \(nightly\), by the system Plain Paper Ltd/)
  t.equal((await filtered('from=2026-01-16&to=2026-01-16')).length, 0)
  t.equal((await filtered('to=2026-01-15')).length, 1, 'to alone')
  t.equal((await filtered('from=2026-01-16')).length, 6, 'from alone')
  const empty = await a.get('/settings/search-log?to=2026-01-14')
  t.match(visibleText(empty.body), 'No search matches these filters.')

  // A day that is no day: said, the filter not applied, no error page.
  const bad = await a.get('/settings/search-log?from=2026-02-30&to=yesterday')
  t.equal(bad.statusCode, 200)
  const badText = visibleText(bad.body)
  t.match(badText, 'There is a problem')
  t.match(badText, 'Enter the day as year-month-day, like 2026-11-24')
  t.match(bad.body, 'value="2026-02-30"', 'what was typed is kept')
  t.match(bad.body, 'value="yesterday"')
  t.equal(tableRows(bad.body).length, 7)

  // Administrators only.
  for (const user of [checker, manager]) {
    const v = await as(user)
    t.equal((await v.get('/settings/search-log')).statusCode, 403)
    t.equal((await v.get('/settings/search-log.csv')).statusCode, 403)
  }
  const f = await as(foreigner)
  const theirs = tableRows((await f.get('/settings/search-log')).body)
  t.equal(theirs.length, 1)
  t.match(theirs[0], 'Banco Nacional de Cuba')
})

t.test('the CSV export: a header, one row per search the filters match, formulas defused', async (t) => {
  const { db, admin, foreigner, searches, as } = await setup(t)
  const a = await as(admin)
  const res = await a.get('/settings/search-log.csv')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/csv/)
  t.match(res.headers['content-disposition'], /^attachment; filename="search-log-\d{4}-\d{2}-\d{2}\.csv"$/)
  const [header, ...rows] = parse(res.body) as string[][]
  t.strictSame(header, [
    'Time (UTC)',
    'Search',
    'Who',
    'Client',
    'Name searched',
    'Type',
    'Date of birth',
    'Country',
    'Profile',
    'Threshold',
    'List versions',
    'Potential matches',
    'Top score',
    'Status',
    'Search id',
  ])
  t.equal(rows.length, 7, 'one row per search')
  t.strictSame(new Set(rows.map((r) => r[14])), new Set(Object.values(searches)), 'each search once')
  const byId = (id: string) => rows.find((r) => r[14] === id) as string[]
  const manual = byId(searches.manual)
  t.match(manual, [
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
    'Manual',
    'Mona Manager',
    'Hizballah',
    'Hizballah',
    'organisation',
    '',
    '',
    'Standard',
    /^[01]\.\d+$/,
    'opensanctions v1',
    /^[1-9]\d*$/,
    /^[01]\.\d{3}$/,
    'Open: to review',
    searches.manual,
  ])
  t.match(byId(searches.kim), [String, 'Automated (nightly)', 'The system (nightly)', 'Kim Jong Un', 'Kim Jong Un'])
  t.equal(byId(searches.kim)[7], 'KP')
  t.equal(byId(searches.kim)[13], 'Awaiting approval')
  t.match(byId(searches.oneTime), [String, 'One-time', 'Ada Admin', '', 'Vladimir Putin', 'individual', '', 'RU'])
  t.equal(byId(searches.formula)[4], `'${FORMULA}`, 'a name starting with = is prefixed with an apostrophe')
  t.match(res.body, `"'=HYPERLINK(""x"")"`)
  t.notMatch(res.body, /(^|,)=HYPERLINK/m, 'no cell starts with =')
  t.notMatch(res.body, 'Banco Nacional de Cuba')

  // The page's filters apply to the export.
  const oneTimes = parse((await a.get('/settings/search-log.csv?kind=one_time')).body) as string[][]
  t.equal(oneTimes.length, 3, 'a header and the two one-time searches')
  t.ok(
    oneTimes.slice(1).every((r) => r[1] === 'One-time'),
    'one-time only',
  )
  const hizb = parse((await a.get('/settings/search-log.csv?name=hizb&kind=automated')).body) as string[][]
  t.strictSame(
    hizb.slice(1).map((r) => r[14]),
    [searches.hizballah],
  )
  await db('screening_searches')
    .where({ id: searches.plain })
    .update({ created_at: new Date('2026-01-15T12:00:00Z') })
  const day = parse((await a.get('/settings/search-log.csv?from=2026-01-15&to=2026-01-15')).body) as string[][]
  t.strictSame(
    day.slice(1).map((r) => r[14]),
    [searches.plain],
  )
  const nothing = parse((await a.get('/settings/search-log.csv?to=2026-01-14')).body) as string[][]
  t.equal(nothing.length, 1, 'the header alone when nothing matches')

  const f = await as(foreigner)
  const theirs = parse((await f.get('/settings/search-log.csv')).body) as string[][]
  t.equal(theirs.length, 2)
  t.equal(theirs[1]?.[3], 'Banco Nacional de Cuba')
})
