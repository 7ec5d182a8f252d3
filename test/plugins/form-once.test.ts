/**
 * Double submission (issue 12, defect 8): one rendered form creates at most one record. Each create form is
 * sent three times at once with the key it was rendered with; exactly one record results, and every answer
 * sends the browser to the same place. A refused form releases its key, so the corrected form saves; a
 * form rendered afresh has a key of its own.
 */
import t from 'tap'
import { JOBS } from '../../src/jobs/definitions.js'
import { deleteOldFormClaims } from '../../src/plugins/app/form-once.js'
import { Visitor as Browser, multipartBody, PDF_BYTES, testApp, type Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aService, aUser, clientAccessOn, PASSWORD, twoCompanies } from '../helpers/factories.js'

/** The key of the form on `page` that posts to `action`. */
async function formKey(v: Visitor, page: string, action: string): Promise<string> {
  const html = (await v.get(page)).body
  const form = new RegExp(`<form[^>]*action="${action}"[^>]*>[\\s\\S]*?name="_once" value="([0-9a-f-]{36})"`).exec(html)
  if (!form?.[1]) throw new Error(`no form posting to ${action} on ${page}`)
  return form[1]
}

t.test('every create form, sent three times at once, creates one record', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  const client = await anEntity(db, { company, owner: admin, name: 'Racing Client Ltd' })
  const service = await aService(db, { company, name: 'Payroll', riskLevel: 'low' })
  const reader = await aUser(db, { company, name: 'Rita Reader', permissions: ['read_data'] })
  await clientAccessOn(db, company, { allowAccessRequests: true })
  const v = new Browser(app)
  await v.login(admin.email, PASSWORD)

  const forms: {
    page: string
    action: string
    fields: Record<string, string | string[]>
    count: () => Promise<number>
  }[] = [
    {
      page: '/entities/new',
      action: '/entities',
      fields: { kind: 'organisation', name: 'Twice Clicked Ltd', owner_user_id: admin.id, status: 'prospect' },
      count: async () => (await db('entities').where({ name: 'Twice Clicked Ltd' })).length,
    },
    {
      page: '/settings/users/new',
      action: '/settings/users',
      fields: { name: 'Dee Double', email: 'dee@example.test', permissions: ['read_data'] },
      count: async () => (await db('users').where({ email: 'dee@example.test' })).length,
    },
    {
      page: '/settings/groups/new',
      action: '/settings/groups',
      fields: { name: 'Twice Group' },
      count: async () => (await db('groups').where({ name: 'Twice Group' })).length,
    },
    {
      page: '/settings/services',
      action: '/settings/services',
      fields: { name: 'Twice Service', risk_level: 'low' },
      count: async () => (await db('services').where({ name: 'Twice Service' })).length,
    },
    {
      page: `/entities/${client.id}`,
      action: `/entities/${client.id}/services`,
      fields: { service_id: service.id },
      count: async () => (await db('entity_services').where({ entity_id: client.id })).length,
    },
  ]
  for (const form of forms) {
    const key = await formKey(v, form.page, form.action)
    const answers = await Promise.all([1, 2, 3].map(() => v.post(form.action, { ...form.fields, _once: key })))
    t.same(
      answers.map((a) => a.statusCode),
      [303, 303, 303],
      `${form.action}: every answer is a redirect`,
    )
    t.equal(new Set(answers.map((a) => a.headers.location)).size, 1, `${form.action}: all to the same place`)
    t.equal(await form.count(), 1, `${form.action}: one record`)
    const again = await v.post(form.action, { ...form.fields, _once: key })
    t.equal(again.headers.location, answers[0]?.headers.location, `${form.action}: sent again later, the same answer`)
    t.match(visibleText((await v.get(String(again.headers.location))).body), 'That form had already been sent')
    t.equal(await form.count(), 1, `${form.action}: still one`)
  }

  // The sharing dialog's Share, and a request for access.
  const shareKey = await formKey(v, `/entities/${client.id}/sharing`, `/entities/${client.id}/sharing/add`)
  await Promise.all(
    [1, 2, 3].map(() =>
      v.post(`/entities/${client.id}/sharing/add`, { share_with: `user:${reader.id}`, _once: shareKey }),
    ),
  )
  t.equal((await db('client_shares').where({ entity_id: client.id, user_id: reader.id })).length, 1, 'one share')
  await db('client_shares').where({ entity_id: client.id }).delete()
  const r = new Browser(app)
  await r.login(reader.email, PASSWORD)
  const askKey = await formKey(r, `/entities/${client.id}/sharing`, `/entities/${client.id}/access-requests`)
  const asks = await Promise.all(
    [1, 2, 3].map(() => r.post(`/entities/${client.id}/access-requests`, { message: 'Please', _once: askKey })),
  )
  t.same(
    asks.map((a) => a.statusCode),
    [303, 303, 303],
    'no request is told it already asked',
  )
  t.equal((await db('access_requests').where({ entity_id: client.id })).length, 1, 'one request')
  t.equal((await db('outbox_emails').whereLike('subject', 'Rita Reader asks for access%')).length, 1, 'one email')
})

t.test('an upload sent twice at once stores one document', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  const client = await anEntity(db, { company, owner: admin })
  const v = new Browser(app)
  await v.login(admin.email, PASSWORD)
  const key = await formKey(v, `/entities/${client.id}`, `/entities/${client.id}/documents`)
  const upload = () =>
    v.request({
      method: 'POST',
      url: `/entities/${client.id}/documents`,
      ...multipartBody(
        [
          ['_csrf', v.csrfToken],
          ['_once', key],
        ],
        { field: 'file', filename: 'passport.pdf', content: PDF_BYTES, type: 'application/pdf' },
      ),
    })
  const answers = await Promise.all([upload(), upload()])
  t.same(
    answers.map((a) => a.statusCode),
    [303, 303],
  )
  t.equal((await db('documents').where({ entity_id: client.id })).length, 1, 'one document')
  // A form without its key (not one of ours) still uploads: the key guards forms, it is not required.
  const plain = await v.request({
    method: 'POST',
    url: `/entities/${client.id}/documents`,
    ...multipartBody([['_csrf', v.csrfToken]], { field: 'file', filename: 'second.pdf', content: PDF_BYTES }),
  })
  t.equal(plain.statusCode, 303)
  t.equal((await db('documents').where({ entity_id: client.id })).length, 2)
})

t.test('a refused form releases its key; a form rendered again has a new one', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  const v = new Browser(app)
  await v.login(admin.email, PASSWORD)
  const key = await formKey(v, '/settings/groups/new', '/settings/groups')
  const refused = await v.post('/settings/groups', { name: '', _once: key })
  t.equal(refused.statusCode, 422)
  t.equal((await db('form_submissions')).length, 0, 'nothing claimed by a refused form')
  const fixed = await v.post('/settings/groups', { name: 'Fixed Group', _once: key })
  t.equal(fixed.statusCode, 303, 'the corrected form saves with the same key')
  const second = await formKey(v, '/settings/groups/new', '/settings/groups')
  t.not(second, key, 'a new form, a new key')
  t.equal((await v.post('/settings/groups', { name: 'Second Group', _once: second })).statusCode, 303)
  t.equal((await db('groups').where({ company_id: company.id })).length, 2, 'two forms, two groups')
})

t.test('the sweep deletes the keys of forms sent more than a day ago', async (t) => {
  const { db } = await testApp(t)
  const { admin } = await twoCompanies(db)
  const key = () => crypto.randomUUID()
  await db('form_submissions').insert([
    {
      company_id: admin.companyId,
      user_id: admin.id,
      form_key: key(),
      route: '/entities',
      location: '/entities/x',
      created_at: db.raw("now() - interval '25 hours'"),
    },
    { company_id: admin.companyId, user_id: admin.id, form_key: key(), route: '/entities', location: '/entities/y' },
  ])
  const sweep = JOBS.find((job) => job.name === 'forms.sweep')
  t.equal(sweep?.cron, '17 * * * *', 'a scheduled job, every hour')
  t.equal(await deleteOldFormClaims(db), 1)
  t.equal((await db('form_submissions')).length, 1, 'the recent one is kept')
})
