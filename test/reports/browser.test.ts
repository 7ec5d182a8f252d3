/**
 * The Reports tab in the browser (issue 16): an administrator reads every report by keyboard, filters the
 * risk report (a GET form, so the same with JavaScript off) and follows a row to the client list it
 * counts; a reader with View Reports only, under client access, sees figures of her own clients only, on
 * a 375 px phone too.
 */
import t from 'tap'
import { accessibleClientsPredicate, accessSubject } from '../../src/access/client-access.js'
import { follow, signInByKeyboard } from '../browser/flows.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aShare, aUser, type Company, clientAccessOn, type User } from '../helpers/factories.js'
import { assess, type Classification } from '../helpers/risk.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10)
  /** A saved assessment reviewed in 200 days (test/helpers/risk.ts). */
  const assessAs = (company: Company, by: User, client: { id: string }, classification: Classification) =>
    assess(db, company, by, client, { classification, reviewDueOn: inDays(200) })

  /**
   * A firm with client access on and six live clients. Ada Admin sees all six: High 2, Medium 2, Low 1,
   * not assessed 1; Prospect 3, Serviced 1, One-off 1, Former 1. Rita Reader (View Reports only) may open
   * three: the two she owns and the one shared with her (2 prospects, 1 serviced). A client of hers in the
   * recycle bin counts for nobody.
   */
  const aFirm = async (s: BrowserSession) => {
    const company = await aCompany(db, `Northgate Advisers ${tag(s)}`)
    await clientAccessOn(db, company)
    const admin = await aUser(db, { company, name: 'Ada Admin', permissions: ['system_administrator'] })
    const reader = await aUser(db, { company, name: 'Rita Reader', permissions: ['view_reports'] })
    const otto = await aUser(db, { company, name: 'Otto Owner', permissions: ['edit_entities'] })
    const client = async (
      name: string,
      owner: User,
      o: {
        kind: 'individual' | 'organisation'
        status: string
        country?: string
        risk?: Classification
        deleted?: boolean
      },
    ) => {
      const e = await anEntity(db, { company, owner, name, kind: o.kind, status: o.status, deleted: o.deleted })
      if (o.country) {
        const column = o.kind === 'individual' ? 'country_of_residence' : 'country_of_incorporation'
        await db('entities')
          .where({ id: e.id })
          .update({ [column]: o.country })
      }
      // After the country: a change to what the rules read would mark the state for a recheck.
      if (o.risk) await assessAs(company, admin, e, o.risk)
      return e
    }
    await client('Ash Adams', reader, { kind: 'individual', status: 'prospect', country: 'GB', risk: 'high' })
    await client('Birch Holdings', reader, {
      kind: 'organisation',
      status: 'serviced_client',
      country: 'DE',
      risk: 'medium',
    })
    const cedar = await client('Cedar Cole', otto, {
      kind: 'individual',
      status: 'prospect',
      country: 'FR',
      risk: 'low',
    })
    await aShare(db, { company, client: cedar, user: reader })
    await client('Dale Dunn', otto, { kind: 'individual', status: 'former_client', country: 'GB', risk: 'high' })
    await client('Elm Estates', otto, { kind: 'organisation', status: 'prospect', country: 'DE' })
    await client('Fern Foods', admin, { kind: 'organisation', status: 'one_off_service', risk: 'medium' })
    await client('Gone Gardens', reader, { kind: 'organisation', status: 'prospect', country: 'GB', deleted: true })
    return { company, admin, reader }
  }

  /** A table's rows (tbody, or tfoot), each as its cells' text; the table found by its caption. */
  const rowsOf = async (s: BrowserSession, caption: string, part: 'tbody' | 'tfoot' = 'tbody') =>
    s.page
      .locator('table', { has: s.page.locator('caption', { hasText: caption }) })
      .locator(`${part} tr`)
      .evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()),
        ),
      )
  /** A report's figures: its table's rows, and its "All" row (none when the report has no total). */
  const figuresOf = async (s: BrowserSession, title: string) => ({
    rows: await rowsOf(s, title),
    all: await rowsOf(s, title, 'tfoot'),
  })
  /** The names a screen reader gives the images (the chart: its title and every figure in words). */
  const chartName = (tree: { role: string; name: string }[]) =>
    tree.filter((n) => (n.role === 'image' || n.role === 'img') && n.name.length > 0).map((n) => n.name)

  const REPORTS = [
    'Clients by risk classification',
    'Clients by relationship status',
    'Clients by type and country',
    'Open screening searches by state and age',
    'Risk assessments due, overdue and out of date',
    'Self-service requests by state',
    'Clients per owner',
    'Activity over time',
  ]
  const RISK = 'Clients by risk classification'
  const STATUS = 'Clients by relationship status'
  const reportsPage = { title: 'Reports', h1: 'Reports', status: 200 }
  const reportPage = (title: string) => ({ title, h1: title, status: 200 })

  await suite.flow('an administrator reads every report', async (s, t) => {
    const { admin } = await aFirm(s)
    await signInByKeyboard(s, t, admin)
    await follow(s, 'link', 'Reports')
    await s.check(t, reportsPage)
    t.equal(s.path, '/reports', 'the Reports tab')
    const listed = await s.page
      .getByRole('main')
      .locator('.report-list a')
      .evaluateAll((links) => links.map((a) => [a.textContent, a.getAttribute('href')]))
    t.strictSame(
      listed,
      [
        [REPORTS[0], '/reports/risk'],
        [REPORTS[1], '/reports/status'],
        [REPORTS[2], '/reports/type-country'],
        [REPORTS[3], '/reports/searches'],
        [REPORTS[4], '/reports/reviews'],
        [REPORTS[5], '/reports/self-service'],
        [REPORTS[6], '/reports/owners'],
        [REPORTS[7], '/reports/activity'],
      ],
      'the Reports tab lists the eight reports',
    )

    // The first from the Reports tab, each next one from the "Other reports" links.
    const figures: Record<string, { rows: string[][]; all: string[][] }> = {}
    const charts: Record<string, string[]> = {}
    for (const title of REPORTS) {
      await follow(s, 'link', title)
      const { tree } = await s.check(t, reportPage(title))
      figures[title] = await figuresOf(s, title)
      charts[title] = chartName(tree)
      t.equal(charts[title]?.length, 1, `${title}: the chart is one named image`)
      t.match(charts[title]?.[0], title, `${title}: the chart is named by the report's title`)
    }
    t.strictSame(
      figures[RISK],
      {
        rows: [
          ['High', '2'],
          ['Medium', '2'],
          ['Low', '1'],
          ['Not assessed', '1'],
        ],
        all: [['All', '6']],
      },
      'the risk report counts every live client',
    )
    t.match(charts[RISK]?.[0], 'High: 2, Medium: 2, Low: 1, Not assessed: 1', 'the chart says the same figures')
    t.strictSame(
      figures[STATUS],
      {
        rows: [
          ['Prospect', '3'],
          ['Serviced client (business relationship)', '1'],
          ['One-off service', '1'],
          ['Former client', '1'],
        ],
        all: [['All', '6']],
      },
      'the status report',
    )
    t.strictSame(
      figures['Clients by type and country'],
      {
        rows: [
          ['Individuals, United Kingdom', '2'],
          ['Organisations, Germany', '2'],
          ['Individuals, France', '1'],
          ['Organisations, country not known', '1'],
        ],
        all: [['All', '6']],
      },
      'the type and country report, the most common first',
    )
    t.strictSame(
      figures['Clients per owner'],
      {
        rows: [
          ['Otto Owner', '3'],
          ['Rita Reader', '2'],
          ['Ada Admin', '1'],
        ],
        all: [['All', '6']],
      },
      'the owners report, the most first',
    )
    t.strictSame(
      figures['Risk assessments due, overdue and out of date'],
      {
        rows: [
          ['Overdue', '0'],
          ['Due within 90 days', '0'],
          ['Out of date', '0'],
          ['Not assessed', '1'],
        ],
        all: [['All', '1']],
      },
      'the reviews report',
    )

    // Back to the risk report; the filter form is a GET form, so it works with JavaScript off too.
    await follow(s, 'link', RISK)
    await s.check(t, reportPage(RISK))
    await s.page.getByLabel('Relationship status', { exact: true }).selectOption({ label: 'Prospect' })
    await follow(s, 'button', 'Show')
    const { tree } = await s.check(t, reportPage(RISK))
    const url = new URL(s.page.url())
    t.equal(url.pathname, '/reports/risk', 'still the risk report')
    t.equal(url.searchParams.get('status'), 'prospect', 'filtered by the status chosen')
    t.equal(
      await s.page.getByLabel('Relationship status', { exact: true }).inputValue(),
      'prospect',
      'the form keeps the status chosen',
    )
    const prospects = await figuresOf(s, RISK)
    t.strictSame(
      prospects,
      {
        rows: [
          ['High', '1'],
          ['Medium', '0'],
          ['Low', '1'],
          ['Not assessed', '1'],
        ],
        all: [['All', '3']],
      },
      'only the three prospects are counted: Ash Adams (High), Cedar Cole (Low), Elm Estates (not assessed)',
    )
    const prospectChart = chartName(tree)
    t.match(prospectChart[0], 'High: 1, Medium: 0, Low: 1, Not assessed: 1', 'the chart follows the filter')
    const rowLinks = await s.page
      .locator('table', { has: s.page.locator('caption', { hasText: RISK }) })
      .locator('tbody a')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href')))
    t.strictSame(
      rowLinks,
      [
        '/entities?status=prospect&risk=high',
        '/entities?status=prospect&risk=medium',
        '/entities?status=prospect&risk=low',
        '/entities?status=prospect&risk=none',
      ],
      'each row links to the client list with the report’s filter and its own',
    )

    await follow(s, 'link', 'High')
    await s.check(t, { title: 'Client relationships', h1: 'Client relationships', status: 200 })
    t.equal(s.path, '/entities?status=prospect&risk=high', 'the client list the row counts')
    t.equal(
      await s.page.getByLabel('Relationship status', { exact: true }).inputValue(),
      'prospect',
      'the list shows the status filter',
    )
    t.equal(await s.page.getByLabel('Risk', { exact: true }).inputValue(), 'high', 'and the risk filter')
    const listed1 = (await rowsOf(s, 'Client relationships')).map((r) => r.slice(0, 3))
    t.strictSame(listed1, [['Ash Adams', 'Individual', 'Prospect']], 'the one High prospect, as the report counted')
    return { listed, figures, charts, prospects, prospectChart, rowLinks, list: listed1 }
  })

  await suite.flow('a restricted reader sees only their clients’ figures', async (s, t) => {
    const { reader } = await aFirm(s)
    await signInByKeyboard(s, t, reader)
    await follow(s, 'link', 'Reports')
    await s.check(t, reportsPage)
    await follow(s, 'link', STATUS)
    const { tree } = await s.check(t, reportPage(STATUS))
    t.equal(s.path, '/reports/status', 'the status report')
    const figures = await figuresOf(s, STATUS)
    t.strictSame(
      figures,
      {
        rows: [
          ['Prospect', '2'],
          ['Serviced client (business relationship)', '1'],
          ['One-off service', '0'],
          ['Former client', '0'],
        ],
        all: [['All', '3']],
      },
      'her own two and the one shared with her: nobody else’s, nothing in the recycle bin',
    )
    const subject = await accessSubject(db, reader.id)
    if (!subject) throw new Error('no access subject for the reader')
    const [mayOpen] = await db('entities as e')
      .modify(accessibleClientsPredicate(db, subject, 'e'))
      .count('* as n')
    t.equal(Number(mayOpen?.n), 3, 'she may open three clients')
    t.equal(figures.all[0]?.[1], String(mayOpen?.n), 'the table’s total is the number of clients she may open')
    const chart = chartName(tree)
    t.match(chart[0], 'Prospect: 2', 'the chart counts her clients only')

    await s.page.setViewportSize({ width: 375, height: 800 })
    await s.check(t, reportPage(STATUS))
    const width = Number(await s.page.evaluate('document.documentElement.scrollWidth'))
    t.ok(width <= 375, `at 375 px nothing scrolls sideways (${width} px)`)
    return { figures, mayOpen: Number(mayOpen?.n), chart }
  })

  await suite.validateSavedPages()
}
