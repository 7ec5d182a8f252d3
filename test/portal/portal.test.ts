/**
 * The self-service portal (issue 15), through the app: a link's token (only its hash kept; a GET that changes
 * nothing), expiry and revocation, a portal session that reaches its own request and nothing else (the whole
 * route table walked with it), uploads, drafts, submitting once, approval all or nothing, updates requested
 * and a resubmission, reminders, and who may do what.
 */
import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { Config } from '../../src/config.js'
import { deliverDueEmails, REDACTED } from '../../src/mail/outbox.js'
import { sendReminders } from '../../src/portal/requests.js'
import { multipartBody, PDF_BYTES, testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

const LINK = /\/p\/([A-Za-z0-9_-]{43})/

async function setup(t: Test, overrides: Partial<Config> = {}) {
  const { app, db, storageDir } = await testApp(t, overrides)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  const manager = await aUser(db, { company, name: 'Mia Manager', permissions: ['manage_self_service_requests'] })
  const approver = await aUser(db, { company, name: 'Abe Approver', permissions: ['approve_self_service_submissions'] })
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })
  const client = await anEntity(db, { company, owner: admin, name: 'Harbour Trust', kind: 'organisation' })
  const second = await anEntity(db, { company, owner: admin, name: 'Second Client Ltd', kind: 'organisation' })
  await db('portal_settings').insert({ company_id: company.id, contact: 'Desk team, +44 20 7946 0000' })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  const staff = { manager: await as(manager), approver: await as(approver) }
  /** Sends a request from the client's page; returns its id and its link's token (from the outbox). */
  const send = async (entityId = client.id, email = 'owner@harbour.test') => {
    await staff.manager.get(`/entities/${entityId}`)
    const res = await staff.manager.post(`/entities/${entityId}/portal-requests`, { email, message: 'Hello' })
    if (res.statusCode !== 303) throw new Error(`send refused: ${res.statusCode} ${visibleText(res.body)}`)
    return { id: String(res.headers.location).split('/').pop() as string, token: await newestToken(email) }
  }
  const newestToken = async (email: string) => {
    const mail = await db('outbox_emails').where({ to_address: email }).orderBy('id', 'desc').first('body_text')
    const token = LINK.exec(mail.body_text)?.[1]
    if (!token) throw new Error('no link in the email')
    return token
  }
  /** A client's browser: the link opened and Continue pressed. */
  const open = async (token: string) => {
    const v = new Visitor(app)
    await v.get(`/p/${token}`)
    const res = await v.post(`/p/${token}`, {})
    if (res.statusCode !== 303) throw new Error(`continue refused: ${res.statusCode}`)
    await v.get('/portal')
    return v
  }
  const upload = async (v: Visitor, key: string, content: Buffer, filename: string) => {
    await v.get('/portal/documents')
    const body = multipartBody([['_csrf', v.csrfToken]], { field: 'file', filename, content })
    return v.request({ method: 'POST', url: `/portal/documents/${key}`, payload: body.payload, headers: body.headers })
  }
  /** Answers every question and uploads the certificate. */
  const complete = async (v: Visitor) => {
    await v.get('/portal/pages/1')
    const one = await v.post('/portal/pages/1', {
      'q-registered_name': 'Harbour Trust Holdings',
      'q-registration_number': 'HRB 99',
      'q-country_of_incorporation': 'DE',
      'q-legal_form': 'GmbH',
      action: 'next',
    })
    t.equal(one.statusCode, 303, 'page 1 saved')
    const two = await v.post('/portal/pages/2', {
      'q-nature_of_business': 'Shipping agency',
      'q-beneficial_owners': 'Ann Owner, 1970-01-02, DE, 60%',
      action: 'next',
    })
    t.equal(two.statusCode, 303, 'page 2 saved')
    t.equal((await upload(v, 'certificate_of_incorporation', PDF_BYTES, 'certificate.pdf')).statusCode, 303)
  }
  const submit = async (v: Visitor) => {
    await v.get('/portal/review')
    return v.post('/portal/submit', {})
  }
  const requestRow = (id: string) => db('portal_requests').where({ id }).first()
  /** A request sent 12 days ago that expires in 2: its reminder is due. */
  const dueForReminder = (id: string) =>
    db('portal_requests')
      .where({ id })
      .update({ link_sent_at: db.raw("now() - interval '12 days'"), expires_at: db.raw("now() + interval '2 days'") })
  /** How many files the document storage holds. */
  const storedFiles = () =>
    readdirSync(storageDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length
  return {
    app,
    db,
    storedFiles,
    company,
    other,
    admin,
    foreigner,
    manager,
    approver,
    reader,
    client,
    second,
    staff,
    as,
    send,
    newestToken,
    open,
    upload,
    complete,
    submit,
    requestRow,
    dueForReminder,
  }
}

t.test(
  'a link holds 256 random bits; only their hash is kept; opening it changes nothing until Continue',
  async (t) => {
    const s = await setup(t)
    const { id, token } = await s.send()
    const row = await s.requestRow(id)
    t.equal(Buffer.from(token, 'base64url').length, 32, '32 random bytes')
    t.equal(row.token_hash, createHash('sha256').update(token).digest('hex'), 'the request keeps the hash')
    const { rows } = await s.db.raw(
      `SELECT count(*)::int AS n FROM portal_requests r WHERE row_to_json(r)::text LIKE '%' || ? || '%'`,
      [token],
    )
    t.equal(rows[0].n, 0, 'the token itself is nowhere in the request')

    const browser = new Visitor(s.app)
    for (let i = 0; i < 2; i++) {
      const page = await browser.get(`/p/${token}`)
      t.equal(page.statusCode, 200)
      t.match(visibleText(page.body), 'Alpha Advisers asks you to complete a questionnaire')
      t.equal(page.headers['referrer-policy'], 'no-referrer')
      t.notOk(browser.cookies.has('kyc.portal'), 'no portal session yet')
    }
    t.equal((await s.requestRow(id)).status, 'sent', 'a GET (a mail scanner) leaves the request as sent')
    t.equal((await s.db('portal_sessions').count('* as n').first())?.n, 0)

    const res = await browser.post(`/p/${token}`, {})
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, '/portal')
    const cookie = browser.cookies.get('kyc.portal') as string
    t.ok(cookie, 'Continue starts a portal session')
    const session = await s.db('portal_sessions').first()
    t.equal(session.id_hash, createHash('sha256').update(cookie).digest('hex'), 'only the cookie’s hash is stored')
    t.equal((await s.requestRow(id)).status, 'opened')
    t.equal(
      (await s.db('audit_log').where({ action: 'portal.opened' }).count('* as n').first())?.n,
      1,
      'opening is audited',
    )
    const start = await browser.get('/portal')
    t.equal(start.statusCode, 200)
    t.match(visibleText(start.body), 'Your questionnaire for Harbour Trust')
    t.match(visibleText(start.body), 'Hello', 'the message of whoever sent it')

    // The email keeps the link only until it is sent.
    const sent: string[] = []
    await deliverDueEmails(s.db, { send: async (m) => void sent.push(m.text) }, 'desk@alpha.test')
    t.ok(
      sent.some((text) => text.includes(`/p/${token}`)),
      'the email sent has the link',
    )
    const stored = await s.db('outbox_emails').where({ to_address: 'owner@harbour.test' }).first()
    t.notOk(stored.body_text.includes(token), 'the outbox no longer holds the token once sent')
    t.ok(stored.body_text.includes(REDACTED))
  },
)

t.test('expired, revoked, unknown and used links say so, with the company’s contact; nothing opens', async (t) => {
  const s = await setup(t)
  const unknown = await new Visitor(s.app).get(`/p/${'A'.repeat(43)}`)
  t.equal(unknown.statusCode, 404)
  t.match(visibleText(unknown.body), 'This link does not work')

  const expired = await s.send()
  await s
    .db('portal_requests')
    .where({ id: expired.id })
    .update({ expires_at: s.db.raw("now() - interval '1 minute'") })
  const browser = new Visitor(s.app)
  const page = await browser.get(`/p/${expired.token}`)
  t.equal(page.statusCode, 410)
  t.match(visibleText(page.body), 'This link has expired')
  t.match(visibleText(page.body), 'Desk team, +44 20 7946 0000')
  await browser.get('/login')
  const post = await browser.post(`/p/${expired.token}`, {})
  t.equal(post.statusCode, 410, 'Continue is refused too')
  t.equal((await s.db('portal_sessions').count('* as n').first())?.n, 0)
  const listed = await s.staff.manager.get(`/entities/${s.client.id}`)
  t.match(visibleText(listed.body), 'Expired', 'staff see it expired')

  const revoked = await s.send()
  const portal = await s.open(revoked.token)
  await s.staff.manager.get(`/entities/${s.client.id}/portal-requests/${revoked.id}`)
  const version = String((await s.requestRow(revoked.id)).version)
  t.equal(
    (await s.staff.manager.post(`/entities/${s.client.id}/portal-requests/${revoked.id}/revoke`, { version }))
      .statusCode,
    303,
  )
  t.equal((await portal.get('/portal')).statusCode, 401, 'the open portal session ends at once')
  const gone = await new Visitor(s.app).get(`/p/${revoked.token}`)
  t.equal(gone.statusCode, 410)
  t.match(visibleText(gone.body), 'This request was withdrawn')
  t.equal((await s.db('audit_log').where({ action: 'portal.request_revoked' }).count('* as n').first())?.n, 1)

  // A client moved to the recycle bin: its request's link stops working, and works again once restored.
  const binned = await s.send(s.second.id, 'second@example.test')
  await s.db('entities').where({ id: s.second.id }).update({ deleted_at: s.db.fn.now() })
  const inBin = await new Visitor(s.app).get(`/p/${binned.token}`)
  t.equal(inBin.statusCode, 410)
  t.match(visibleText(inBin.body), 'This request was withdrawn')
  await s.db('entities').where({ id: s.second.id }).update({ deleted_at: null })
  t.equal((await new Visitor(s.app).get(`/p/${binned.token}`)).statusCode, 200, 'restored, it works again')
})

t.test('a portal session reaches its own request and nothing else: the whole route table walked', async (t) => {
  const s = await setup(t)
  const mine = await s.send(s.client.id, 'mine@example.test')
  const theirs = await s.send(s.second.id, 'theirs@example.test')
  const other = await anEntity(s.db, {
    company: s.other,
    owner: s.foreigner,
    name: 'Foreign Client AG',
    kind: 'organisation',
  })
  const portal = await s.open(mine.token)
  const before = await s.requestRow(theirs.id)
  const values: Record<string, string> = {
    id: s.second.id,
    request: theirs.id,
    upload: '00000000-0000-4000-8000-000000000001',
    token: 'B'.repeat(43),
    page: '1',
    key: 'certificate_of_incorporation',
    kind: 'organisation',
  }
  let walked = 0
  for (const route of s.app.routeTable) {
    if (route.method === 'HEAD') continue
    const url = route.url.replace(/:(\w+)|\*/g, (_m, name: string | undefined) => values[name ?? ''] ?? other.id)
    const res = await portal.send(route.method, url, { action: 'save', 'q-registered_name': 'Walked' })
    walked++
    const where = `${route.method} ${route.url}`
    t.notOk(visibleText(res.body).includes('Second Client Ltd'), `${where} shows nothing of the other client`)
    t.notOk(res.body.includes('theirs@example.test'), `${where} shows nothing of the other request`)
    if (route.access !== 'public' && route.access !== 'portal') {
      t.ok(
        (res.statusCode === 303 && String(res.headers.location).startsWith('/login')) || res.statusCode === 401,
        `${where} is a staff route: the portal session is not signed in (${res.statusCode})`,
      )
    }
  }
  t.ok(walked > 100, `${walked} routes walked`)
  const after = await s.requestRow(theirs.id)
  t.same(
    { status: after.status, answers: after.answers, version: after.version },
    { status: before.status, answers: before.answers, version: before.version },
    'the other request is unchanged',
  )
  t.equal((await s.db('portal_sessions').where({ request_id: theirs.id }).count('* as n').first())?.n, 0)
})

t.test('uploads: the type is read from the bytes, the limits are the staff upload’s, and removing works', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  const v = await s.open(token)
  const html = await s.upload(
    v,
    'certificate_of_incorporation',
    Buffer.from('<!doctype html><script>x</script>'),
    'c.pdf',
  )
  t.equal(html.statusCode, 422)
  t.match(visibleText(html.body), 'Web pages, SVG and XML files are not accepted')
  const exe = await s.upload(v, 'certificate_of_incorporation', Buffer.from('MZ\x90\x00\x03binary'), 'c.exe')
  t.equal(exe.statusCode, 422)
  t.match(visibleText(exe.body), 'This type of file is not accepted')
  t.equal((await s.db('portal_uploads').count('* as n').first())?.n, 0, 'nothing refused is kept')
  t.equal((await s.upload(v, 'no_such_question', PDF_BYTES, 'c.pdf')).statusCode, 404)

  t.equal((await s.upload(v, 'certificate_of_incorporation', PDF_BYTES, 'certificate.pdf')).statusCode, 303)
  const [row] = await s.db('portal_uploads').select()
  t.equal(row.media_type, 'application/pdf')
  t.same((await s.requestRow(id)).answers, { certificate_of_incorporation: [row.id] })
  const docs = await v.get('/portal/documents')
  t.match(visibleText(docs.body), 'certificate.pdf')
  t.equal((await v.post(`/portal/uploads/${row.id}/remove`, {})).statusCode, 303)
  t.equal((await s.db('portal_uploads').count('* as n').first())?.n, 0)
  t.same((await s.requestRow(id)).answers, {}, 'the answer goes with it')
})

t.test('a draft is saved and resumed from a new session; Continue checks the page', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  const v = await s.open(token)
  await v.get('/portal/pages/1')
  const draft = await v.post('/portal/pages/1', { 'q-legal_form': 'GmbH', action: 'save' })
  t.equal(draft.statusCode, 303, 'a draft needs no required answer')
  t.equal((await s.requestRow(id)).status, 'draft')
  const later = await s.open(token)
  const page = await later.get('/portal/pages/1')
  t.match(page.body, /name="q-legal_form" type="text" value="GmbH"/, 'the draft is there next time')
  const refused = await later.post('/portal/pages/1', { 'q-legal_form': 'GmbH', action: 'next' })
  t.equal(refused.statusCode, 422)
  t.match(visibleText(refused.body), 'Answer “Registered name”')
  t.match(refused.body, /value="GmbH"/, 'what was typed is kept')
  const bad = await later.post('/portal/pages/1', { 'q-country_of_incorporation': 'XX', action: 'save' })
  t.equal(bad.statusCode, 422, 'a wrong answer is refused even in a draft')
  t.same((await s.requestRow(id)).answers, { legal_form: 'GmbH' }, 'nothing refused was saved')
})

t.test('a request is submitted once; then nothing can change until updates are requested', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  const v = await s.open(token)
  t.equal((await s.submit(v)).statusCode, 422, 'an incomplete request cannot be sent')
  await s.complete(v)
  const w = await s.open(token)
  await v.get('/portal/review')
  await w.get('/portal/review')
  const results = await Promise.all([v.post('/portal/submit', {}), w.post('/portal/submit', {})])
  t.same(results.map((r) => r.statusCode).sort(), [303, 409], 'two racing submits: one is taken')
  t.equal((await s.db('portal_submissions').where({ request_id: id }).count('* as n').first())?.n, 1)
  const review = await v.get('/portal/review')
  t.match(visibleText(review.body), 'What you sent')
  t.notMatch(review.body, /Send my answers/)
  const late = await v.post('/portal/pages/1', { 'q-registered_name': 'Changed later', action: 'save' })
  t.equal(late.statusCode, 409)
  t.equal((await s.requestRow(id)).answers.registered_name, 'Harbour Trust Holdings')
  const mails = await s.db('outbox_emails').where('subject', 'like', '%received%').select('to_address')
  t.same(
    mails.map((m) => m.to_address).sort(),
    [s.manager.email, 'owner@harbour.test'].sort(),
    'the client and the sender are told',
  )
})

t.test('approval applies everything or nothing', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  const v = await s.open(token)
  await s.complete(v)
  await s.submit(v)
  const page = await s.staff.approver.get(`/entities/${s.client.id}/portal-requests/${id}`)
  t.match(visibleText(page.body), 'Registered name (client field) Harbour Trust Harbour Trust Holdings Changed')
  const version = String((await s.requestRow(id)).version)

  // A failure half-way: the client's row is changed, then filing the document fails.
  await s.db.raw(`CREATE FUNCTION fail_filing() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'injected failure'; END $$;
    CREATE TRIGGER fail_filing BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION fail_filing();`)
  const failed = await s.staff.approver.post(`/entities/${s.client.id}/portal-requests/${id}/approve`, { version })
  t.equal(failed.statusCode, 500)
  const untouched = await s.db('entities').where({ id: s.client.id }).first()
  t.equal(untouched.name, 'Harbour Trust', 'the client is unchanged')
  t.same(untouched.portal_answers, {})
  t.equal((await s.requestRow(id)).status, 'submitted')
  t.equal((await s.db('portal_uploads').whereNotNull('document_id').count('* as n').first())?.n, 0)
  t.equal((await s.db('audit_log').where({ action: 'portal.submission_approved' }).count('* as n').first())?.n, 0)
  await s.db.raw('DROP TRIGGER fail_filing ON documents; DROP FUNCTION fail_filing();')

  t.equal(
    (await s.staff.manager.post(`/entities/${s.client.id}/portal-requests/${id}/approve`, { version })).statusCode,
    403,
    'the manager may not approve',
  )
  const done = await s.staff.approver.post(`/entities/${s.client.id}/portal-requests/${id}/approve`, { version })
  t.equal(done.statusCode, 303)
  const client = await s.db('entities').where({ id: s.client.id }).first()
  t.same(
    [client.name, client.registration_number, client.country_of_incorporation, client.legal_form],
    ['Harbour Trust Holdings', 'HRB 99', 'DE', 'GmbH'],
  )
  t.same(client.portal_answers, {
    nature_of_business: 'Shipping agency',
    beneficial_owners: 'Ann Owner, 1970-01-02, DE, 60%',
  })
  const [doc] = await s.db('documents').where({ entity_id: s.client.id }).select()
  t.equal(doc.original_name, 'certificate.pdf')
  t.equal((await s.db('portal_uploads').first()).document_id, doc.id)
  t.equal((await s.requestRow(id)).status, 'approved')
  const actions = (await s.db('audit_log').where({ target_id: s.client.id }).orderBy('id').select('action')).map(
    (a) => a.action,
  )
  t.ok(['entity.updated', 'entity.document_uploaded', 'portal.submission_approved'].every((a) => actions.includes(a)))
  const again = await s.staff.approver.post(`/entities/${s.client.id}/portal-requests/${id}/approve`, { version })
  t.equal(again.statusCode, 409, 'a second approval is refused')
  const used = await new Visitor(s.app).get(`/p/${token}`)
  t.equal(used.statusCode, 410)
  t.match(visibleText(used.body), 'This request is complete')
  t.equal((await v.get('/portal')).statusCode, 401, 'the portal session ended')
})

t.test('updates requested: a reason per answer, a new link, and a resubmission', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  const v = await s.open(token)
  await s.complete(v)
  await s.submit(v)
  const page = `/entities/${s.client.id}/portal-requests/${id}`
  await s.staff.approver.get(page)
  const version = String((await s.requestRow(id)).version)
  const empty = await s.staff.approver.post(`${page}/request-updates`, { version })
  t.equal(empty.statusCode, 422)
  t.match(visibleText(empty.body), 'Say what the client should update')
  const asked = await s.staff.approver.post(`${page}/request-updates`, {
    version,
    'reason-registration_number': 'The number has a typo: check the register extract',
  })
  t.equal(asked.statusCode, 303)
  t.equal((await s.requestRow(id)).status, 'updates_requested')
  t.equal((await new Visitor(s.app).get(`/p/${token}`)).statusCode, 404, 'the old link no longer works')
  const fresh = await s.newestToken('owner@harbour.test')
  t.not(fresh, token)
  const mail = await s.db('outbox_emails').where({ to_address: 'owner@harbour.test' }).orderBy('id', 'desc').first()
  t.match(mail.body_text, 'Registration number: The number has a typo')
  const w = await s.open(fresh)
  const start = await w.get('/portal')
  t.match(visibleText(start.body), 'What to update')
  t.match(visibleText(start.body), 'The number has a typo')
  await w.get('/portal/pages/1')
  await w.post('/portal/pages/1', {
    'q-registered_name': 'Harbour Trust Holdings',
    'q-registration_number': 'HRB 100',
    'q-country_of_incorporation': 'DE',
    'q-legal_form': 'GmbH',
    action: 'next',
  })
  t.equal((await s.submit(w)).statusCode, 303)
  const row = await s.requestRow(id)
  t.equal(row.status, 'submitted')
  t.equal(row.answers.registration_number, 'HRB 100')
  const subs = await s.db('portal_submissions').where({ request_id: id }).orderBy('n').select('n', 'decision')
  t.same(subs, [
    { n: 1, decision: 'updates_requested' },
    { n: 2, decision: null },
  ])
})

t.test('reminders: once, before expiry, with a fresh link', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  t.equal(await sendReminders(s.db, 'http://desk.test'), 0, 'a request sent just now gets none')
  await s.dueForReminder(id)
  t.equal(await sendReminders(s.db, 'http://desk.test'), 1)
  t.equal(await sendReminders(s.db, 'http://desk.test'), 0, 'only once')
  const fresh = await s.newestToken('owner@harbour.test')
  t.not(fresh, token)
  t.equal((await new Visitor(s.app).get(`/p/${fresh}`)).statusCode, 200)
  t.ok((await s.requestRow(id)).reminded_at)
})

t.test('who may do what: sending, deciding, reading; other companies; rate limits on links', async (t) => {
  const s = await setup(t)
  const reader = await s.as(s.reader)
  const page = await reader.get(`/entities/${s.client.id}`)
  t.notMatch(visibleText(page.body), 'Send a request', 'Read Data alone shows no Self-service section')
  t.equal((await reader.post(`/entities/${s.client.id}/portal-requests`, { email: 'x@y.test' })).statusCode, 403)
  t.equal(
    (await s.staff.approver.post(`/entities/${s.client.id}/portal-requests`, { email: 'x@y.test' })).statusCode,
    403,
  )
  t.equal((await s.db('portal_requests').count('* as n').first())?.n, 0, 'nothing was sent')

  await s.staff.manager.get(`/entities/${s.client.id}`)
  const bad = await s.staff.manager.post(`/entities/${s.client.id}/portal-requests`, { email: 'not an address' })
  t.equal(bad.statusCode, 422)
  t.match(visibleText(bad.body), 'Enter an email address like name@example.com')
  t.match(bad.body, /value="not an address"/)

  const { id } = await s.send()
  const url = `/entities/${s.client.id}/portal-requests/${id}`
  t.equal((await reader.get(url)).statusCode, 403)
  const approverView = await s.staff.approver.get(url)
  t.equal(approverView.statusCode, 200)
  t.notMatch(approverView.body, /Revoke the request/, 'the approver is not offered revoking')
  const version = String((await s.requestRow(id)).version)
  t.equal((await s.staff.approver.post(`${url}/revoke`, { version })).statusCode, 403)
  t.equal((await s.staff.approver.post(`${url}/resend`, { version })).statusCode, 403)
  const stale = await s.staff.manager.post(`${url}/resend`, { version: String(Number(version) - 1) })
  t.equal(stale.statusCode, 409, 'a page shown before a change is refused')
  const foreign = await s.as(s.foreigner)
  t.equal((await foreign.get(url)).statusCode, 404, 'another company’s administrator finds nothing')
  const list = await s.staff.approver.get('/self-service')
  t.match(visibleText(list.body), 'Harbour Trust')

  const guesser = new Visitor(s.app)
  const codes: number[] = []
  for (let i = 0; i < 25; i++) codes.push((await guesser.get(`/p/${'C'.repeat(43)}`)).statusCode)
  t.ok(codes.includes(429), 'guessing links is rate limited')
})

t.test('uploads nobody filed go when the request is revoked or the client is deleted for good', async (t) => {
  const s = await setup(t)
  const files = s.storedFiles()
  const first = await s.send()
  const v = await s.open(first.token)
  await s.upload(v, 'certificate_of_incorporation', PDF_BYTES, 'certificate.pdf')
  t.equal(s.storedFiles(), files + 1)
  const url = `/entities/${s.client.id}/portal-requests/${first.id}`
  await s.staff.manager.get(url)
  await s.staff.manager.post(`${url}/revoke`, { version: String((await s.requestRow(first.id)).version) })
  t.equal((await s.db('portal_uploads').count('* as n').first())?.n, 0, 'the upload’s row is gone')
  t.equal(s.storedFiles(), files, 'and its bytes')
  const audit = await s.db('audit_log').where({ action: 'portal.request_revoked' }).first('after')
  t.same(audit.after.uploads_deleted, ['certificate.pdf'])

  const second = await s.send()
  const w = await s.open(second.token)
  await s.upload(w, 'certificate_of_incorporation', PDF_BYTES, 'certificate.pdf')
  t.equal(s.storedFiles(), files + 1)
  const admin = await s.as(s.admin)
  await admin.get(`/entities/${s.client.id}/delete`)
  t.equal((await admin.post(`/entities/${s.client.id}/delete`, {})).statusCode, 303)
  t.equal(
    (await w.get('/portal')).statusCode,
    401,
    'a client in the recycle bin: the portal session shows nothing more',
  )
  await admin.get(`/recycle-bin/entities/${s.client.id}/purge`)
  t.equal((await admin.post(`/recycle-bin/entities/${s.client.id}/purge`, {})).statusCode, 303)
  t.equal(s.storedFiles(), files, 'deleted for good: the upload’s bytes are gone too')
})

t.test(
  'staff forms take only the session’s CSRF secret; a portal link’s Continue works in a staff browser',
  async (t) => {
    const s = await setup(t)
    const { token } = await s.send()
    const staff = s.staff.manager
    await staff.get(`/p/${token}`)
    const visitorToken = staff.csrfToken
    const refused = await staff.post(
      `/entities/${s.client.id}/portal-requests`,
      { email: 'x@example.test' },
      { csrf: visitorToken },
    )
    t.equal(refused.statusCode, 403, 'a token of the visitor’s cookie does not pass on a staff form')
    t.equal((await s.db('portal_requests').count('* as n').first())?.n, 1)
    const opened = await staff.post(`/p/${token}`, {}, { csrf: visitorToken })
    t.equal(opened.statusCode, 303, 'Continue, from the same browser, is taken')
    const portalPage = await staff.get('/portal')
    t.equal(portalPage.statusCode, 200)
    t.notMatch(portalPage.body, 'Sign out', 'the portal shows nothing of the staff session')
  },
)

t.test('reminders leave an open portal session alone; a second Continue is on the record', async (t) => {
  const s = await setup(t)
  const { id, token } = await s.send()
  const v = await s.open(token)
  await s.open(token)
  t.equal((await s.db('audit_log').where({ action: 'portal.session_started' }).count('* as n').first())?.n, 1)
  await s.dueForReminder(id)
  t.equal(await sendReminders(s.db, 'http://desk.test'), 1)
  t.equal((await v.get('/portal')).statusCode, 200, 'the client filling it in is still signed in')
  const twice = await v.post('/portal/pages/1', { 'q-legal_form': ['GmbH', 'AG'], action: 'save' })
  t.equal(twice.statusCode, 422, 'two answers to a one-answer question are refused')
  t.match(visibleText(twice.body), 'Give one answer to “Legal form”')
})

t.test('approval keeps the unbound answers as answered now, audited with before and after', async (t) => {
  const s = await setup(t)
  await s
    .db('entities')
    .where({ id: s.client.id })
    .update({ portal_answers: { nature_of_business: 'Old trade', other_key: 'kept' } })
  const { id, token } = await s.send()
  const v = await s.open(token)
  await s.complete(v)
  await s.submit(v)
  await s.staff.approver.get(`/entities/${s.client.id}/portal-requests/${id}`)
  const version = String((await s.requestRow(id)).version)
  t.equal(
    (await s.staff.approver.post(`/entities/${s.client.id}/portal-requests/${id}/approve`, { version })).statusCode,
    303,
  )
  const client = await s.db('entities').where({ id: s.client.id }).first('portal_answers')
  t.same(client.portal_answers, {
    nature_of_business: 'Shipping agency',
    beneficial_owners: 'Ann Owner, 1970-01-02, DE, 60%',
    other_key: 'kept',
  })
  const audit = await s.db('audit_log').where({ action: 'portal.answers_kept' }).first('before', 'after')
  t.same(audit.before, { nature_of_business: 'Old trade', beneficial_owners: null })
  t.match(audit.after, { nature_of_business: 'Shipping agency', from_portal_request: id })
})

t.test('with a mail server, the Outgoing email page hides the links meant for their recipients', async (t) => {
  const s = await setup(t, { smtpUrl: 'smtp://127.0.0.1:1' })
  const { token } = await s.send()
  const admin = await s.as(s.admin)
  const page = await admin.get('/settings/outgoing-email')
  t.notMatch(page.body, token)
  t.match(visibleText(page.body), '[hidden: for the recipient only]')
})
