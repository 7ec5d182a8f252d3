import { readFileSync } from 'node:fs'
import t from 'tap'
import { checkSwapped, follow, mainText, signInByKeyboard, statusText } from '../browser/flows.js'
import { PDF_BYTES } from '../helpers/app.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  const list = { title: 'Client relationships', h1: 'Client relationships' }

  // A firm with 60 "Alder" clients among others, and another firm whose "Alder" client is never shown.
  const firm = await aCompany(db, 'Meridian Fiduciary')
  const reader = await aUser(db, { company: firm, permissions: ['read_data'], name: 'Rita Quinn' })
  for (let i = 1; i <= 60; i++) {
    await anEntity(db, { company: firm, owner: reader, name: `Alder Holdings ${String(i).padStart(3, '0')}` })
  }
  for (let i = 1; i <= 15; i++) await anEntity(db, { company: firm, owner: reader, name: `Birch Trust ${i}` })
  const otherFirm = await aCompany(db, 'Elsewhere LLP')
  const outsider = await aUser(db, { company: otherFirm, permissions: ['read_data'] })
  await anEntity(db, { company: otherFirm, owner: outsider, name: 'Alder Holdings 000 (another firm)' })

  /** The names in the list shown now. */
  const names = async (s: BrowserSession) =>
    (await s.page.locator('#entity-results tbody th').allTextContents()).map((n) => n.trim())

  /** Enter on a link, without waiting for a new page. */
  const press = async (s: BrowserSession, link: string) => {
    await s.tabTo('link', link)
    await s.page.keyboard.press('Enter')
  }
  /** Follows a list link or submits the search: a new page without JS, a swap of the results with htmx. */
  const changeList = async (s: BrowserSession, t: Test, act: () => Promise<void>, expectedText: string) => {
    if (s.mode.javaScriptEnabled) {
      const before = s.path
      await act()
      await s.page.waitForURL((url) => url.pathname + url.search !== before)
      await s.page.locator('#entity-results').getByText(expectedText).first().waitFor()
      await checkSwapped(s, t, list)
    } else {
      const loaded = s.page.waitForEvent('load')
      await act()
      await loaded
      await s.check(t, { ...list, status: 200 })
    }
  }
  type Test = Parameters<Parameters<typeof suite.flow>[1]>[1]

  await suite.flow('a staff member searches the client list and pages through it', async (s, t) => {
    await signInByKeyboard(s, t, reader)
    await follow(s, 'link', 'Clients')
    await s.check(t, { ...list, status: 200 })
    t.equal((await names(s)).length, 50, 'the first page shows 50 clients')

    await changeList(
      s,
      t,
      async () => {
        await s.page.getByRole('searchbox', { name: 'Name contains' }).focus()
        await s.page.keyboard.type('alder')
        await s.page.keyboard.press('Enter')
      },
      'names containing “alder”',
    )
    const first = await names(s)
    t.equal(first.length, 50, '50 matches on the first page')
    t.equal(first[0], 'Alder Holdings 001', 'sorted by name')
    t.equal(first[49], 'Alder Holdings 050')
    t.notOk(
      first.some((n) => n.includes('another firm')),
      'another firm’s client is never listed',
    )
    t.match(s.path, /^\/entities\?q=alder/, 'the address holds the search')
    const searched = s.path

    await changeList(s, t, () => press(s, 'Next page'), 'Alder Holdings 060')
    const second = await names(s)
    t.strictSame(
      second,
      ['051', '052', '053', '054', '055', '056', '057', '058', '059', '060'].map((n) => `Alder Holdings ${n}`),
    )
    t.match(s.path, /after=/, 'the address holds the page')
    t.equal(await s.page.getByRole('link', { name: 'Next page' }).count(), 0, 'there is no next page')
    const secondPath = s.path

    await changeList(s, t, () => press(s, 'Previous page'), 'Alder Holdings 001')
    t.strictSame(await names(s), first, 'Previous page shows the first page again')

    // Back, twice: to the second page, then the first search page, each whole (issue 12, defect 1).
    for (const [expected, path] of [
      [second, secondPath],
      [first, searched],
    ] as const) {
      // (The page checks leave entries of their own in the history: Back until the address is the wanted one.)
      for (let i = 0; i < 8 && s.path !== path; i++) await s.page.goBack({ waitUntil: 'commit' })
      t.equal(s.path, path, `Back reaches ${path}`)
      // htmx restores the page from the server after the address changed: wait for that page's rows.
      await s.page.waitForFunction(
        ([firstName, lastName]) => {
          const rows = [...document.querySelectorAll('#entity-results tbody th')].map((th) => th.textContent?.trim())
          return rows[0] === firstName && rows.at(-1) === lastName
        },
        [expected[0], expected.at(-1)],
      )
      t.strictSame(await names(s), expected, `Back shows ${path} again`)
      t.equal(await s.page.getByRole('button', { name: 'Sign out' }).count(), 1, 'with the header and Sign out')
      t.equal(await s.page.getByRole('navigation', { name: 'Main' }).count(), 1, 'and the navigation')
      if (s.mode.javaScriptEnabled) await checkSwapped(s, t, list)
      else await s.check(t, { ...list, status: 200 })
    }

    // The address of the second page, opened again, shows the same page.
    await s.goto(secondPath)
    await s.check(t, { ...list, status: 200 })
    t.strictSame(await names(s), second, 'the second page’s address opens the second page')
    t.equal(await s.page.getByRole('searchbox', { name: 'Name contains' }).inputValue(), 'alder', 'search kept')
    return { searched, second: secondPath, first, names: second }
  })

  await suite.flow('a staff member creates a client, correcting a validation error first', async (s, t) => {
    const company = await aCompany(db, `Create Partners ${tag(s)}`)
    const editor = await aUser(db, { company, permissions: ['edit_entities'], name: 'Eli Novak' })
    await signInByKeyboard(s, t, editor)
    await follow(s, 'link', 'Clients')
    await s.check(t, { ...list, status: 200 })
    await follow(s, 'link', 'New client relationship')
    const form = { title: 'New client relationship', h1: 'New client relationship' }
    await s.check(t, { ...form, status: 200 })

    // With JavaScript only the chosen type's fields are shown; without, both (the other is ignored).
    const js = s.mode.javaScriptEnabled
    await s.page.getByRole('radio', { name: 'Individual', exact: true }).check()
    t.equal(
      await s.page.getByRole('group', { name: 'Non-individual', exact: true }).isVisible(),
      !js,
      'non-individual fields',
    )
    await s.page.getByRole('radio', { name: /^Non-individual/ }).check()
    t.equal(await s.page.getByRole('group', { name: 'Individual', exact: true }).isVisible(), !js, 'individual fields')
    await s.page.getByRole('radio', { name: 'Individual', exact: true }).check()
    t.ok(await s.page.getByRole('group', { name: 'Individual', exact: true }).isVisible(), 'the chosen one is shown')
    await s.page.getByLabel('Nationality').selectOption('IE')
    await s.page.getByLabel('Notes').fill('Met at the Cork office.')
    await follow(s, 'button', 'Create client relationship')
    const report = await s.check(t, { ...form, status: 422 })
    t.strictSame(
      report.tree.filter((n) => n.role === 'alert').map((n) => n.name),
      ['There is a problem'],
      'an error summary is announced',
    )
    const name = report.tree.find((n) => n.role === 'textbox' && n.name === 'Name')
    t.match(name?.description, 'Error: Enter the name', 'the name field is described by its error')
    t.equal(await s.page.getByLabel('Nationality').inputValue(), 'IE', 'the nationality chosen is kept')
    t.equal(await s.page.getByLabel('Notes').inputValue(), 'Met at the Cork office.', 'the notes are kept')
    t.strictSame(await db('entities').where({ company_id: company.id }).pluck('id'), [], 'nothing is stored')

    await s.tabTo('link', 'Enter the name')
    await s.page.keyboard.press('Enter')
    t.equal(await s.focused(), 'input#name', 'the error link puts the cursor in the name field')
    await s.page.keyboard.type('Orla Byrne')
    await follow(s, 'button', 'Create client relationship')
    await s.check(t, { title: 'Orla Byrne', h1: 'Orla Byrne', status: 200 })
    t.equal(await statusText(s), 'Orla Byrne was created.', 'the status region confirms it')
    t.equal(await s.page.locator('dt:text-is("Nationality") + dd').textContent(), 'Ireland', 'the page shows it')
    const row = await db('entities')
      .where({ company_id: company.id })
      .first('name', 'kind', 'nationality', 'status', 'notes', 'owner_user_id')
    t.equal(row.owner_user_id, editor.id, 'the creator owns it')
    return { row: { ...row, owner_user_id: undefined }, path: s.path.replace(/[0-9a-f-]{36}/, ':id') }
  })

  await suite.flow('a staff member uploads a document and downloads it', async (s, t) => {
    const company = await aCompany(db, `Paper Trail ${tag(s)}`)
    const user = await aUser(db, {
      company,
      permissions: ['upload_entity_documents', 'download_entity_documents'],
      name: 'Dara Flynn',
    })
    const entity = await anEntity(db, { company, owner: user, name: 'Kestrel Shipping Ltd', kind: 'organisation' })
    await signInByKeyboard(s, t, user)
    await s.goto(`/entities/${entity.id}`)
    const page = { title: entity.name, h1: entity.name }
    await s.check(t, { ...page, status: 200 })
    t.match(await mainText(s), 'No documents.', 'no document yet')

    await s.page.getByLabel('Upload a document').setInputFiles({
      name: 'certificate of incorporation.pdf',
      mimeType: 'application/pdf',
      buffer: PDF_BYTES,
    })
    await follow(s, 'button', 'Upload')
    await s.check(t, { ...page, status: 200 })
    t.equal(s.path, `/entities/${entity.id}`, 'back on the client’s page')
    t.equal(await statusText(s), 'certificate of incorporation.pdf was uploaded.', 'the status region confirms it')
    const table = s.page.getByRole('table', { name: `Documents of ${entity.name}` })
    t.match(await table.textContent(), 'application/pdf', 'the document is listed with its type')

    await s.tabTo('link', 'Download certificate of incorporation.pdf')
    const [download] = await Promise.all([s.page.waitForEvent('download'), s.page.keyboard.press('Enter')])
    t.equal(download.suggestedFilename(), 'certificate of incorporation.pdf', 'saved under its original name')
    const saved = await download.path()
    t.ok(readFileSync(saved).equals(PDF_BYTES), 'the bytes downloaded are the bytes uploaded')
    const doc = await db('documents')
      .where({ company_id: company.id })
      .first('original_name', 'media_type', 'size_bytes', 'entity_id')
    t.equal(doc.entity_id, entity.id, 'the document belongs to the client')
    const audit = await db('audit_log').where({ actor_user_id: user.id }).orderBy('id').pluck('action')
    return { doc: { ...doc, entity_id: undefined }, file: download.suggestedFilename(), audit }
  })

  await suite.flow('a staff member moves a client to the recycle bin and restores it', async (s, t) => {
    const company = await aCompany(db, `Second Chance ${tag(s)}`)
    const user = await aUser(db, { company, permissions: ['permanently_delete_restore_entities'], name: 'Noor Haddad' })
    const keep = await anEntity(db, { company, owner: user, name: 'Linden Partners' })
    const entity = await anEntity(db, { company, owner: user, name: 'Willow Estates' })
    await signInByKeyboard(s, t, user)
    await s.goto(`/entities/${entity.id}`)
    await s.check(t, { title: entity.name, h1: entity.name, status: 200 })

    await follow(s, 'link', 'Move to recycle bin')
    const confirm = `Move ${entity.name} to the recycle bin?`
    await s.check(t, { title: confirm, h1: confirm, status: 200 })
    t.strictSame(await db('entities').where({ id: entity.id }).whereNotNull('deleted_at').pluck('id'), [], 'not yet')
    await follow(s, 'button', 'Move to recycle bin')
    await s.check(t, { ...list, status: 200 })
    t.equal(await statusText(s), 'Willow Estates was moved to the recycle bin.', 'the status region confirms it')
    t.strictSame(await names(s), [keep.name], 'the client is gone from the list')

    await follow(s, 'link', 'Recycle bin')
    await s.check(t, { title: 'Recycle bin', h1: 'Recycle bin', status: 200 })
    const bin = s.page.getByRole('table', { name: 'Deleted client relationships' })
    t.match(await bin.textContent(), 'Willow Estates', 'the client is in the recycle bin')
    t.match(await bin.textContent(), 'by Noor Haddad', 'with who deleted it')
    await follow(s, 'button', 'Restore Willow Estates')
    await s.check(t, { title: entity.name, h1: entity.name, status: 200 })
    t.equal(await statusText(s), 'Willow Estates was restored.', 'the status region confirms it')

    await follow(s, 'link', 'Back to client relationships')
    await s.check(t, { ...list, status: 200 })
    t.strictSame(await names(s), [keep.name, entity.name], 'the client is back in the list')
    const row = await db('entities').where({ id: entity.id }).first('deleted_at', 'deleted_by')
    t.strictSame(row, { deleted_at: null, deleted_by: null }, 'the database holds it as live')
    const audit = await db('audit_log').where({ actor_user_id: user.id }).orderBy('id').pluck('action')
    return { names: await names(s), audit }
  })

  await suite.validateSavedPages()
}
