/**
 * The Reports tab (issue 16; src/reports/): who may see it, that every figure counts only the clients the
 * reader may open and is the count of the client list its row links to, the filters, the activity,
 * searches and self-service reports, the CSV downloads (and their audit rows), and bad input.
 */
import { randomBytes } from 'node:crypto'
import { parse } from 'csv-parse/sync'
import t, { type Test } from 'tap'
import { countryName } from '../../src/entities/reference.js'
import { CLIENT_COLUMNS } from '../../src/reports/export.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aGroup, aShare, aUser, clientAccessOn, PASSWORD, twoCompanies, type User } from '../helpers/factories.js'
import { assess, type Classification } from '../helpers/risk.js'

const DAY = 86_400_000
const today = () => new Date().toISOString().slice(0, 10)
const inDays = (n: number) => new Date(Date.now() + n * DAY).toISOString().slice(0, 10)

/**
 * Alpha Advisers with client access on (unless told) and nine live clients. Rita Reader (View Reports only)
 * may open six of them: two she owns, two shared with her, one shared with her group, one shared with the
 * whole company; Otto Owner's other three are hers to count never. Visible to Rita: 3 High, 2 Medium,
 * 1 not assessed; the administrator sees 4 High, 2 Medium, 1 Low, 2 not assessed. A client in the recycle
 * bin and Beta Bank's client count for nobody here.
 */
async function seed(t: Test, opts: { clientAccess?: boolean } = {}) {
  const ctx = await testApp(t)
  const { db, app } = ctx
  const { company, other, admin, foreigner } = await twoCompanies(db)
  if (opts.clientAccess ?? true) await clientAccessOn(db, company)
  const reader = await aUser(db, { company, name: 'Rita Reader', permissions: ['view_reports'] })
  const plain = await aUser(db, { company, name: 'Pat Plain', permissions: ['read_data'] })
  const otto = await aUser(db, { company, name: 'Otto Owner', permissions: ['edit_entities'] })
  const team = await aGroup(db, { company, name: 'Reviewers', members: [reader] })

  const client = async (
    name: string,
    owner: User,
    o: {
      kind: 'individual' | 'organisation'
      status: string
      country?: string
      createdAt?: string
      risk?: { classification: Classification; reviewDueOn: string; outOfDate?: boolean }
      deleted?: boolean
    },
  ) => {
    const e = await anEntity(db, { company, owner, name, kind: o.kind, status: o.status, deleted: o.deleted })
    const update: Record<string, unknown> = {}
    if (o.country) update[o.kind === 'individual' ? 'country_of_residence' : 'country_of_incorporation'] = o.country
    if (o.createdAt) update.created_at = new Date(`${o.createdAt}T12:00:00Z`)
    if (Object.keys(update).length > 0) await db('entities').where({ id: e.id }).update(update)
    // After the country: a change to what the rules read would mark the state for a recheck.
    if (o.risk) await assess(db, company, admin, e, o.risk)
    return e
  }

  // Rita's own.
  const ash = await client('Ash Adams', reader, {
    kind: 'individual',
    status: 'prospect',
    country: 'GB',
    createdAt: '2025-01-10',
    risk: { classification: 'high', reviewDueOn: '2020-01-01' },
  })
  const birch = await client('Birch Holdings', reader, {
    kind: 'organisation',
    status: 'serviced_client',
    country: 'DE',
    createdAt: '2025-03-05',
    risk: { classification: 'high', reviewDueOn: inDays(400), outOfDate: true },
  })
  // Shared with her, her group, the whole company.
  const formula = await client('=Sum Trading', otto, {
    kind: 'organisation',
    status: 'prospect',
    country: 'DE',
    risk: { classification: 'high', reviewDueOn: inDays(30) },
  })
  const cedar = await client('Cedar Cole', otto, {
    kind: 'individual',
    status: 'one_off_service',
    country: 'GB',
    risk: { classification: 'medium', reviewDueOn: inDays(30) },
  })
  const dale = await client('Dale Dunn', admin, {
    kind: 'individual',
    status: 'former_client',
    risk: { classification: 'medium', reviewDueOn: inDays(200) },
  })
  const elm = await client('Elm Estates', otto, { kind: 'organisation', status: 'prospect' })
  await aShare(db, { company, client: formula, user: reader })
  await aShare(db, { company, client: dale, user: reader })
  await aShare(db, { company, client: cedar, group: team })
  await aShare(db, { company, client: elm, wholeCompany: true })
  // Not hers.
  const fir = await client('Fir Finance', otto, {
    kind: 'organisation',
    status: 'prospect',
    country: 'GB',
    risk: { classification: 'high', reviewDueOn: '2021-06-01' },
  })
  const gale = await client('Gale Grant', otto, {
    kind: 'individual',
    status: 'serviced_client',
    country: 'FR',
    risk: { classification: 'low', reviewDueOn: inDays(30) },
  })
  const hazel = await client('Hazel Hart', otto, { kind: 'individual', status: 'prospect' })
  // Nobody's figures: in the recycle bin, or another company's.
  await client('Ivy Binned', reader, {
    kind: 'individual',
    status: 'prospect',
    risk: { classification: 'high', reviewDueOn: '2020-01-01' },
    deleted: true,
  })
  await anEntity(db, { company: other, owner: foreigner, name: 'Beta Client' })

  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    await v.get('/')
    return v
  }
  return {
    ...ctx,
    company,
    other,
    admin,
    foreigner,
    reader,
    plain,
    otto,
    team,
    clients: { ash, birch, formula, cedar, dale, elm, fir, gale, hazel },
    as,
  }
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')

interface Row {
  label: string
  href?: string
  /** The other columns' figures (age bands), then the row's own. */
  cells: number[]
  value: number
}

/** The rows of a report page's table. */
function reportRows(html: string): Row[] {
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? ''
  return [...tbody.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, tr]) => {
    const th = /<th scope="row">([\s\S]*?)<\/th>/.exec(tr as string)?.[1] ?? ''
    const href = /<a href="([^"]+)">/.exec(th)?.[1]
    const figures = [...(tr as string).matchAll(/<td class="numeric">([^<]*)<\/td>/g)].map((m) =>
      Number((m[1] as string).replace(/,/g, '')),
    )
    return {
      label: unescapeHtml(th.replace(/<[^>]+>/g, '').trim()),
      ...(href ? { href: unescapeHtml(href) } : {}),
      cells: figures.slice(0, -1),
      value: figures.at(-1) ?? Number.NaN,
    }
  })
}

/** A report's rows as a label → figure map. */
const figures = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.label, r.value]))
const total = (rows: Row[]) => rows.reduce((s, r) => s + r.value, 0)

async function report(t: Test, v: Visitor, url: string): Promise<Row[]> {
  const res = await v.get(url)
  t.equal(res.statusCode, 200, `GET ${url}`)
  return reportRows(res.body)
}

/**
 * What the client list at `href` says it holds ("6 client relationships", "1–50 of 120 client
 * relationships", "No client relationship matches"), checked against the rows it shows: with a filter, only
 * clients the reader may open are listed.
 */
async function listCount(t: Test, v: Visitor, href: string): Promise<number> {
  const res = await v.get(href)
  t.equal(res.statusCode, 200, `GET ${href}`)
  const rows = [...res.body.matchAll(/<th scope="row"><a href="\/entities\/[0-9a-f-]{36}">/g)].length
  const hidden = [...res.body.matchAll(/<tr class="no-access">/g)].length
  t.equal(hidden, 0, `${href}: a filtered list shows no client without access`)
  if (res.body.includes('No client relationship matches')) {
    t.equal(rows, 0, `${href}: no rows`)
    return 0
  }
  const m = /(?:([\d,]+)–([\d,]+) of )?(more than )?([\d,]+) client relationships?\./.exec(visibleText(res.body))
  if (!m) {
    t.fail(`${href}: no range text in ${visibleText(res.body).slice(0, 400)}`)
    return Number.NaN
  }
  const count = Number((m[4] as string).replace(/,/g, ''))
  t.notOk(m[3], `${href}: an exact count`)
  if (count <= 50) t.equal(rows, count, `${href}: the range counts the rows shown`)
  return count
}

/** Every row of the report that links to the client list holds the count of that list. */
async function rowsMatchTheList(t: Test, v: Visitor, rows: Row[]) {
  let linked = 0
  for (const row of rows) {
    if (!row.href?.startsWith('/entities?')) continue
    linked++
    t.equal(await listCount(t, v, row.href), row.value, `${row.label}: ${row.href}`)
  }
  return linked
}

const LINKED_REPORTS = ['risk', 'status', 'type-country', 'reviews', 'owners'] as const

t.test('only View Reports opens the Reports tab, its reports and the exports; the nav link follows', async (t) => {
  const { reader, plain, admin, as } = await seed(t)
  const p = await as(plain)
  for (const url of [
    '/reports',
    '/reports/risk',
    '/reports/risk/csv',
    '/entities.csv',
    '/entities.csv?status=prospect',
  ]) {
    t.equal((await p.get(url)).statusCode, 403, `Read Data alone: ${url} is refused`)
  }
  t.notMatch((await p.get('/')).body, 'href="/reports"', 'no Reports link without the permission')
  t.notMatch((await p.get('/entities')).body, '/entities.csv', 'no list download without the permission')

  for (const user of [reader, admin]) {
    const v = await as(user)
    for (const url of ['/reports', '/reports/risk', '/reports/risk/csv', '/entities.csv']) {
      t.equal((await v.get(url)).statusCode, 200, `${user.name}: ${url}`)
    }
    t.match((await v.get('/')).body, 'href="/reports"', `${user.name}: the Reports link`)
    t.match((await v.get('/entities')).body, 'href="/entities.csv"', `${user.name}: the list's download`)
    const index = await v.get('/reports')
    for (const key of ['risk', 'status', 'type-country', 'searches', 'reviews', 'self-service', 'owners', 'activity']) {
      t.match(index.body, `href="/reports/${key}"`, `the index lists ${key}`)
      t.equal((await v.get(`/reports/${key}`)).statusCode, 200, `/reports/${key}`)
    }
    t.equal((await v.get('/reports/nope')).statusCode, 404, 'an unknown report')
    t.equal((await v.get('/reports/nope/csv')).statusCode, 404, 'an unknown report’s CSV')
    t.equal((await v.get('/reports/__proto__')).statusCode, 404, 'not a report either')
  }
})

t.test('a restricted reader’s figures count only the clients she may open, each that of its list', async (t) => {
  const { admin, reader, otto, as } = await seed(t)
  const r = await as(reader)
  const a = await as(admin)

  const risk = await report(t, r, '/reports/risk')
  t.strictSame(figures(risk), { High: 3, Medium: 2, Low: 0, 'Not assessed': 1 })
  t.strictSame(figures(await report(t, a, '/reports/risk')), { High: 4, Medium: 2, Low: 1, 'Not assessed': 2 })
  t.strictSame(
    risk.map((x) => x.href),
    ['/entities?risk=high', '/entities?risk=medium', '/entities?risk=low', '/entities?risk=none'],
  )

  t.strictSame(figures(await report(t, r, '/reports/status')), {
    Prospect: 3,
    'Serviced client (business relationship)': 1,
    'One-off service': 1,
    'Former client': 1,
  })
  t.strictSame(figures(await report(t, a, '/reports/status')), {
    Prospect: 5,
    'Serviced client (business relationship)': 2,
    'One-off service': 1,
    'Former client': 1,
  })

  // By the list each row leads to (its words are the report's to choose).
  const byType = await report(t, r, '/reports/type-country')
  t.strictSame(Object.fromEntries(byType.map((x) => [x.href, x.value])), {
    '/entities?kind=individual&country=GB': 2,
    '/entities?kind=organisation&country=DE': 2,
    '/entities?kind=individual&country=none': 1,
    '/entities?kind=organisation&country=none': 1,
  })
  t.match(byType.find((x) => x.href?.endsWith('country=GB'))?.label, countryName('GB'))
  t.match(byType.find((x) => x.href?.endsWith('kind=individual&country=none'))?.label, 'not known')

  t.strictSame(figures(await report(t, r, '/reports/reviews')), {
    Overdue: 1,
    'Due within 90 days': 2,
    'Out of date': 1,
    'Not assessed': 1,
  })
  t.strictSame(figures(await report(t, a, '/reports/reviews')), {
    Overdue: 2,
    'Due within 90 days': 3,
    'Out of date': 1,
    'Not assessed': 2,
  })

  const owners = await report(t, r, '/reports/owners')
  t.strictSame(
    owners.map((x) => [x.label, x.value]),
    [
      ['Otto Owner', 3],
      ['Rita Reader', 2],
      ['Ada Admin', 1],
    ],
    'the most first',
  )
  t.equal(owners[0]?.href, `/entities?owner=${otto.id}`)
  t.strictSame(
    (await report(t, a, '/reports/owners')).map((x) => [x.label, x.value]),
    [
      ['Otto Owner', 6],
      ['Rita Reader', 2],
      ['Ada Admin', 1],
    ],
  )

  for (const key of LINKED_REPORTS) {
    const mine = await report(t, r, `/reports/${key}`)
    const all = await report(t, a, `/reports/${key}`)
    if (key !== 'reviews') {
      t.equal(total(mine), 6, `${key}: Rita's six clients, each counted once`)
      t.equal(total(all), 9, `${key}: the administrator's nine`)
    }
    t.ok(total(mine) < total(all), `${key}: Rita's total is smaller than the administrator's`)
    t.ok((await rowsMatchTheList(t, r, mine)) > 0, `${key}: Rita's rows link to the list`)
    await rowsMatchTheList(t, a, all)
  }
})

t.test('with client access off the same reader counts every client, as the administrator does', async (t) => {
  const { admin, reader, as } = await seed(t, { clientAccess: false })
  const r = await as(reader)
  const a = await as(admin)
  for (const key of LINKED_REPORTS) {
    const mine = await report(t, r, `/reports/${key}`)
    const all = await report(t, a, `/reports/${key}`)
    t.strictSame(figures(mine), figures(all), `${key}: the same figures`)
    await rowsMatchTheList(t, r, mine)
  }
  t.strictSame(figures(await report(t, r, '/reports/risk')), { High: 4, Medium: 2, Low: 1, 'Not assessed': 2 })
})

t.test('another company’s administrator counts only their own clients', async (t) => {
  const { foreigner, as } = await seed(t)
  const f = await as(foreigner)
  t.strictSame(figures(await report(t, f, '/reports/risk')), { High: 0, Medium: 0, Low: 0, 'Not assessed': 1 })
  t.strictSame(
    (await report(t, f, '/reports/owners')).map((x) => [x.label, x.value]),
    [['Fay Foreign', 1]],
  )
})

t.test('owner, status, classification and the date range narrow every figure, and its list', async (t) => {
  const { reader, otto, as } = await seed(t)
  const r = await as(reader)

  const prospects = await report(t, r, '/reports/status?status=prospect')
  t.strictSame(
    prospects.map((x) => [x.label, x.value, x.href]),
    [['Prospect', 3, '/entities?status=prospect']],
  )
  t.strictSame(figures(await report(t, r, '/reports/risk?status=prospect')), {
    High: 2,
    Medium: 0,
    Low: 0,
    'Not assessed': 1,
  })
  t.strictSame(
    (await report(t, r, '/reports/risk?risk=high')).map((x) => [x.label, x.value]),
    [['High', 3]],
  )
  t.strictSame(
    (await report(t, r, '/reports/owners?risk=medium')).map((x) => [x.label, x.value]),
    [
      ['Ada Admin', 1],
      ['Otto Owner', 1],
    ],
  )
  const mine = await report(t, r, `/reports/risk?owner=${reader.id}`)
  t.strictSame(figures(mine), { High: 2, Medium: 0, Low: 0, 'Not assessed': 0 })
  t.equal(mine[0]?.href, `/entities?owner=${reader.id}&risk=high`, 'the row keeps the report’s filters')
  t.strictSame(figures(await report(t, r, '/reports/risk?from=2025-01-01&to=2025-01-31')), {
    High: 1,
    Medium: 0,
    Low: 0,
    'Not assessed': 0,
  })
  t.strictSame(figures(await report(t, r, '/reports/status?from=2025-01-01&to=2025-12-31')), {
    Prospect: 1,
    'Serviced client (business relationship)': 1,
    'One-off service': 0,
    'Former client': 0,
  })
  t.equal(total(await report(t, r, `/reports/type-country?from=${today()}`)), 4, 'created today: the other four')
  t.equal(total(await report(t, r, '/reports/risk?from=2025-02-01&to=2025-01-01')), 0, 'an empty range')

  // Every filtered report's rows are still the counts of their lists.
  const filters = [
    'status=prospect',
    `owner=${otto.id}`,
    `owner=${reader.id}&status=serviced_client`,
    'risk=high',
    'risk=none',
    'from=2025-01-01&to=2025-12-31',
    `from=${today()}&to=${today()}`,
  ]
  for (const q of filters) {
    for (const key of LINKED_REPORTS) await rowsMatchTheList(t, r, await report(t, r, `/reports/${key}?${q}`))
  }

  // The page keeps the filters in its links.
  const page = (await r.get(`/reports/risk?status=prospect&owner=${reader.id}`)).body
  t.match(page, `href="/reports/risk/csv?owner=${reader.id}&amp;status=prospect"`)
  t.match(page, `href="/entities?owner=${reader.id}&amp;status=prospect"`)
  t.match(page, `href="/entities.csv?owner=${reader.id}&amp;status=prospect"`)
})

t.test('the activity report counts audit events about the clients, per week from Monday', async (t) => {
  const { db, company, admin, reader, clients, as } = await seed(t)
  const event = (client: { id: string }, at: string, targetType = 'entity') =>
    db('audit_log').insert({
      company_id: company.id,
      actor_user_id: admin.id,
      action: 'entity.updated',
      target_type: targetType,
      target_id: client.id,
      created_at: new Date(at),
    })
  await event(clients.ash, '2025-06-03T10:00:00Z')
  await event(clients.ash, '2025-06-03T11:00:00Z')
  await event(clients.cedar, '2025-06-15T23:30:00Z') // a Sunday: the week from 9 June
  await event(clients.fir, '2025-06-10T09:00:00Z') // not Rita's
  await event(clients.ash, '2025-06-01T23:59:00Z') // before the range
  await event(clients.ash, '2025-06-23T00:00:00Z') // after it
  await event(clients.ash, '2025-06-04T09:00:00Z', 'document') // not about the client itself

  const range = 'from=2025-06-02&to=2025-06-22'
  const r = await as(reader)
  const mine = await report(t, r, `/reports/activity?${range}`)
  t.strictSame(
    mine.map((x) => [x.label, x.value]),
    [
      ['2025-06-02', 2],
      ['2025-06-09', 1],
      ['2025-06-16', 0],
    ],
  )
  t.ok(
    mine.every((x) => !x.href),
    'weeks link nowhere',
  )
  const a = await as(admin)
  t.strictSame(
    (await report(t, a, `/reports/activity?${range}`)).map((x) => [x.label, x.value]),
    [
      ['2025-06-02', 2],
      ['2025-06-09', 2],
      ['2025-06-16', 0],
    ],
  )
  t.strictSame(
    (await report(t, r, `/reports/activity?${range}&owner=${reader.id}`)).map((x) => [x.label, x.value]),
    [
      ['2025-06-02', 2],
      ['2025-06-09', 0],
      ['2025-06-16', 0],
    ],
    'only Rita’s own clients’ events',
  )
  t.strictSame(
    (await report(t, r, `/reports/activity?${range}&status=one_off_service`)).map((x) => [x.label, x.value]),
    [
      ['2025-06-02', 0],
      ['2025-06-09', 1],
      ['2025-06-16', 0],
    ],
  )

  // Without a range: the last 12 weeks, this week last, the events of today counted.
  await event(clients.ash, new Date().toISOString())
  const recent = await report(t, r, '/reports/activity')
  t.ok(recent.length >= 12 && recent.length <= 13, `12 or 13 weeks (${recent.length})`)
  const monday = new Date()
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7))
  t.equal(recent.at(-1)?.label, monday.toISOString().slice(0, 10), 'this week last')
  t.equal(recent.at(-1)?.value, 1)
  t.equal(total(recent), 1)

  const csv = await r.get(`/reports/activity/csv?${range}`)
  t.equal(csv.statusCode, 200)
  t.strictSame(parse(csv.body), [
    ['Week from', 'Events'],
    ['2025-06-02', '2'],
    ['2025-06-09', '1'],
    ['2025-06-16', '0'],
  ])
})

t.test('the searches report counts open searches of the reader’s clients by state and age', async (t) => {
  const { db, company, admin, reader, clients, as } = await seed(t)
  const search = (client: { id: string }, status: string, daysAgo: number) =>
    db('screening_searches').insert({
      company_id: company.id,
      kind: 'automated',
      entity_id: client.id,
      query: JSON.stringify({ name: 'x', schema: 'individual' }),
      profile: JSON.stringify({}),
      list_versions: JSON.stringify({}),
      match_count: 1,
      status,
      created_at: new Date(Date.now() - daysAgo * DAY),
      ...(status === 'awaiting_approval' ? { checked_by: admin.id, checked_at: new Date() } : {}),
    })
  await search(clients.ash, 'open', 1)
  await search(clients.formula, 'open', 10)
  await search(clients.birch, 'awaiting_approval', 40)
  await search(clients.birch, 'closed', 2)
  await search(clients.cedar, 'clear', 2)
  await search(clients.fir, 'open', 1) // not Rita's

  const r = await as(reader)
  const rows = await report(t, r, '/reports/searches')
  t.strictSame(
    rows.map((x) => [x.label, x.cells, x.value, x.href]),
    [
      ['Open: to review', [1, 1, 0], 2, undefined],
      ['Awaiting approval', [0, 0, 1], 1, undefined],
    ],
    'Rita may not open Searches: the rows link nowhere',
  )
  const a = await as(admin)
  const all = await report(t, a, '/reports/searches')
  t.strictSame(
    all.map((x) => [x.value, x.href]),
    [
      [3, '/searches?tab=open'],
      [1, '/searches?tab=awaiting_approval'],
    ],
    'the administrator’s rows lead to the Searches tabs',
  )
  t.strictSame(
    (await report(t, r, `/reports/searches?owner=${reader.id}`)).map((x) => x.value),
    [1, 1],
    'the searches of Rita’s own clients',
  )
  t.strictSame(
    (await report(t, r, `/reports/searches?from=${inDays(-5)}`)).map((x) => x.value),
    [1, 0],
    'the date range is the searches’',
  )
  await db('companies').where({ id: company.id }).update({ screening_four_eyes: true })
  t.equal((await report(t, r, '/reports/searches'))[0]?.label, 'Awaiting check', 'four-eyes review words it so')

  const csv = await r.get('/reports/searches/csv')
  t.strictSame(parse(csv.body), [
    ['State', 'Under 7 days', '7 to 30 days', 'Over 30 days', 'Total'],
    ['Awaiting check', '1', '1', '0', '2'],
    ['Awaiting approval', '0', '0', '1', '1'],
  ])
})

t.test('the self-service report counts the reader’s clients’ requests by state', async (t) => {
  const { db, company, admin, reader, clients, as } = await seed(t)
  const request = (client: { id: string }, status: string, o: { expiresInDays?: number; daysAgo?: number } = {}) =>
    db('portal_requests').insert({
      company_id: company.id,
      entity_id: client.id,
      email: 'client@example.test',
      schema: JSON.stringify({}),
      token_hash: randomBytes(32).toString('hex'),
      status,
      expires_at: new Date(Date.now() + (o.expiresInDays ?? 14) * DAY),
      created_by: admin.id,
      created_at: new Date(Date.now() - (o.daysAgo ?? 0) * DAY),
    })
  await request(clients.ash, 'sent')
  await request(clients.cedar, 'sent', { expiresInDays: -1, daysAgo: 20 })
  await request(clients.birch, 'approved', { daysAgo: 3 })
  await request(clients.fir, 'submitted') // not Rita's

  const r = await as(reader)
  const rows = await report(t, r, '/reports/self-service')
  t.strictSame(figures(rows), {
    Sent: 1,
    Opened: 0,
    'Draft saved': 0,
    Submitted: 0,
    'Updates requested': 0,
    Approved: 1,
    Expired: 1,
    Revoked: 0,
  })
  t.equal(rows.find((x) => x.label === 'Expired')?.href, undefined, 'Rita may not open Self-service requests')
  const a = await as(admin)
  t.equal(
    (await report(t, a, '/reports/self-service')).find((x) => x.label === 'Expired')?.href,
    '/self-service?state=expired',
  )
  t.equal(figures(await report(t, a, '/reports/self-service')).Submitted, 1)
  t.equal(total(await report(t, r, `/reports/self-service?from=${inDays(-5)}`)), 2, 'sent in the range')
  t.strictSame(
    figures(await report(t, r, '/reports/self-service?status=one_off_service')),
    { ...figures(rows), Sent: 0, Approved: 0 },
    'the requests of one-off-service clients',
  )
  const csv = parse((await r.get('/reports/self-service/csv')).body) as string[][]
  t.strictSame(csv[0], ['State', 'Requests'], 'the page’s column heading')
  t.strictSame(
    csv.slice(1).map((l) => [l[0], Number(l[1])]),
    rows.map((x) => [x.label, x.value]),
  )
})

t.test('a report downloads as CSV with the page’s figures, audited', async (t) => {
  const { db, reader, as } = await seed(t)
  const r = await as(reader)
  const page = await report(t, r, '/reports/risk')
  const res = await r.get('/reports/risk/csv')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(res.headers['content-disposition'], `attachment; filename="report-risk-${today()}.csv"`)
  const [header, ...lines] = parse(res.body) as string[][]
  t.strictSame(header, ['Classification', 'Clients'])
  t.strictSame(
    lines,
    page.map((x) => [x.label, String(x.value)]),
  )
  t.strictSame(lines, [
    ['High', '3'],
    ['Medium', '2'],
    ['Low', '0'],
    ['Not assessed', '1'],
  ])
  let audit = await db('audit_log').where({ action: 'report.exported' })
  t.equal(audit.length, 1, 'one audit row')
  t.match(audit[0], { actor_user_id: reader.id, target_type: 'report', target_id: 'risk' })
  t.strictSame(audit[0].after.report, 'risk')
  t.strictSame(audit[0].after.filters, {})

  const filtered = await r.get(`/reports/status/csv?status=prospect&owner=${reader.id}`)
  t.strictSame(parse(filtered.body), [
    ['Status', 'Clients'],
    ['Prospect', '1'],
  ])
  audit = await db('audit_log').where({ action: 'report.exported' }).orderBy('id')
  t.equal(audit.length, 2)
  t.strictSame(audit[1].after.report, 'status')
  t.strictSame(audit[1].after.filters, { owner: reader.id, status: 'prospect' })
})

t.test('the client list downloads as CSV: the accessible clients as filtered, formulas defused, audited', async (t) => {
  const { db, reader, clients, as } = await seed(t)
  const r = await as(reader)
  const res = await r.get('/entities.csv?status=prospect')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(res.headers['content-disposition'], `attachment; filename="clients-${today()}.csv"`)
  const [header, ...lines] = parse(res.body) as string[][]
  t.strictSame(header, [...CLIENT_COLUMNS])
  t.strictSame(
    lines.map((l) => l[0]).sort(),
    ["'=Sum Trading", 'Ash Adams', 'Elm Estates'],
    'exactly Rita’s prospects (never Fir Finance or Hazel Hart), the formula prefixed',
  )
  t.equal(lines.length, await listCount(t, r, '/entities?status=prospect'), 'as many as the list')
  const ash = lines.find((l) => l[0] === 'Ash Adams')
  t.strictSame(ash?.slice(0, 9), [
    'Ash Adams',
    'Individual',
    'Prospect',
    'Rita Reader',
    countryName('GB'),
    'high',
    '2020-01-01',
    'no',
    '2025-01-10',
  ])
  const elm = lines.find((l) => l[0] === 'Elm Estates')
  t.strictSame(elm?.slice(0, 8), [
    'Elm Estates',
    'Non-individual',
    'Prospect',
    'Otto Owner',
    '',
    'not assessed',
    '',
    '',
  ])

  const audit = await db('audit_log').where({ action: 'report.exported' })
  t.equal(audit.length, 1, 'one audit row')
  t.match(audit[0], { actor_user_id: reader.id, target_type: 'report', target_id: 'clients' })
  t.strictSame(audit[0].after.report, 'clients')
  t.strictSame(audit[0].after.filters, { status: 'prospect' })

  // The list's other filters and its name search.
  const names = async (q: string) =>
    (parse((await r.get(`/entities.csv?${q}`)).body) as string[][])
      .slice(1)
      .map((l) => l[0])
      .sort()
  t.strictSame(await names('review=overdue'), ['Ash Adams'])
  t.strictSame(await names('stale=1'), ['Birch Holdings'])
  t.strictSame(await names('kind=individual&country=GB'), ['Ash Adams', 'Cedar Cole'])
  t.strictSame(await names('country=none'), ['Dale Dunn', 'Elm Estates'])
  t.strictSame(await names('q=dun'), ['Dale Dunn'])
  t.strictSame(await names('q=fir'), [], 'a name search finds no client she may not open')
  t.equal((await names('')).length, 6, 'unfiltered: her six, not every name')
  t.ok(clients.fir)
})

t.test('bad input: filters that are not values are ignored; a repeated one is refused', async (t) => {
  const { reader, as } = await seed(t)
  const r = await as(reader)
  const plain = figures(await report(t, r, '/reports/risk'))
  for (const q of [
    'from=2026-02-30&owner=not-a-uuid',
    'to=0000-01-01&status=nope&risk=extreme',
    'from=2026-13-01',
    `owner=${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
  ]) {
    const res = await r.get(`/reports/risk?${q}`)
    t.equal(res.statusCode, 200, q)
    const rows = reportRows(res.body)
    if (q.startsWith('owner=0')) t.equal(total(rows), 0, 'a UUID nobody has: no clients')
    else t.strictSame(figures(rows), plain, `${q}: the filters are ignored`)
  }
  for (const key of ['activity', 'searches', 'self-service']) {
    t.equal((await r.get(`/reports/${key}?from=2026-02-30&to=9999-99-99`)).statusCode, 200, key)
  }
  t.equal((await r.get('/reports/risk/csv?from=2026-02-30&owner=x')).statusCode, 200)
  t.equal((await r.get('/entities.csv?from=2026-02-30&owner=x&country=XX&review=soon')).statusCode, 200)
  t.equal((await r.get('/reports/risk?owner=a&owner=b')).statusCode, 400, 'a repeated filter')
  t.equal((await r.get('/reports/risk/csv?status=a&status=b')).statusCode, 400)
  t.equal((await r.get('/entities.csv?status=a&status=b')).statusCode, 400)
  const stray = await r.get('/reports/risk?colour=red')
  t.equal(stray.statusCode, 200, 'an unknown parameter is dropped (src/http/schemas.ts)')
  t.strictSame(figures(reportRows(stray.body)), plain)
  t.equal((await r.get(`/reports/risk?owner=${'x'.repeat(5000)}`)).statusCode, 400, 'an overlong one')
  t.equal((await r.get('/reports/risk?status=%00')).statusCode, 400, 'a NUL')
})

t.test('a client waiting for its risk recheck is counted as its list counts it', async (t) => {
  const { app, db, company, admin, reader, as } = await seed(t, { clientAccess: false })
  // A real assessment, then a change to what the rules read of the client: the state waits for a recheck,
  // which the client list runs before it filters (src/entities/routes.ts).
  const bakery = await anEntity(db, { company, owner: reader, name: 'Quiet Bakery' })
  const o = new Visitor(app)
  await o.login(admin.email, PASSWORD)
  await o.get('/')
  const saved = await o.post(`/entities/${bakery.id}/risk`, {})
  t.equal(saved.statusCode, 303, visibleText(saved.body).slice(0, 300))
  await db('entities')
    .where({ id: bakery.id })
    .update({ delivery_channel: 'intermediary', volume_band: 'over_1m', cash_intensive: true })
  t.equal((await db('entity_risk').where({ entity_id: bakery.id }).first()).needs_check, true, 'waiting')
  const r = await as(reader)
  const rows = await report(t, r, '/reports/reviews')
  const outOfDate = rows.find((x) => x.label === 'Out of date') as Row
  t.equal(
    outOfDate.value,
    await listCount(t, r, outOfDate.href as string),
    'the report’s "Out of date" is the count of the list it links to',
  )
})

t.test('with a classification chosen, the reviews report has no "Not assessed" row', async (t) => {
  const { reader, as } = await seed(t)
  const r = await as(reader)
  const rows = await report(t, r, '/reports/reviews?risk=high')
  t.strictSame(
    rows.map((x) => x.label),
    ['Overdue', 'Due within 90 days', 'Out of date'],
    'no High client is unassessed, and a row for them would lead to another list',
  )
  for (const row of rows) {
    t.equal(await listCount(t, r, row.href as string), row.value, `${row.label}: its list holds as many`)
  }
})
