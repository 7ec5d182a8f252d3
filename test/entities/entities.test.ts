import t, { type Test } from 'tap'
import { VARY_HTMX } from '../../src/plugins/app/render.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity, changeEntity, entityVersion } from '../helpers/entities.js'
import { aUser, grant, PASSWORD, twoCompanies } from '../helpers/factories.js'

async function setup(t: Test) {
  const ctx = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(ctx.db)
  const editor = await aUser(ctx.db, { company, name: 'Eli Editor', permissions: ['edit_entities'] })
  const reader = await aUser(ctx.db, { company, name: 'Rui Reader', permissions: ['read_data'] })
  return { ...ctx, company, other, admin, editor, reader, foreigner }
}

/** The href of the pagination link with this rel, as a browser would follow it. */
const pageLink = (html: string, rel: 'next' | 'prev') =>
  (new RegExp(`href="([^"]+)" rel="${rel}"`).exec(html)?.[1] ?? 'missing-link').replaceAll('&amp;', '&')

const names = (html: string) =>
  [...html.matchAll(/<th scope="row"><a href="\/entities\/[0-9a-f-]+"><bdi>([^<]+)<\/bdi><\/a><\/th>/g)].map(
    (m) => m[1],
  )

t.test('the list pages through client relationships 50 at a time, by links and by htmx', async (t) => {
  const { app, db, company, other, reader, admin, foreigner } = await setup(t)
  const clients = []
  for (let i = 0; i < 120; i++)
    clients.push(await anEntity(db, { company, owner: admin, name: `Client ${String(i).padStart(3, '0')}` }))
  await anEntity(db, { company, owner: admin, name: 'Client 999 deleted', deleted: true })
  await anEntity(db, { company: other, owner: foreigner, name: 'Client 000 of Beta' })

  const v = new Visitor(app)
  await v.login(reader.email, PASSWORD)
  const p1 = await v.get('/entities')
  t.equal(p1.statusCode, 200)
  const first = names(p1.body)
  t.equal(first.length, 50)
  t.equal(first[0], 'Client 000')
  t.equal(first[49], 'Client 049')
  t.notMatch(p1.body, 'of Beta', 'never another company’s clients')
  t.notMatch(p1.body, 'Previous page')
  const next = /href="(\/entities\?after=[^"]+)" rel="next"/.exec(p1.body)?.[1] as string
  t.ok(next)
  const p2 = await v.get(next.replaceAll('&amp;', '&'))
  t.same([names(p2.body)[0], names(p2.body).at(-1)], ['Client 050', 'Client 099'])
  const p3 = await v.get(pageLink(p2.body, 'next'))
  t.same(
    names(p3.body),
    Array.from({ length: 20 }, (_, i) => `Client ${100 + i}`),
    'the deleted one is not listed',
  )
  t.notMatch(p3.body, 'rel="next"')
  const back = await v.get(pageLink(p3.body, 'prev'))
  t.same([names(back.body)[0], names(back.body).at(-1)], ['Client 050', 'Client 099'], 'previous goes back a page')

  const search = await v.get('/entities?q=client%2011')
  t.same(
    names(search.body),
    Array.from({ length: 10 }, (_, i) => `Client ${110 + i}`),
  )
  t.same(names((await v.get('/entities?q=deleted')).body), [], 'a deleted client is not found by search')
  t.same(names((await v.get('/entities?q=%25')).body), [], '% is not a wildcard')

  const partial = await v.get('/entities?q=client%20005', { 'hx-request': 'true', 'hx-target': 'entity-results' })
  t.match(partial.body, /^<section id="entity-results"/)
  t.same(names(partial.body), ['Client 005'])
  t.equal(partial.headers.vary, VARY_HTMX)

  await changeEntity(db, clients[42] as { id: string }, {
    updatedAt: db.raw("now() + interval '1 hour'"),
    status: 'former_client',
  })
  t.equal(names((await v.get('/entities?sort=changed')).body)[0], 'Client 042', 'sort by last change')
  t.same(names((await v.get('/entities?status=former_client')).body), ['Client 042'])
  t.same(names((await v.get('/entities?kind=organisation')).body), [])
})

t.test('creating a client relationship: errors listed and linked, values kept, audit written', async (t) => {
  const { app, db, company, editor } = await setup(t)
  const v = new Visitor(app)
  await v.login(editor.email, PASSWORD)
  const form = await v.get('/entities/new')
  t.match(form.body, '<label for="nationality">Nationality</label>')
  t.match(form.body, '<option value="DE">Germany</option>')

  const bad = await v.post('/entities', {
    kind: 'individual',
    name: '',
    date_of_birth: '2999-01-01',
    nationality: 'XX',
    status: 'serviced_client',
    owner_user_id: editor.id,
    notes: 'kept <b>notes</b>',
  })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, '<a href="#name">Enter the name</a>')
  t.match(bad.body, '<a href="#date_of_birth">Enter a date of birth between 1900 and today</a>')
  t.match(bad.body, '<a href="#nationality">Choose a country from the list</a>')
  t.match(
    bad.body,
    '<a href="#relationship-status">Setting “Serviced client (business relationship)” needs the permission Set Serviced Clients</a>',
  )
  t.match(bad.body, 'kept &lt;b&gt;notes&lt;/b&gt;', 'notes kept, escaped')
  t.match(bad.body, 'value="2999-01-01"')
  t.equal((await db('entities')).length, 0, 'nothing created')

  const otherOwner = await aUser(db, { company })
  const notAdmin = await v.post('/entities', {
    kind: 'individual',
    name: 'Olga Owner',
    status: 'prospect',
    owner_user_id: otherOwner.id,
  })
  t.match(notAdmin.body, 'Only an administrator can choose another owner')

  const ok = await v.post('/entities', {
    kind: 'individual',
    name: 'Jane Doe',
    date_of_birth: '1984-03-27',
    nationality: 'GB',
    country_of_residence: 'FR',
    registration_number: 'ignored for individuals',
    status: 'prospect',
    owner_user_id: editor.id,
    notes: '',
  })
  t.equal(ok.statusCode, 303)
  const row = await db('entities').where({ name: 'Jane Doe' }).first()
  t.equal(row.company_id, company.id)
  t.equal(row.registration_number, null, 'fields of the other kind are not stored')
  t.equal(row.owner_user_id, editor.id)
  const page = await v.get(String(ok.headers.location))
  const text = visibleText(page.body)
  t.match(text, 'Jane Doe was created.')
  t.match(text, 'Date of birth 1984-03-27 Nationality United Kingdom Country of residence France')
  t.match(text, 'History')
  t.match(
    text,
    'Eli Editor created the client relationship Jane Doe: Name: “Jane Doe”; Type: Individual; Date of birth: “1984-03-27”; Nationality: United Kingdom; Country of residence: France; Owner: Eli Editor; Relationship status: Prospect',
    'the fields in the form’s order',
  )
  const audit = await db('audit_log').where({ action: 'entity.created', target_id: row.id }).first()
  t.equal(audit.after.name, 'Jane Doe')
})

t.test('editing: Serviced client needs Set Serviced Clients; changes audited before and after', async (t) => {
  const { app, db, company, admin, editor } = await setup(t)
  const entity = await anEntity(db, { company, owner: editor, name: 'Acme Ltd', kind: 'organisation' })
  const v = new Visitor(app)
  await v.login(editor.email, PASSWORD)
  await v.get(`/entities/${entity.id}/edit`)
  const refused = await v.post(`/entities/${entity.id}`, {
    version: await entityVersion(db, entity.id),
    kind: 'organisation',
    name: 'Acme Ltd',
    status: 'serviced_client',
    owner_user_id: editor.id,
  })
  t.equal(refused.statusCode, 422)
  t.equal((await db('entities').where({ id: entity.id }).first()).status, 'prospect')
  const ok = await v.post(`/entities/${entity.id}`, {
    version: await entityVersion(db, entity.id),
    kind: 'organisation',
    name: 'Acme Holdings Ltd',
    registration_number: '01234567',
    country_of_incorporation: 'GB',
    legal_form: 'Private limited company',
    status: 'one_off_service',
    owner_user_id: editor.id,
  })
  t.equal(ok.statusCode, 303)
  const audit = await db('audit_log').where({ action: 'entity.updated', target_id: entity.id }).first()
  t.same(audit.before, {
    name: 'Acme Ltd',
    status: 'prospect',
    registration_number: null,
    country_of_incorporation: null,
    legal_form: null,
  })
  t.same(audit.after, {
    name: 'Acme Holdings Ltd',
    status: 'one_off_service',
    registration_number: '01234567',
    country_of_incorporation: 'GB',
    legal_form: 'Private limited company',
  })

  await grant(db, editor, ['set_serviced_clients'])
  await v.get(`/entities/${entity.id}/edit`)
  t.equal(
    (
      await v.post(`/entities/${entity.id}`, {
        version: await entityVersion(db, entity.id),
        kind: 'organisation',
        name: 'Acme Holdings Ltd',
        status: 'serviced_client',
        owner_user_id: editor.id,
      })
    ).statusCode,
    303,
  )
  t.equal((await db('entities').where({ id: entity.id }).first()).status, 'serviced_client')

  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await a.get(`/entities/${entity.id}/edit`)
  t.equal(
    (
      await a.post(`/entities/${entity.id}`, {
        version: await entityVersion(db, entity.id),
        kind: 'organisation',
        name: 'Acme Holdings Ltd',
        status: 'serviced_client',
        owner_user_id: admin.id,
      })
    ).statusCode,
    303,
  )
  t.equal(
    (await db('entities').where({ id: entity.id }).first()).owner_user_id,
    admin.id,
    'an administrator changes the owner',
  )
})

t.test('without the permission: 403 and nothing changes; another company’s or a deleted client: 404', async (t) => {
  const { app, db, company, other, reader, admin, foreigner } = await setup(t)
  const entity = await anEntity(db, { company, owner: admin, name: 'Kept Name' })
  const deleted = await anEntity(db, { company, owner: admin, name: 'In the bin', deleted: true })
  const foreign = await anEntity(db, { company: other, owner: foreigner, name: 'Beta client' })
  const v = new Visitor(app)
  await v.login(reader.email, PASSWORD)
  t.equal((await v.get(`/entities/${entity.id}`)).statusCode, 200, 'Read Data opens the entity')
  t.equal((await v.get('/entities/new')).statusCode, 403)
  t.equal((await v.get(`/entities/${entity.id}/edit`)).statusCode, 403)
  await v.get('/entities')
  const post = await v.post(`/entities/${entity.id}`, {
    version: await entityVersion(db, entity.id),
    kind: 'individual',
    name: 'Changed',
    status: 'prospect',
    owner_user_id: admin.id,
  })
  t.equal(post.statusCode, 403)
  t.match(visibleText(post.body), 'needs the permission Edit Entities')
  t.equal((await db('entities').where({ id: entity.id }).first()).name, 'Kept Name')

  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  for (const id of [deleted.id, foreign.id, 'not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
    for (const url of [`/entities/${id}`, `/entities/${id}/edit`, `/entities/${id}/delete`]) {
      t.equal((await a.get(url)).statusCode, 404, url)
    }
    await a.get('/entities')
    t.equal(
      (
        await a.post(`/entities/${id}`, {
          version: await entityVersion(db, id),
          kind: 'individual',
          name: 'X',
          status: 'prospect',
          owner_user_id: admin.id,
        })
      ).statusCode,
      404,
    )
  }
  t.equal((await db('entities').where({ id: foreign.id }).first()).name, 'Beta client')
  const noEntityRoutes = new Visitor(app)
  const none = await aUser(db, { company, permissions: ['manage_user_accounts'] })
  await noEntityRoutes.login(none.email, PASSWORD)
  t.equal((await noEntityRoutes.get('/entities')).statusCode, 403, 'the list needs Read Data')
})

t.test('moving to the recycle bin, restoring and deleting for good', async (t) => {
  const { app, db, company, admin } = await setup(t)
  const deleter = await aUser(db, { company, name: 'Dee Deleter', permissions: ['delete_entities'] })
  const restorer = await aUser(db, {
    company,
    name: 'Ray Restorer',
    permissions: ['permanently_delete_restore_entities'],
  })
  const entity = await anEntity(db, { company, owner: admin, name: 'Binned Ltd' })

  const d = new Visitor(app)
  await d.login(deleter.email, PASSWORD)
  const confirm = await d.get(`/entities/${entity.id}/delete`)
  t.match(visibleText(confirm.body), 'Move Binned Ltd to the recycle bin?')
  t.equal((await d.post(`/entities/${entity.id}/delete`, {})).statusCode, 303)
  t.ok((await db('entities').where({ id: entity.id }).first()).deleted_at)
  t.equal((await d.get(`/entities/${entity.id}`)).statusCode, 404)
  t.same(names((await d.get('/entities?q=binned')).body), [])
  const bin = await d.get('/recycle-bin')
  t.match(visibleText(bin.body), 'Binned Ltd')
  t.notMatch(bin.body, '/restore', 'Delete Entities alone cannot restore')
  t.equal((await d.post(`/recycle-bin/entities/${entity.id}/restore`, {})).statusCode, 403)

  const r = new Visitor(app)
  await r.login(restorer.email, PASSWORD)
  await r.get('/recycle-bin')
  t.equal((await r.post(`/recycle-bin/entities/${entity.id}/restore`, {})).statusCode, 303)
  t.equal((await db('entities').where({ id: entity.id }).first()).deleted_at, null)
  t.equal((await r.get(`/entities/${entity.id}`)).statusCode, 200)

  await r.get(`/entities/${entity.id}/delete`)
  await r.post(`/entities/${entity.id}/delete`, {})
  const purge = await r.get(`/recycle-bin/entities/${entity.id}/purge`)
  t.match(visibleText(purge.body), 'Delete Binned Ltd for good? This cannot be undone.')
  t.equal((await r.post(`/recycle-bin/entities/${entity.id}/purge`, {})).statusCode, 303)
  t.equal(await db('entities').where({ id: entity.id }).first(), undefined)
  const trail = (await db('audit_log').where({ target_id: entity.id }).orderBy('id')).map((row) => row.action)
  t.same(trail, ['entity.deleted', 'entity.restored', 'entity.deleted', 'entity.purged'], 'its audit rows stay')
})

t.test('the owner filter names the owner chosen from a client’s page, and only one of the company', async (t) => {
  const { app, db, company, other, editor, reader, foreigner } = await setup(t)
  const client = await anEntity(db, { company, owner: editor, name: 'Owned Ltd' })
  await anEntity(db, { company: other, owner: foreigner, name: 'Foreign Ltd' })
  const v = new Visitor(app)
  await v.login(reader.email, PASSWORD)
  const page = await v.get(`/entities/${client.id}`)
  const link = /href="(\/entities\?owner=[0-9a-f-]+)">clients of/.exec(page.body)?.[1] as string
  t.ok(link, 'the client page links to the owner’s clients')
  const list = await v.get(link)
  t.match(list.body, new RegExp(`<option value="${editor.id}" selected>Eli Editor</option>`), 'named and chosen')
  t.same(names(list.body), ['Owned Ltd'])
  const foreign = await v.get(`/entities?owner=${foreigner.id}`)
  t.notMatch(foreign.body, foreigner.name, 'another company’s user is never named')
  t.match(foreign.body, 'The owner chosen from a client’s page')
})
