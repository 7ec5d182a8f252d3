/**
 * The self-service portal in the browser (issue 15): staff send a request from a client's page, the client
 * opens the link from the email on a phone (a browser of its own, 375 px wide, 320 px in the second flow, with no staff cookie),
 * answers, saves a draft, comes back, uploads, sends; staff approve it or ask for updates.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { axeFindings, formatFinding, keyboardReport, screenReaderFindings } from '../browser/checks.js'
import { follow, lastEmailTo, signInByKeyboard, statusText } from '../browser/flows.js'
import { PDF_BYTES } from '../helpers/app.js'
import { BrowserSession, browserSuite, type PageExpectation } from '../helpers/browser.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, type Company } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  /** Phones: the 375 px, and the narrowest in common use, 320 px (the second flow's). */
  const PHONE = { width: 375, height: 740 }
  const SMALL_PHONE = { width: 320, height: 640 }
  /** The main landmark's text as rendered (a term and its description apart), whitespace folded. */
  const mainText = async (s: BrowserSession) => (await s.page.getByRole('main').innerText()).replace(/\s+/g, ' ').trim()
  const CERTIFICATE = 'certificate-of-incorporation.pdf'

  /** A firm, its compliance officer (who sends requests and approves them), and an organisation client. */
  const aFirm = async (s: BrowserSession, name: string) => {
    const company = await aCompany(db, `${name} ${tag(s)}`)
    const officer = await aUser(db, {
      company,
      name: 'Priya Nair',
      permissions: ['read_data', 'manage_self_service_requests', 'approve_self_service_submissions'],
    })
    const client = await anEntity(db, { company, owner: officer, name: 'Example Trading Ltd', kind: 'organisation' })
    return { company, officer, client, email: `accounts-${tag(s)}-${company.id.slice(0, 8)}@example-trading.test` }
  }

  /**
   * The client's phone: a browser of its own in the flow's mode, 375 px wide unless `size` says otherwise. Portal pages end their title
   * with the company's name, not "KYC Desk", so they get their own check: the same axe-core, screen reader
   * and keyboard checks as `s.check`, nothing scrolling sideways, and the page saved for the HTML checker.
   */
  const aPhone = async (s: BrowserSession, company: Company, size = PHONE) => {
    const p = await BrowserSession.open(suite, s.mode, `the client’s phone: ${s.flow}`)
    await p.page.setViewportSize(size)
    const docs: { url: string; status: number; body: Promise<string>; checked: boolean }[] = []
    p.page.on('response', (response) => {
      if (!response.request().isNavigationRequest() || response.frame() !== p.page.mainFrame()) return
      if (response.status() >= 300 && response.status() < 400) return
      const body = response.text()
      body.catch(() => undefined)
      docs.push({ url: response.url(), status: response.status(), body, checked: false })
    })
    /** Checks the portal page shown now; `title` is the whole document title unless `ofCompany`. */
    const check = async (t: Test, expect: PageExpectation & { ofCompany?: boolean }) => {
      const doc = docs.at(-1)
      const here = p.page.url().replace(/#.*$/, '')
      if (!doc || doc.url !== here) throw new Error(`no document response recorded for ${here}`)
      const where = `${p.path} (${p.mode.name}, ${size.width} px wide)`
      const title = expect.ofCompany === false ? expect.title : `${expect.title} — ${company.name}`
      t.equal(doc.status, expect.status, `${where} answers ${expect.status}`)
      t.equal(await p.page.title(), title, `${where} has the title "${title}"`)
      const h1 = p.page.getByRole('heading', { level: 1 })
      t.equal(await h1.count(), 1, `${where} has one h1`)
      t.equal(((await h1.first().textContent()) ?? '').trim(), expect.h1, `${where} has the h1 "${expect.h1}"`)
      t.equal(await p.page.evaluate('typeof window.htmx'), 'undefined', `${where}: the portal loads no htmx`)
      t.strictSame(p.takeConsoleErrors(), [], `${where}: no script error or CSP violation in the console`)
      const width = Number(await p.page.evaluate('document.documentElement.scrollWidth'))
      t.ok(width <= size.width, `${where}: nothing scrolls sideways (${width} px)`)
      const findings = [
        ...(await axeFindings(p.page, p.mode.javaScriptEnabled)),
        ...(await screenReaderFindings(p.page)),
        ...(await keyboardReport(p.page)).findings,
      ]
      t.strictSame(findings.map(formatFinding), [], `${where}: axe-core, screen reader and keyboard checks pass`)
      const file = path.join(suite.savedDir, `${++suite.pageCount}-portal${p.path.replace(/[^a-z0-9]+/gi, '-')}.html`)
      writeFileSync(file, await doc.body)
      suite.saved.push({ file, url: `${p.path} (${p.flow}, ${p.mode.name})` })
      doc.checked = true
    }
    const unchecked = () => docs.filter((d) => !d.checked).map((d) => `${d.url} (${d.status})`)
    return { p, check, unchecked }
  }
  type Phone = Awaited<ReturnType<typeof aPhone>>

  /** Runs `use` with the client's phone, closed after (screenshot and HTML kept when it failed). */
  const withPhone = async <R>(
    s: BrowserSession,
    t: Test,
    company: Company,
    use: (phone: Phone) => Promise<R>,
    size = PHONE,
  ) => {
    const phone = await aPhone(s, company, size)
    let threw = true
    try {
      const result = await use(phone)
      t.strictSame(phone.unchecked(), [], 'every page the phone opened was checked')
      threw = false
      return result
    } finally {
      await phone.p.close(t, threw || !t.passing())
    }
  }

  /** Tabs to a text field and replaces what it holds by typing. */
  const typeInto = async (s: BrowserSession, label: string, value: string) => {
    await s.tabTo('textbox', label)
    await s.page.keyboard.press('ControlOrMeta+A')
    await s.page.keyboard.type(value)
  }
  const fieldValue = (s: BrowserSession, label: string) => s.page.getByLabel(label, { exact: true }).inputValue()
  /** Answers the first page of questions (an organisation's details). */
  const answerDetails = async (p: BrowserSession, name: string, legalForm: string) => {
    await typeInto(p, 'Registered name', name)
    await typeInto(p, 'Registration number', 'HRB 123456')
    await p.page.getByLabel('Country of incorporation').selectOption('DE')
    await typeInto(p, 'Legal form', legalForm)
  }

  /** Staff send the request from the client's page; returns the request page's path. */
  const sendRequest = async (s: BrowserSession, t: Test, client: { id: string; name: string }, email: string) => {
    await s.goto(`/entities/${client.id}`)
    await s.check(t, { title: client.name, h1: client.name, status: 200 })
    t.match(await mainText(s), 'No request has been sent to this client.', 'no request yet')
    await typeInto(s, 'Client’s email address', email)
    await typeInto(s, 'Message (optional)', 'Please confirm the company details before our call.')
    await follow(s, 'button', 'Send the request')
    await s.check(t, { ...requestPage(client.name), status: 200 })
    t.equal(await statusText(s), `A self-service request was sent to ${email}.`, 'the status region confirms it')
    t.match(await mainText(s), 'State Sent', 'the request is sent')
    return s.path
  }
  const requestPage = (name: string) => ({ title: `Self-service request: ${name}`, h1: 'Self-service request' })

  /** A page shown with 200, its title before the company's name. */
  const shown = (title: string, h1 = title) => ({ title, h1, status: 200 })

  /** The client opens a link from an email and presses Continue: the portal's start page. */
  const openLink = async (phone: Phone, t: Test, link: string, company: Company, client: { name: string }) => {
    const { p, check } = phone
    await p.goto(link)
    await check(t, shown(`${company.name}: secure portal`, `${company.name} asks you to complete a questionnaire`))
    await follow(p, 'button', 'Continue')
    await check(t, shown(`${company.name}: your questionnaire`, `Your questionnaire for ${client.name}`))
    t.equal(p.path, '/portal', 'Continue opens the portal')
  }
  const part = (n: number) => shown(`Questions, part ${n} of 2`)
  const documents = shown('Documents')
  const review = shown('Check your answers and send them')
  const sent = shown('What you sent')

  /** From the last page of questions (answered) to sending: Documents, uploading the certificate, review. */
  const uploadAndSend = async (phone: Phone, t: Test) => {
    const { p, check } = phone
    await check(t, documents)
    const section = p.page.getByRole('region', { name: 'Certificate of incorporation' })
    await section.getByLabel('Choose a file for “Certificate of incorporation”').setInputFiles({
      name: CERTIFICATE,
      mimeType: 'application/pdf',
      buffer: PDF_BYTES,
    })
    await section.getByRole('button', { name: 'Upload' }).focus()
    await p.pressForNewPage('Space')
    await check(t, documents)
    t.equal(await statusText(p), `${CERTIFICATE} was uploaded.`, 'the status region confirms the upload')
    t.match(await section.textContent(), CERTIFICATE, 'the file is listed under its question')
    await follow(p, 'link', 'Continue')
    await check(t, review)
    t.match(await mainText(p), `Certificate of incorporation ${CERTIFICATE}`, 'the review lists the file')
    await follow(p, 'button', 'Send my answers')
    await check(t, sent)
    t.equal(p.path, '/portal/review', 'back on the review, now what was sent')
    const thanks = await statusText(p)
    t.equal(
      thanks,
      'Thank you: your answers were sent. You will hear from us if anything needs updating.',
      'the status region says the answers were sent',
    )
    t.match(await mainText(p), 'They can no longer be changed unless we ask you to update them.')
    t.equal(await p.page.getByRole('button', { name: 'Send my answers' }).count(), 0, 'there is no Send button')
    return thanks
  }

  /** The comparison table of the request page: each row's cells as text. */
  const comparison = (s: BrowserSession) =>
    s.page
      .locator('#answers + .table-scroll tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()),
        ),
      )
  const requestRow = (id: string) => db('portal_requests').where({ id }).first('status', 'answers')

  await suite.flow(
    'staff send a request, the client completes it from the link in the outbox, staff approve',
    async (s, t) => {
      const { company, officer, client, email } = await aFirm(s, 'Harbour Fiduciary')
      const newName = 'Example Trading GmbH'
      await signInByKeyboard(s, t, officer)
      const requestPath = await sendRequest(s, t, client, email)
      const requestId = requestPath.split('/').at(-1) ?? ''
      const mail = await lastEmailTo(db, email)
      t.equal(mail.subject, `${company.name} asks you to complete their questionnaire`, 'the email is queued')
      t.match(mail.path, /^\/p\/[A-Za-z0-9_-]{20,}$/, 'it holds the portal link')

      const thanks = await withPhone(s, t, company, async (phone) => {
        const { p, check } = phone
        await openLink(phone, t, mail.path, company, client)
        t.match(await mainText(p), 'Message from Priya Nair Please confirm the company details before our call.')
        await follow(p, 'link', 'Start')
        await check(t, part(1))
        await answerDetails(p, newName, 'Gesellschaft mit beschränkter Haftung')
        await follow(p, 'button', 'Save and continue')
        await check(t, part(2))
        await typeInto(p, 'Nature of business', 'Wholesale of coffee and tea')
        await follow(p, 'button', 'Save as draft')
        await check(t, part(2))
        t.equal(
          await statusText(p),
          'Your answers are saved. You can close this page and come back with the link in your email.',
          'the draft is saved',
        )
        t.match(await requestRow(requestId), { status: 'draft' }, 'the request is a draft')

        // The client leaves, and comes back later with the same link: the draft is still there.
        await follow(p, 'button', 'Leave the portal')
        const left = 'You have left the portal'
        await check(t, { title: left, h1: left, status: 200, ofCompany: false })
        await openLink(phone, t, mail.path, company, client)
        await follow(p, 'link', 'Start')
        await check(t, part(1))
        t.equal(await fieldValue(p, 'Registered name'), newName, 'page 1 kept its answers')
        await follow(p, 'button', 'Save and continue')
        await check(t, part(2))
        t.equal(await fieldValue(p, 'Nature of business'), 'Wholesale of coffee and tea', 'the draft is kept')
        await typeInto(p, 'Ultimate beneficial owners', 'Anna Weber, 1970-02-01, German, 100%')
        await follow(p, 'button', 'Save and continue')
        return uploadAndSend(phone, t)
      })

      await s.goto(requestPath)
      await s.check(t, { ...requestPage(client.name), status: 200 })
      t.match(await mainText(s), 'State Submitted', 'staff see the request submitted')
      const rows = await comparison(s)
      t.strictSame(
        rows[0],
        ['Registered name (client field)', client.name, `${newName} Changed`],
        'the comparison shows the changed name',
      )
      await follow(s, 'button', 'Approve the submission')
      await s.check(t, { ...requestPage(newName), status: 200 })
      const approved = await statusText(s)
      t.equal(
        approved,
        'The submission was approved: 4 of the client’s details changed, 1 document filed.',
        'the status region says what the approval did',
      )
      t.match(await mainText(s), 'State Approved · decided by Priya Nair')
      await follow(s, 'link', `Back to ${newName}`)
      await s.check(t, { title: newName, h1: newName, status: 200 })
      const table = s.page.getByRole('table', { name: `Documents of ${newName}` })
      t.match(await table.textContent(), CERTIFICATE, 'the certificate is one of the client’s documents')
      const entity = await db('entities')
        .where({ id: client.id })
        .first('name', 'registration_number', 'country_of_incorporation', 'legal_form', 'portal_answers')
      const docs = await db('documents').where({ entity_id: client.id }).select('original_name', 'media_type')
      t.strictSame(docs, [{ original_name: CERTIFICATE, media_type: 'application/pdf' }], 'the document is filed')
      const request = await requestRow(requestId)
      t.equal(request.status, 'approved', 'the request is approved')
      return { thanks, rows, approved, entity, docs, status: request.status }
    },
  )

  await suite.flow(
    'staff request updates, the client changes the answer from the new link and sends again',
    async (s, t) => {
      const { company, officer, client, email } = await aFirm(s, 'Lantern Trust')
      const reason = 'The register shows HRB 654321: check the number against the certificate.'
      await signInByKeyboard(s, t, officer)
      const requestPath = await sendRequest(s, t, client, email)
      const requestId = requestPath.split('/').at(-1) ?? ''
      const first = await lastEmailTo(db, email)
      await withPhone(
        s,
        t,
        company,
        async (phone) => {
          const { p, check } = phone
          await openLink(phone, t, first.path, company, client)
          await follow(p, 'link', 'Start')
          await check(t, part(1))
          await answerDetails(p, client.name, 'GmbH')
          await follow(p, 'button', 'Save and continue')
          await check(t, part(2))
          await typeInto(p, 'Nature of business', 'Wholesale of coffee and tea')
          await typeInto(p, 'Ultimate beneficial owners', 'Anna Weber, 1970-02-01, German, 100%')
          await follow(p, 'button', 'Save and continue')
          await uploadAndSend(phone, t)
        },
        SMALL_PHONE,
      )

      await s.goto(requestPath)
      await s.check(t, { ...requestPage(client.name), status: 200 })
      await typeInto(s, 'What to update in “Registration number” (optional)', reason)
      await follow(s, 'button', 'Request updates')
      await s.check(t, { ...requestPage(client.name), status: 200 })
      const requested = await statusText(s)
      t.equal(requested, 'Updates were requested: the client was sent a new link by email.', 'confirmed')
      t.match(await mainText(s), 'State Updates requested', 'the request waits for the client')
      const second = await lastEmailTo(db, email)
      t.equal(second.subject, `${company.name} asks you to update your answers`, 'a new email is queued')
      t.not(second.path, first.path, 'with a new link')

      const resent = await withPhone(
        s,
        t,
        company,
        async (phone) => {
          const { p, check } = phone
          await p.goto(first.path)
          const gone = 'This link no longer works'
          await check(t, { title: gone, h1: gone, status: 404, ofCompany: false })
          t.match(await mainText(p), 'This link does not work.', 'the old link does not work')
          await openLink(phone, t, second.path, company, client)
          t.match(await mainText(p), `What to update`, 'the start page says what to update')
          t.match(await mainText(p), `Registration number: ${reason}`, 'with the reason beside the question')
          await follow(p, 'link', 'Registration number')
          await check(t, part(1))
          const field = p.page.getByRole('textbox', { name: 'Registration number', exact: true })
          t.match(await field.getAttribute('aria-describedby'), 'q-registration_number-hint', 'the field has a hint')
          t.match(await p.page.locator('#q-registration_number-hint').textContent(), `Asked to update: ${reason}`)
          await typeInto(p, 'Registration number', 'HRB 654321')
          await follow(p, 'button', 'Save and continue')
          await check(t, part(2))
          await follow(p, 'button', 'Save and continue')
          await check(t, documents)
          await follow(p, 'link', 'Continue')
          await check(t, review)
          t.match(await mainText(p), 'Registration number HRB 654321', 'the review shows the new answer')
          await follow(p, 'button', 'Send my answers')
          await check(t, sent)
          t.equal(await p.page.getByRole('button', { name: 'Send my answers' }).count(), 0, 'there is no Send button')
          return statusText(p)
        },
        SMALL_PHONE,
      )

      await s.goto(requestPath)
      await s.check(t, { ...requestPage(client.name), status: 200 })
      const text = await mainText(s)
      t.match(text, 'State Submitted', 'staff see the request submitted again')
      t.match(text, /Submission 2, .+: waiting for a decision/, 'the second submission waits for a decision')
      t.match(text, `Submission 1, `, 'the first is listed')
      t.match(text, `updates requested by Priya Nair`, 'with who asked for updates')
      t.match(text, `Registration number: ${reason}`, 'and why')
      const rows = await comparison(s)
      t.strictSame(rows[1], ['Registration number (client field)', '—', 'HRB 654321 Changed'], 'the new answer')
      const request = await requestRow(requestId)
      t.match(request, { status: 'submitted', answers: { registration_number: 'HRB 654321' } }, 'stored')
      const submissions = await db('portal_submissions')
        .where({ request_id: requestId })
        .orderBy('n')
        .select('n', 'decision', 'reasons')
      return { requested, resent, rows, status: request.status, submissions }
    },
  )

  await suite.validateSavedPages()
}
