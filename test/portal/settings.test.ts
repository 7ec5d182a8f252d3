/**
 * Settings → Self-service portal (src/portal/settings-routes.ts): the portal's words and link validity, and
 * the questionnaire editor (add, edit, bind a client field, move, remove), each change built on the version
 * the page showed, so a stale or racing one is refused with 409 and changes nothing.
 */
import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

const Q = '/settings/portal/questionnaires'

async function setup(t: Test) {
  const { app, db } = await testApp(t)
  const { company, other, admin } = await twoCompanies(db)
  const manager = await aUser(db, { company, name: 'Mo Manager', permissions: ['manage_self_service'] })
  const outsider = await aUser(db, {
    company,
    name: 'Nearly Everything',
    permissions: ['manage_self_service_requests', 'approve_self_service_submissions', 'manage_user_accounts'],
  })
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    await v.get('/')
    return v
  }
  const audits = (action: string) => db('audit_log').where({ company_id: company.id, action }).orderBy('id')
  const stored = async (kind = 'individual') =>
    db('portal_questionnaires').where({ company_id: company.id, kind }).first('schema', 'version')
  const order = async (kind = 'individual'): Promise<string[]> => (await stored(kind))?.schema['x-kyc-order']
  return { app, db, company, other, admin, manager, outsider, as, audits, stored, order }
}

/** The questionnaire version a page's forms carry. */
function versionOn(html: string): string {
  const m = /name="version" value="(\d+)"/.exec(html)
  if (!m?.[1]) throw new Error('no version on the page')
  return m[1]
}

/** A question form's fields: a short text question on page 2, unless told. */
function questionFields(
  version: string,
  fields: Partial<Record<'label' | 'kind' | 'help' | 'required' | 'options' | 'page' | 'field', string>> = {},
) {
  return {
    label: 'Tax residence',
    kind: 'text',
    help: '',
    required: 'yes',
    options: '',
    page: '2',
    field: '',
    version,
    ...fields,
  }
}

t.test('only a user with Manage Self-Service opens or changes the portal settings', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.outsider)
  const gets = [
    '/settings/portal',
    `${Q}/individual`,
    `${Q}/individual/schema.json`,
    `${Q}/individual/questions/new`,
    `${Q}/individual/questions/occupation`,
    `${Q}/individual/questions/occupation/remove`,
  ]
  for (const url of gets) t.equal((await v.get(url)).statusCode, 403, `GET ${url}`)
  await v.get('/')
  const posts: [string, Record<string, string>][] = [
    ['/settings/portal', { intro: 'Hello', contact: 'desk@example.test', link_valid_days: '30' }],
    [`${Q}/individual/questions/new`, questionFields('0')],
    [`${Q}/individual/questions/occupation`, questionFields('0', { label: 'Job' })],
    [`${Q}/individual/questions/occupation/move`, { version: '0', direction: 'up' }],
    [`${Q}/individual/questions/occupation/remove`, { version: '0' }],
  ]
  for (const [url, fields] of posts) t.equal((await v.post(url, fields)).statusCode, 403, `POST ${url}`)
  t.equal((await s.db('portal_settings')).length, 0, 'no settings saved')
  t.equal((await s.db('portal_questionnaires')).length, 0, 'no questionnaire saved')
  t.equal((await s.db('audit_log').whereLike('action', 'portal.%')).length, 0, 'nothing audited')

  const admin = await s.as(s.admin)
  t.equal((await admin.get('/settings/portal')).statusCode, 200, 'a System Administrator has it')
  const manager = await s.as(s.manager)
  t.equal((await manager.get('/settings/portal')).statusCode, 200)
})

t.test('the portal settings: defaults, saved and audited, unchanged when sent again', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  const page = await v.get('/settings/portal')
  t.match(page.body, /<textarea id="intro" name="intro"[^>]*><\/textarea>/, 'no introduction yet')
  t.match(page.body, 'name="link_valid_days" type="text" value="14"', '14 days unless changed')
  const text = visibleText(page.body)
  t.match(text, 'Individuals 9 questions: 2 pages of questions, and 2 files to upload on the Documents step.')
  t.match(text, 'The questionnaire KYC Desk starts with, not changed yet.')
  t.match(page.body, `href="${Q}/individual">Edit the questionnaire for individuals</a>`)
  t.match(page.body, `href="${Q}/organisation">Edit the questionnaire for organisations</a>`)

  const fields = {
    intro: '  Welcome to Alpha Advisers.\r\nPlease answer every question.  ',
    contact: 'Compliance desk, compliance@alpha.test',
    link_valid_days: '30',
  }
  const saved = await v.post('/settings/portal', fields)
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, '/settings/portal')
  t.match(visibleText((await v.get('/settings/portal')).body), 'The portal settings were saved.')
  t.match(await s.db('portal_settings').where({ company_id: s.company.id }).first(), {
    intro: 'Welcome to Alpha Advisers.\r\nPlease answer every question.',
    contact: 'Compliance desk, compliance@alpha.test',
    link_valid_days: 30,
    updated_by: s.manager.id,
  })
  t.match(await s.audits('portal.settings_changed'), [
    {
      actor_user_id: s.manager.id,
      target_type: 'portal_settings',
      before: null,
      after: { contact: 'Compliance desk, compliance@alpha.test', link_valid_days: 30 },
    },
  ])
  t.match(v.lastHtml, 'value="30"', 'the form shows what is stored')

  t.equal((await v.post('/settings/portal', fields)).statusCode, 303)
  t.match(visibleText((await v.get('/settings/portal')).body), 'Nothing was changed.')
  t.equal((await s.audits('portal.settings_changed')).length, 1, 'the same values again: no audit row')
  t.equal((await s.db('portal_settings').where({ company_id: s.other.id })).length, 0, 'not Beta’s')
})

t.test('refused settings are shown again with what was typed', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  await v.get('/settings/portal')
  for (const days of ['0', '91', '1.5', 'ten', '']) {
    const res = await v.post('/settings/portal', { intro: 'Welcome, dear client', contact: '', link_valid_days: days })
    t.equal(res.statusCode, 422, `"${days}" days refused`)
    const text = visibleText(res.body)
    t.match(text, 'There is a problem')
    t.match(text, 'Enter how clients reach you: a name, an email address or a phone number')
    t.match(text, 'Enter a whole number of days from 1 to 90')
    t.match(res.body, 'href="#contact"')
    t.match(res.body, 'href="#link_valid_days"')
    t.match(res.body, '>Welcome, dear client</textarea>', 'the introduction is kept')
    t.match(res.body, `name="link_valid_days" type="text" value="${days}"`, 'the days are kept')
  }
  const long = await v.post('/settings/portal', { intro: 'x'.repeat(4001), contact: 'Desk', link_valid_days: '14' })
  t.equal(long.statusCode, 422)
  t.match(visibleText(long.body), 'Enter an introduction of at most 4,000 characters')
  t.equal((await s.db('portal_settings')).length, 0)
  t.equal((await s.audits('portal.settings_changed')).length, 0)
})

t.test('the questionnaire page: questions in order with their actions, each form with the version', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  const res = await v.get(`${Q}/individual`)
  t.equal(res.statusCode, 200)
  const text = visibleText(res.body)
  t.match(text, 'Questionnaire for individuals')
  t.match(text, 'requests already sent keep the questionnaire they were sent with')
  t.match(text, 'Full name Short text Page 1 Yes Full name Edit Full name Move down Full name Remove Full name')
  t.match(text, 'Occupation Short text Page 2 Yes — Edit Occupation Move up Occupation Move down Occupation')
  t.match(text, 'Identity document File upload Documents step Yes —')
  t.notMatch(text, 'Move up Full name', 'the first question does not move up')
  t.notMatch(text, 'Move down Proof of address', 'the last one does not move down')
  t.match(res.body, `<a href="${Q}/individual/questions/new">Add a question</a>`)
  t.match(res.body, `href="${Q}/individual/schema.json"`)
  t.match(res.body, '<th scope="row"><bdi>Occupation</bdi></th>')
  const forms = [...res.body.matchAll(/<form method="post" action="[^"]*\/move"[\s\S]*?<\/form>/g)].map((m) => m[0])
  t.equal(forms.length, 9, 'a move form for each question')
  t.ok(
    forms.every((f) => f.includes('name="version" value="0"')),
    'each carries the version shown',
  )
  const organisation = visibleText((await v.get(`${Q}/organisation`)).body)
  t.match(organisation, 'Registered name Short text Page 1 Yes Registered name')
  t.match(organisation, 'Register of shareholders File upload Documents step No —')
})

t.test('adding a question: saved in the schema, version 1, audited; refusals keep what was typed', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  const form = await v.get(`${Q}/individual/questions/new`)
  t.equal(form.statusCode, 200)
  t.match(visibleText(form.body), 'New question for individuals')
  for (const label of ['Question', 'Kind of answer', 'Help text (optional)', 'Options', 'Page'])
    t.match(form.body, new RegExp(`<label for="\\w+">${label.replace(/[()]/g, '\\$&')}</label>`), label)
  t.match(form.body, '<option value="">— none —</option>')
  t.match(form.body, '<option value="name">Full name (short text), now filled in by “Full name”</option>')
  const version = versionOn(form.body)
  t.equal(version, '0')

  const refused = await v.post(
    `${Q}/individual/questions/new`,
    questionFields(version, {
      label: 'Preferred language',
      kind: 'single_choice',
      help: 'The one we write to you in',
      options: 'English\n',
      page: '25',
    }),
  )
  t.equal(refused.statusCode, 422)
  t.match(visibleText(refused.body), 'Give at least 2 options to choose from')
  t.match(visibleText(refused.body), 'The page must be a whole number from 1 to 20')
  t.match(refused.body, 'href="#options"')
  t.match(refused.body, 'href="#page"')
  t.match(refused.body, 'value="Preferred language"', 'the question is kept')
  t.match(refused.body, '>The one we write to you in</textarea>', 'the help text is kept')
  t.match(refused.body, '>English\n</textarea>', 'the options are kept')
  t.match(refused.body, '<option value="single_choice" selected>')
  t.equal(await s.stored(), undefined, 'nothing saved')

  const added = await v.post(
    `${Q}/individual/questions/new`,
    questionFields(version, {
      label: 'Preferred language',
      kind: 'single_choice',
      help: 'The one we write to you in',
      options: ' English \r\n\r\nFrançais\r\n',
      page: '2',
    }),
  )
  t.equal(added.statusCode, 303)
  t.equal(added.headers.location, `${Q}/individual#questions`)
  const page = visibleText((await v.get(`${Q}/individual`)).body)
  t.match(page, 'The question “Preferred language” was added.')
  t.match(page, 'Preferred language One choice from a list Page 2 Yes —')
  const row = await s.stored()
  t.equal(row.version, 1)
  t.equal(row.schema['x-kyc-order'].at(-1), 'preferred_language', 'added at the end')
  t.match(row.schema.properties.preferred_language, {
    title: 'Preferred language',
    description: 'The one we write to you in',
    'x-kyc-kind': 'single_choice',
    'x-kyc-page': 2,
    enum: ['English', 'Français'],
  })
  t.ok(row.schema.required.includes('preferred_language'))
  const [audit] = await s.audits('portal.question_added')
  t.match(audit, { actor_user_id: s.manager.id, target_type: 'portal_questionnaire', target_id: s.company.id })
  t.equal(audit.before.questions.length, 9)
  t.equal(audit.after.questions.length, 10)
  t.match(audit.after.questions.at(-1), { key: 'preferred_language', options: ['English', 'Français'] })

  // A file question with no page is asked on the Documents step; a text question keeps no options.
  await v.get(`${Q}/individual/questions/new`)
  t.equal(
    (
      await v.post(
        `${Q}/individual/questions/new`,
        questionFields('1', { label: 'Bank statement', kind: 'file', page: '', required: '', options: 'a\nb' }),
      )
    ).statusCode,
    303,
  )
  const after = await s.stored()
  t.equal(after.version, 2)
  t.match(after.schema.properties.bank_statement, { 'x-kyc-kind': 'file', 'x-kyc-page': 1 })
  t.notOk(after.schema.required.includes('bank_statement'), 'not required')
  t.match(visibleText((await v.get(`${Q}/individual`)).body), 'Bank statement File upload Documents step No —')

  // A label whose key would be the new-question form's own segment gets another key.
  await v.post(`${Q}/individual/questions/new`, questionFields('2', { label: 'New' }))
  t.equal((await s.order()).at(-1), 'new_question')
  t.equal((await s.db('portal_questionnaires').where({ company_id: s.other.id })).length, 0, 'not Beta’s')
})

t.test('editing a question keeps its key; unchanged, nothing is saved', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  const form = await v.get(`${Q}/individual/questions/occupation`)
  t.equal(form.statusCode, 200)
  t.match(visibleText(form.body), 'Edit the question “Occupation”')
  t.match(form.body, 'name="label" type="text" value="Occupation"')
  t.match(form.body, 'name="required" value="yes" checked')
  t.match(form.body, 'name="page" type="text" value="2"')
  const unchanged = await v.post(
    `${Q}/individual/questions/occupation`,
    questionFields('0', { label: 'Occupation', kind: 'text', page: '2' }),
  )
  t.equal(unchanged.statusCode, 303)
  t.match(visibleText((await v.get(`${Q}/individual`)).body), 'Nothing was changed.')
  t.equal(await s.stored(), undefined, 'no version saved for nothing')

  const saved = await v.post(
    `${Q}/individual/questions/occupation`,
    questionFields('0', {
      label: 'Occupation or profession',
      help: 'Your current job',
      required: '',
      page: '3',
      options: 'ignored\nfor text',
    }),
  )
  t.equal(saved.statusCode, 303)
  t.match(visibleText((await v.get(`${Q}/individual`)).body), 'The question “Occupation or profession” was saved.')
  const row = await s.stored()
  t.equal(row.version, 1)
  t.equal(row.schema['x-kyc-order'][4], 'occupation', 'same key, same place')
  t.match(row.schema.properties.occupation, {
    title: 'Occupation or profession',
    description: 'Your current job',
    'x-kyc-page': 3,
  })
  t.notOk('enum' in row.schema.properties.occupation, 'a text question stores no options')
  t.notOk(row.schema.required.includes('occupation'))
  const [audit] = await s.audits('portal.question_changed')
  t.match(audit.before.questions[4], { key: 'occupation', label: 'Occupation' })
  t.match(audit.after.questions[4], { key: 'occupation', label: 'Occupation or profession', options: [] })

  const blank = await v.post(`${Q}/individual/questions/occupation`, questionFields('1', { label: '', kind: 'dance' }))
  t.equal(blank.statusCode, 422)
  t.match(visibleText(blank.body), 'Enter the question')
  t.match(visibleText(blank.body), 'Choose what kind of question this is')
  t.match(blank.body, 'href="#kind"')
  t.equal((await s.stored()).version, 1)
})

t.test('a client field is filled in by one question of a kind that fits', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  await v.get(`${Q}/individual/questions/occupation`)
  const taken = await v.post(
    `${Q}/individual/questions/occupation`,
    questionFields('0', { label: 'Occupation', field: 'name' }),
  )
  t.equal(taken.statusCode, 422)
  t.match(visibleText(taken.body), 'Full name is already filled in by “Full name”')
  t.match(taken.body, 'href="#field"')
  t.match(taken.body, '<option value="name" selected>', 'the choice is kept')
  const wrongKind = await v.post(
    `${Q}/individual/questions/occupation`,
    questionFields('0', { label: 'Occupation', field: 'date_of_birth' }),
  )
  t.equal(wrongKind.statusCode, 422)
  t.match(visibleText(wrongKind.body), 'Date of birth can only be filled in by a question of kind date')
  const foreign = await v.post(
    `${Q}/individual/questions/occupation`,
    questionFields('0', { label: 'Occupation', field: 'legal_form' }),
  )
  t.equal(foreign.statusCode, 422, 'an organisation’s field on an individual')
  t.match(visibleText(foreign.body), 'Choose a client detail from the list')
  t.equal(await s.stored(), undefined)
  t.equal((await s.audits('portal.question_changed')).length, 0)

  // Unbound from Full name, the name is free for another question.
  await v.get(`${Q}/individual/questions/full_name`)
  t.equal(
    (await v.post(`${Q}/individual/questions/full_name`, questionFields('0', { label: 'Full name', page: '1' })))
      .statusCode,
    303,
  )
  t.equal(
    (await v.post(`${Q}/individual/questions/occupation`, questionFields('1', { label: 'Occupation', field: 'name' })))
      .statusCode,
    303,
  )
  const row = await s.stored()
  t.equal(row.schema.properties.occupation['x-kyc-field'], 'name')
  t.notOk('x-kyc-field' in row.schema.properties.full_name)
  t.match(
    visibleText((await v.get(`${Q}/individual`)).body),
    'Occupation Short text Page 2 Yes Full name Edit Occupation',
  )
})

t.test('moving questions up and down', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  await v.get(`${Q}/individual`)
  const up = await v.post(`${Q}/individual/questions/occupation/move`, { version: '0', direction: 'up' })
  t.equal(up.statusCode, 303)
  t.equal(up.headers.location, `${Q}/individual#questions`)
  t.match(visibleText((await v.get(`${Q}/individual`)).body), 'The question “Occupation” was moved up.')
  t.same((await s.order()).slice(3, 5), ['occupation', 'country_of_residence'])
  t.equal(
    (await v.post(`${Q}/individual/questions/full_name/move`, { version: '1', direction: 'down' })).statusCode,
    303,
  )
  t.same((await s.order()).slice(0, 2), ['date_of_birth', 'full_name'])
  t.equal((await s.stored()).version, 2)
  const audits = await s.audits('portal.question_moved')
  t.equal(audits.length, 2)
  t.same(
    audits[1].after.questions.slice(0, 2).map((q: { key: string }) => q.key),
    ['date_of_birth', 'full_name'],
  )

  const first = await v.post(`${Q}/individual/questions/date_of_birth/move`, { version: '2', direction: 'up' })
  t.equal(first.statusCode, 422)
  t.match(visibleText(first.body), '“Date of birth” is already the first question')
  t.match(first.body, 'href="#questions"')
  t.match(first.body, 'id="questions"', 'the summary links to the list')
  const last = await v.post(`${Q}/individual/questions/proof_of_address/move`, { version: '2', direction: 'down' })
  t.equal(last.statusCode, 422)
  t.match(visibleText(last.body), '“Proof of address” is already the last question')
  const sideways = await v.post(`${Q}/individual/questions/occupation/move`, { version: '2', direction: 'sideways' })
  t.equal(sideways.statusCode, 422)
  t.match(visibleText(sideways.body), 'Choose whether to move the question up or down')
  const noVersion = await v.post(`${Q}/individual/questions/occupation/move`, { direction: 'up' })
  t.equal(noVersion.statusCode, 422)
  t.equal((await s.stored()).version, 2, 'none of those saved anything')
  t.equal((await s.audits('portal.question_moved')).length, 2)
})

t.test('removing a question, confirmed first', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  const confirm = await v.get(`${Q}/individual/questions/nationality/remove`)
  t.equal(confirm.statusCode, 200)
  const text = visibleText(confirm.body)
  t.match(text, 'Remove the question “Nationality”?')
  t.match(text, 'It fills in the client’s nationality: once it is removed, no question does.')
  t.match(text, 'Requests already sent keep the questionnaire they were sent with')
  t.match(confirm.body, 'name="version" value="0"')
  t.match(confirm.body, `action="${Q}/individual/questions/nationality/remove"`)
  const removed = await v.post(`${Q}/individual/questions/nationality/remove`, { version: '0' })
  t.equal(removed.statusCode, 303)
  t.equal(removed.headers.location, `${Q}/individual#questions`)
  const page = visibleText((await v.get(`${Q}/individual`)).body)
  t.match(page, 'The question “Nationality” was removed.')
  t.notMatch(page, 'Edit Nationality')
  t.notOk((await s.order()).includes('nationality'))
  t.notOk('nationality' in (await s.stored()).schema.properties)
  const [audit] = await s.audits('portal.question_removed')
  t.ok(audit.before.questions.some((q: { key: string }) => q.key === 'nationality'))
  t.notOk(audit.after.questions.some((q: { key: string }) => q.key === 'nationality'))
  t.equal((await v.get(`${Q}/individual/questions/nationality/remove`)).statusCode, 404, 'gone')
  t.equal((await v.get(`${Q}/individual/questions/nationality`)).statusCode, 404)

  // The last question stays: a questionnaire without questions would ask the client nothing.
  const keys: string[] = JSON.parse((await v.get(`${Q}/organisation/schema.json`)).body)['x-kyc-order']
  for (const [i, key] of keys.slice(1).entries())
    t.equal((await v.post(`${Q}/organisation/questions/${key}/remove`, { version: String(i) })).statusCode, 303, key)
  const lastOne = await v.get(`${Q}/organisation/questions/registered_name/remove`)
  t.match(visibleText(lastOne.body), 'It is the only question of this questionnaire')
  const refused = await v.post(`${Q}/organisation/questions/registered_name/remove`, { version: '7' })
  t.equal(refused.statusCode, 422)
  t.match(visibleText(refused.body), 'A questionnaire needs at least one question')
  t.match(refused.body, 'href="#questionnaire-link"')
  t.same(await s.order('organisation'), ['registered_name'])
})

t.test('a change built on an older version is refused with 409 and changes nothing', async (t) => {
  const s = await setup(t)
  const [a, b] = [await s.as(s.manager), await s.as(s.admin)]
  await a.get(`${Q}/individual`)
  await b.get(`${Q}/individual/questions/occupation`)
  t.equal(
    (await a.post(`${Q}/individual/questions/occupation/move`, { version: '0', direction: 'up' })).statusCode,
    303,
  )
  const before = await s.stored()
  const auditCount = (await s.db('audit_log').where({ company_id: s.company.id })).length

  const edit = await b.post(`${Q}/individual/questions/occupation`, questionFields('0', { label: 'Job title' }))
  t.equal(edit.statusCode, 409)
  t.match(
    visibleText(edit.body),
    'Someone else changed this questionnaire after you opened this page, and nothing was saved',
  )
  t.match(edit.body, 'href="#questionnaire-link"')
  t.match(edit.body, 'value="Job title"', 'what was typed is kept')
  t.match(edit.body, 'name="version" value="1"', 'the form now carries the current version')

  const move = await b.post(`${Q}/individual/questions/full_name/move`, { version: '0', direction: 'down' })
  t.equal(move.statusCode, 409)
  t.match(visibleText(move.body), 'Someone else changed this questionnaire')
  t.match(
    visibleText(move.body),
    'Occupation Short text Page 2 Yes — Edit Occupation Move up Occupation',
    'as it is now',
  )
  const add = await b.post(`${Q}/individual/questions/new`, questionFields('0'))
  t.equal(add.statusCode, 409)
  const remove = await b.post(`${Q}/individual/questions/occupation/remove`, { version: '0' })
  t.equal(remove.statusCode, 409)
  t.match(visibleText(remove.body), 'Remove the question “Occupation”?')
  t.match(remove.body, 'name="version" value="1"')
  const future = await b.post(`${Q}/individual/questions/occupation/remove`, { version: '7' })
  t.equal(future.statusCode, 409)

  t.same(await s.stored(), before, 'nothing changed')
  t.equal((await s.db('audit_log').where({ company_id: s.company.id })).length, auditCount, 'nothing audited')

  // Removed meanwhile: the question's own page is gone, so the questionnaire is shown with the refusal.
  await a.get(`${Q}/individual`)
  t.equal((await a.post(`${Q}/individual/questions/occupation/remove`, { version: '1' })).statusCode, 303)
  const gone = await b.post(`${Q}/individual/questions/occupation`, questionFields('1', { label: 'Job title' }))
  t.equal(gone.statusCode, 409)
  t.match(visibleText(gone.body), 'Questionnaire for individuals')
  t.match(visibleText(gone.body), 'Someone else changed this questionnaire')
})

t.test('two saves on the same version at once: exactly one wins', async (t) => {
  const s = await setup(t)
  const [a, b] = [await s.as(s.manager), await s.as(s.admin)]
  await Promise.all([a.get(`${Q}/individual/questions/new`), b.get(`${Q}/individual/questions/new`)])
  // The first save of a questionnaire: both insert, the primary key lets one in.
  const first = await Promise.all([
    a.post(`${Q}/individual/questions/new`, questionFields('0', { label: 'Tax residence' })),
    b.post(`${Q}/individual/questions/new`, questionFields('0', { label: 'Source of wealth' })),
  ])
  t.same(first.map((r) => r.statusCode).sort(), [303, 409])
  const row = await s.stored()
  t.equal(row.version, 1)
  const added = (await s.order()).filter((k) => k === 'tax_residence' || k === 'source_of_wealth')
  t.equal(added.length, 1, 'one question added')
  t.equal((await s.audits('portal.question_added')).length, 1)

  // A saved one: the row lock lets one in, the other finds the version moved on.
  const second = await Promise.all([
    a.post(`${Q}/individual/questions/occupation/move`, { version: '1', direction: 'up' }),
    b.post(`${Q}/individual/questions/occupation/remove`, { version: '1' }),
  ])
  t.same(second.map((r) => r.statusCode).sort(), [303, 409])
  t.equal((await s.stored()).version, 2)
  t.equal((await s.audits('portal.question_moved')).length + (await s.audits('portal.question_removed')).length, 1)
})

t.test('the questionnaire as a JSON Schema download', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  const res = await v.get(`${Q}/organisation/schema.json`)
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['content-type']), /^application\/schema\+json/)
  t.equal(res.headers['content-disposition'], 'attachment; filename="questionnaire-organisation.schema.json"')
  const schema = JSON.parse(res.body)
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
  t.equal(schema['x-kyc-client-kind'], 'organisation')
  t.match(schema.properties.registered_name, { title: 'Registered name', 'x-kyc-field': 'name' })
  t.match(res.body, '\n  "type": "object"', 'indented for reading')

  await v.get(`${Q}/individual`)
  await v.post(`${Q}/individual/questions/occupation/remove`, { version: '0' })
  const individual = JSON.parse((await v.get(`${Q}/individual/schema.json`)).body)
  t.same(individual, (await s.stored()).schema, 'the stored schema')
})

t.test('an unknown questionnaire or question is a page not found', async (t) => {
  const s = await setup(t)
  const v = await s.as(s.manager)
  for (const url of [
    `${Q}/company`,
    `${Q}/Individual`,
    `${Q}/company/schema.json`,
    `${Q}/company/questions/new`,
    `${Q}/company/questions/occupation`,
    `${Q}/individual/questions/nope`,
    `${Q}/individual/questions/Occupation`,
    `${Q}/individual/questions/${'a'.repeat(41)}`,
    `${Q}/individual/questions/registered_name`,
    `${Q}/individual/questions/nope/remove`,
  ])
    t.equal((await v.get(url)).statusCode, 404, `GET ${url}`)
  await v.get(`${Q}/individual`)
  const posts: [string, Record<string, string>][] = [
    [`${Q}/company/questions/new`, questionFields('0')],
    [`${Q}/company/questions/occupation/move`, { version: '0', direction: 'up' }],
    [`${Q}/individual/questions/nope`, questionFields('0')],
    [`${Q}/individual/questions/Nope/move`, { version: '0', direction: 'up' }],
    [`${Q}/individual/questions/nope/move`, { version: '0', direction: 'up' }],
    [`${Q}/individual/questions/nope/remove`, { version: '0' }],
  ]
  for (const [url, fields] of posts) t.equal((await v.post(url, fields)).statusCode, 404, `POST ${url}`)
  t.equal(await s.stored(), undefined, 'nothing saved')
})
