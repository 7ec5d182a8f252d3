import t, { type Test } from 'tap'
import type { PermissionKey } from '../../src/access/permissions.js'
import { parseListPaths } from '../../src/screening/lists/parse.js'
import { importList } from '../../src/screening/lists/store.js'
import { runManualSearch } from '../../src/screening/manual.js'
import { follow, signInByKeyboard, statusText } from '../browser/flows.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, type Company, type User } from '../helpers/factories.js'
import { actorFor, creditsOf, setCredits } from '../helpers/screening.js'

const FIXTURE = new URL('fixtures/opensanctions-targets.simple.csv', import.meta.url).pathname
const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  const [fixture] = await parseListPaths([FIXTURE])
  if (!fixture) throw new Error('no fixture list')

  /** A firm with the OpenSanctions fixture imported (as "opensanctions"), an administrator, and `credits`. */
  const aFirm = async (s: BrowserSession, name: string, opts: { credits?: number; fourEyes?: boolean } = {}) => {
    const company = await aCompany(db, `${name} ${tag(s)}`)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    await importList(db, { companyId: company.id, userId: admin.id }, fixture, { source: 'targets.simple.csv' })
    await db('companies')
      .where({ id: company.id })
      .update({ screening_four_eyes: opts.fourEyes ?? false })
    await setCredits(db, company, opts.credits ?? 0)
    return { company, admin }
  }
  /** Dmitri Medvedev, born 1965-09-14, Russian: named like the fixture's Dmitry Anatolyevich Medvedev (Q23530). */
  const medvedev = async (company: Company, owner: User) => {
    const client = await anEntity(db, { company, owner, name: 'Dmitri Medvedev', kind: 'individual' })
    await db('entities').where({ id: client.id }).update({ date_of_birth: '1965-09-14', nationality: 'RU' })
    return client
  }
  /** The company's searches as the database holds them, oldest first, free of ids and times. */
  const searchesOf = async (company: Company) =>
    db('screening_searches as s')
      .leftJoin('users as b', 'b.id', 's.created_by')
      .leftJoin('users as c', 'c.id', 's.checked_by')
      .leftJoin('users as a', 'a.id', 's.approved_by')
      .where('s.company_id', company.id)
      .orderBy('s.created_at')
      .select('s.kind', 's.query', db.raw("s.profile->>'name' as profile"), 's.list_versions', 's.match_count')
      .select('s.status', 'b.name as by', 'c.name as checker', 'a.name as approver')
  const matchesOf = async (company: Company) =>
    db('screening_matches as m')
      .leftJoin('users as u', 'u.id', 'm.decided_by')
      .where('m.company_id', company.id)
      .select('m.entry_id', 'm.name', 'm.decision', 'm.rationale', 'u.name as decided_by')
  /** The rows of a table shown now, each as its cells' text. */
  const rowsOf = async (s: BrowserSession, caption: string) =>
    s.page
      .locator('table', { has: s.page.locator('caption', { hasText: caption }) })
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()),
        ),
      )
  /** The main landmark's text as rendered (a term and its description apart), whitespace folded. */
  const pageText = async (s: BrowserSession) => (await s.page.getByRole('main').innerText()).replace(/\s+/g, ' ').trim()
  /** Ticks a radio by keyboard: focus, then Space. */
  const tick = async (s: BrowserSession, name: string) => {
    await s.page.getByRole('radio', { name, exact: true }).focus()
    await s.page.keyboard.press(' ')
  }
  /** Tabs to the one link whose name matches (names that carry a date) and follows it; returns its text. */
  const followMatching = async (s: BrowserSession, name: RegExp) => {
    const link = s.page.getByRole('link', { name })
    const text = ((await link.textContent()) ?? '').replace(/\s+/g, ' ').trim()
    for (let i = 0; !(await link.evaluate((a) => a === document.activeElement)); i++) {
      if (i > 100) throw new Error(`Tab never reached the link ${name} on ${s.path}`)
      await s.page.keyboard.press('Tab')
    }
    await s.pressForNewPage('Enter')
    return text
  }
  /** Checks a page refused with an error summary: announced, focused (with JS); returns its links and the tree. */
  const refused = async (s: BrowserSession, t: Test, page: { title: string; h1: string; status: number }) => {
    const { tree } = await s.check(t, page)
    const alerts = tree.filter((n) => n.role === 'alert')
    t.strictSame(
      alerts.map((n) => n.name),
      ['There is a problem'],
      'an error summary is announced',
    )
    if (s.mode.javaScriptEnabled) t.ok(alerts[0]?.focused, 'the error summary has focus')
    const links = await s.page
      .locator('.error-summary')
      .getByRole('link')
      .evaluateAll((links) => links.map((a) => [a.textContent, a.getAttribute('href')]))
    return { links, tree }
  }
  const explained = [
    'Dmitry Anatolyevich Medvedev — score 1.000',
    'List OpenSanctions: opensanctions, entry Q23530 (sanctions, PEP)',
    'Matched name Medvedev, Dmitry',
    'medvedev ↔ medvedev (1); dmitri ↔ dmitry (0.95). Name score 0.979.',
    'Date of birth 1965-09-14 searched, 1965-09-14 listed: raised the score by 0.06',
    'Country Russian Federation searched, Russian Federation listed: raised the score by 0.03',
  ]

  await suite.flow('an administrator imports an OpenSanctions list from Settings', async (s, t) => {
    const company = await aCompany(db, `Lantern Compliance ${tag(s)}`)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    const page = { title: 'Screening lists', h1: 'Screening lists', status: 200 }
    await signInByKeyboard(s, t, admin)
    await follow(s, 'link', 'Settings')
    await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
    await follow(s, 'link', 'Screening lists')
    await s.check(t, page)
    t.match(await pageText(s), 'No list has been imported yet.', 'no list yet')

    await s.page.setInputFiles('#files', FIXTURE)
    await s.tabTo('textbox', 'Name of an OpenSanctions list (optional)')
    await s.page.keyboard.type('eu-fsf')
    await follow(s, 'button', 'Import')
    await s.check(t, page)
    t.equal(s.path, '/settings/screening-lists', 'back on the lists')
    t.equal(
      await statusText(s),
      'Imported. OpenSanctions: eu-fsf: version 1, 12 entries (12 added, 0 changed, 0 removed).',
      'the status region says what was imported',
    )
    const text = await pageText(s)
    t.match(text, /OpenSanctions: eu-fsf Version 1: 12 entries, file dated 2024-06-11, imported .+ by Ada Brennan\./)
    t.notMatch(text, 'No list has been imported yet.')
    const rows = (await rowsOf(s, 'Versions of OpenSanctions: eu-fsf')).map((r) => r.filter((_, i) => i !== 1))
    t.strictSame(
      rows,
      [['1', '2024-06-11', '12', '12', '0', '0', 'opensanctions-targets.simple.csv']],
      'the version table: version, file date, entries, added, changed, removed, source',
    )
    const versions = await db('screening_list_versions as v')
      .leftJoin('users as u', 'u.id', 'v.imported_by')
      .where('v.company_id', company.id)
      .select('v.list', 'v.format', 'v.version', 'v.source', 'v.entry_count', 'v.added', 'v.changed', 'v.removed')
      .select('u.name as by', db.raw(`to_char(v.file_date, 'YYYY-MM-DD') as file_date`))
    t.strictSame(
      versions,
      [
        {
          list: 'eu-fsf',
          format: 'opensanctions',
          version: 1,
          source: 'opensanctions-targets.simple.csv',
          entry_count: 12,
          added: 12,
          changed: 0,
          removed: 0,
          by: 'Ada Brennan',
          file_date: '2024-06-11',
        },
      ],
      'the database holds the version row',
    )
    const entries = await db('screening_entries').where({ company_id: company.id }).whereNull('to_version').count()
    t.equal(Number(entries[0]?.count), 12, 'and its 12 current entries')
    return { status: await statusText(s), rows, versions }
  })

  await suite.flow(
    'a compliance officer runs a manual search from the client’s page, until the credits run out',
    async (s, t) => {
      const { company, admin } = await aFirm(s, 'Harbour Screening', { credits: 1 })
      const permissions: PermissionKey[] = ['read_data', 'manual_external_searches']
      const officer = await aUser(db, { company, name: 'Olu Officer', permissions })
      const client = await medvedev(company, admin)
      const clientPage = { title: client.name, h1: client.name }
      await signInByKeyboard(s, t, officer)
      await s.goto(`/entities/${client.id}`)
      await s.check(t, { ...clientPage, status: 200 })
      const before = await pageText(s)
      t.match(before, 'Not screened yet.', 'never screened')
      t.match(before, 'No search has been recorded for this client yet.')
      t.match(before, 'The company has 1 credit left. Credits are low.', 'one credit left, which is low')

      await follow(s, 'button', 'Run a manual search (1 credit)')
      const searchPage = { title: `Screening search: ${client.name}`, h1: 'Screening search' }
      await s.check(t, { ...searchPage, status: 200 })
      t.match(s.path, new RegExp(`^/entities/${client.id}/searches/[0-9a-f-]{36}$`), 'the search’s page')
      const spent = await statusText(s)
      t.equal(
        spent,
        'The manual search found 1 potential match to review. One credit was spent: 0 left, which is low: an administrator can top them up.',
        'the status region says what was found and what was spent',
      )
      const found = await pageText(s)
      t.match(found, 'Searched as Dmitri Medvedev (individual, born 1965-09-14, Russian Federation)')
      t.match(found, 'Lists read OpenSanctions: opensanctions, version 1')
      t.match(found, 'Status Open: to review')
      t.match(found, 'Potential matches (1)')
      for (const line of explained) t.match(found, line, `the match is explained: ${line}`)
      t.equal(await creditsOf(db, company), 0, 'the credit is spent')
      const searches = await searchesOf(company)
      t.match(searches, [{ kind: 'manual', match_count: 1, status: 'open', by: 'Olu Officer', profile: 'Standard' }])
      const ledger = await db('screening_credit_ledger').where({ company_id: company.id }).select('change', 'reason')
      t.strictSame(ledger, [{ change: -1, reason: 'manual_search' }], 'the ledger holds the spend')

      await follow(s, 'link', `Back to ${client.name}`)
      await s.check(t, { ...clientPage, status: 200 })
      const table = await rowsOf(s, 'Screening searches of this client')
      t.strictSame(
        table.map((r) => r.slice(1)),
        [['Manual, by Olu Officer', 'Standard', '1 (best 1.000)', 'Open: to review']],
        'the Screening section lists the search',
      )
      t.match(await pageText(s), 'No credits are left.', 'the section says no credits are left')

      await follow(s, 'button', 'Run a manual search (1 credit)')
      const message =
        'No screening credits are left, so no manual search was run and nothing was spent: an administrator can top them up'
      const { links } = await refused(s, t, { ...clientPage, status: 409 })
      t.strictSame(links, [[message, '#profile']], 'it says why, linking to the message by the button')
      t.match(await s.page.locator('#profile').textContent(), message, 'the message stands by the button')
      t.equal(await creditsOf(db, company), 0, 'nothing spent')
      t.strictSame(await searchesOf(company), searches, 'nothing recorded')
      t.equal((await db('screening_credit_ledger').where({ company_id: company.id })).length, 1, 'no new ledger row')
      // The search's time (the first cell) is when each mode ran it: the two runs may fall in different minutes.
      return { spent, searches, table: table.map((r) => r.slice(1)), matches: await matchesOf(company) }
    },
  )

  await suite.flow('four-eyes review: a checker decides the match, someone else approves', async (s, t) => {
    const { company, admin } = await aFirm(s, 'Meridian Trust', { credits: 5, fourEyes: true })
    const client = await medvedev(company, admin)
    const searcher = await aUser(db, { company, name: 'Sam Searcher', permissions: ['manual_external_searches'] })
    const checker = await aUser(db, {
      company,
      name: 'Cy Checker',
      permissions: ['read_data', 'check_entity_external_searches', 'approve_entity_external_searches'],
    })
    const approver = await aUser(db, {
      company,
      name: 'Al Approver',
      permissions: ['read_data', 'approve_entity_external_searches'],
    })
    // Sam Searcher's manual search, as the button on the client's page runs it.
    const subject = { date_of_birth: '1965-09-14', nationality: 'RU', country_of_residence: null }
    const screened = { ...client, ...subject, kind: 'individual' as const, country_of_incorporation: null }
    await runManualSearch(db, await actorFor(db, searcher), screened, undefined)
    const [match] = await db('screening_matches').where({ company_id: company.id }).pluck('id')
    const searchPage = { title: `Screening search: ${client.name}`, h1: 'Screening search' }
    const searches = { title: 'Searches', h1: 'Searches', status: 200 }
    /** From the dashboard's work item to the search, through the Searches page. */
    const openFromDashboard = async (item: string) => {
      const work = await followMatching(s, new RegExp(`${item}$`))
      t.equal(work, `1 ${item}`, 'the dashboard counts the search once')
      await s.check(t, searches)
      await followMatching(s, new RegExp(`^${client.name} ?: search of `))
      await s.check(t, { ...searchPage, status: 200 })
    }

    await signInByKeyboard(s, t, checker)
    await openFromDashboard('screening search with potential matches to review')
    t.match(await pageText(s), 'Check the search (first review)', 'the checker is offered the first review')
    for (const line of explained) t.match(await pageText(s), line, `the match is explained: ${line}`)

    await tick(s, 'True match: this is the client')
    await follow(s, 'button', 'Save my review for approval')
    const why = 'Give the reason for this decision (for the record regulators read)'
    const { links, tree } = await refused(s, t, { ...searchPage, status: 422 })
    t.strictSame(links, [[why, `#rationale-${match}`]], 'it links to the reason')
    const reason = tree.find((n) => n.role === 'textbox' && n.name === 'Reason')
    t.match(reason?.description, `Error: ${why}`, 'the field says what is wrong')
    t.ok(
      await s.page.getByRole('radio', { name: 'True match: this is the client' }).isChecked(),
      'the decision is kept',
    )
    t.match(await searchesOf(company), [{ status: 'open', checker: null }], 'nothing is recorded')
    t.match(await matchesOf(company), [{ decision: null }])

    await s.tabTo('link', why)
    await s.page.keyboard.press('Enter')
    t.equal(await s.focused(), `textarea#rationale-${match}`, 'the error link puts the cursor in the reason')
    await s.page.keyboard.type('The passport copy on file names this person.')
    await follow(s, 'button', 'Save my review for approval')
    await s.check(t, { ...searchPage, status: 200 })
    const checked = await statusText(s)
    t.equal(checked, 'Your review is recorded: the search now awaits approval by someone else.', 'confirmed')
    const waiting = await pageText(s)
    t.match(waiting, 'Status Awaiting approval · checked by Cy Checker')
    t.match(waiting, 'You checked this search: a different person must approve it (four-eyes review).')
    t.equal(await s.page.getByRole('button', { name: 'Save my decision' }).count(), 0, 'the checker cannot approve')
    t.match(await searchesOf(company), [{ status: 'awaiting_approval', checker: 'Cy Checker', approver: null }])
    await follow(s, 'button', 'Sign out')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })

    await signInByKeyboard(s, t, approver)
    await openFromDashboard('screening search awaiting your approval')
    const approve = await pageText(s)
    t.match(approve, 'Approve the review Checked by Cy Checker.', 'the approver is offered the approval')
    t.match(approve, 'Decision True match by Cy Checker')
    t.match(approve, 'The passport copy on file names this person.')
    await tick(s, 'Approve: the decisions are right')
    await follow(s, 'button', 'Save my decision')
    await s.check(t, { ...searchPage, status: 200 })
    const closed = await statusText(s)
    t.equal(closed, 'The search is closed.', 'the status region confirms it')
    t.match(await pageText(s), /Status Closed · checked by Cy Checker .+ · approved by Al Approver/)
    t.equal(await s.page.locator('#review').count(), 0, 'there is nothing left to review')
    const after = await searchesOf(company)
    t.match(after, [{ kind: 'manual', status: 'closed', checker: 'Cy Checker', approver: 'Al Approver' }])
    const matches = await matchesOf(company)
    t.strictSame(
      matches,
      [
        {
          entry_id: 'Q23530',
          name: 'Dmitry Anatolyevich Medvedev',
          decision: 'true_match',
          rationale: 'The passport copy on file names this person.',
          decided_by: 'Cy Checker',
        },
      ],
      'the database holds the decision',
    )
    const flags = await db('entities')
      .where({ id: client.id })
      .first('screening_sanctions_match', 'screening_pep_match')
    t.strictSame(
      flags,
      { screening_sanctions_match: true, screening_pep_match: true },
      'the client’s confirmed sanctions and PEP match are set',
    )
    return { checked, closed, searches: after, matches, flags }
  })

  await suite.flow('a one-time search of a name that is not a client, then deleted', async (s, t) => {
    const { company } = await aFirm(s, 'Quayside Partners')
    const user = await aUser(db, {
      company,
      name: 'Cleo Creator',
      permissions: ['view_one_time_searches', 'create_one_time_searches', 'delete_one_time_searches'],
    })
    const list = { title: 'One-time searches', h1: 'One-time searches', status: 200 }
    await signInByKeyboard(s, t, user)
    await follow(s, 'link', 'Clients')
    await s.check(t, list)
    t.match(await pageText(s), 'No one-time search has been recorded.')
    await follow(s, 'link', 'New one-time search')
    await s.check(t, { title: 'New one-time search', h1: 'New one-time search', status: 200 })
    await s.tabTo('textbox', 'Name')
    await s.page.keyboard.type('Vladimir Putin')
    t.ok(
      await s.page.getByRole('radio', { name: 'Individual', exact: true }).isChecked(),
      'Individual is the default type',
    )
    await s.page.getByLabel('Country (optional)').selectOption('RU')
    await follow(s, 'button', 'Search')
    const title = 'One-time search: Vladimir Putin'
    await s.check(t, { title, h1: title, status: 200 })
    const recorded = await statusText(s)
    t.equal(recorded, 'The one-time search was recorded.', 'the status region confirms it')
    const text = await pageText(s)
    t.match(text, 'Searched as Vladimir Putin (individual, Russian Federation)')
    t.match(text, 'Potential matches (1)')
    t.match(text, 'Vladimir Vladimirovich Putin — score 1.000')
    t.match(text, 'vladimir ↔ vladimir (1); putin ↔ putin (1)')
    t.match(text, 'Country Russian Federation searched, Russian Federation listed: raised the score by 0.03')
    const searches = await searchesOf(company)
    t.strictSame(
      searches,
      [
        {
          kind: 'one_time',
          query: { name: 'Vladimir Putin', schema: 'individual', country: 'RU' },
          profile: 'Standard',
          list_versions: { opensanctions: 1 },
          match_count: 1,
          status: 'closed',
          by: 'Cleo Creator',
          checker: null,
          approver: null,
        },
      ],
      'the database holds the one-time search',
    )
    t.equal(await creditsOf(db, company), 0, 'no credit is needed')

    await follow(s, 'link', 'Delete this one-time search of Vladimir Putin')
    const confirm = 'Delete the one-time search of Vladimir Putin?'
    await s.check(t, { title: 'Delete a one-time search', h1: confirm, status: 200 })
    await follow(s, 'button', 'Delete for good')
    await s.check(t, list)
    const deleted = await statusText(s)
    t.equal(deleted, 'The one-time search of Vladimir Putin was deleted for good.', 'the status region confirms it')
    t.match(await pageText(s), 'No one-time search has been recorded.', 'the list is empty again')
    t.strictSame(await searchesOf(company), [], 'the search is gone from the database')
    const audit = await db('audit_log')
      .where({ company_id: company.id })
      .whereLike('action', 'screening.one_time%')
      .orderBy('id')
      .pluck('action')
    t.strictSame(audit, ['screening.one_time_search', 'screening.one_time_search_deleted'], 'both are audited')
    return { recorded, searches, deleted, audit }
  })

  await suite.validateSavedPages()
}
