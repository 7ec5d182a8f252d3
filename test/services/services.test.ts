import t from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aService, aUser, PASSWORD } from '../helpers/factories.js'

t.test(
  'administrators keep the service catalogue; allocations need Edit Entities; removal its own permission',
  async (t) => {
    const { app, db } = await testApp(t)
    const company = await aCompany(db)
    const other = await aCompany(db)
    const admin = await aUser(db, { company, permissions: ['system_administrator'] })
    const editor = await aUser(db, { company, permissions: ['edit_entities'] })
    const remover = await aUser(db, { company, permissions: ['delete_entity_service_relationships'] })
    const entity = await anEntity(db, { company, owner: admin, name: 'Serviced Ltd' })
    const foreignService = await aService(db, { company: other, name: 'Beta audit', riskLevel: 'low' })

    const a = new Visitor(app)
    await a.login(admin.email, PASSWORD)
    await a.get('/settings/services')
    const bad = await a.post('/settings/services', { name: '', risk_level: 'extreme' })
    t.equal(bad.statusCode, 422)
    t.match(bad.body, '<a href="#name">Enter the name of the service</a>')
    t.match(bad.body, '<a href="#risk_level">Choose a risk level</a>')
    t.equal((await a.post('/settings/services', { name: 'Audit', risk_level: 'medium' })).statusCode, 303)
    await a.get('/settings/services')
    const dup = await a.post('/settings/services', { name: 'audit', risk_level: 'low' })
    t.match(visibleText(dup.body), 'There is already a service with this name')
    const audit = await db('services').where({ company_id: company.id, name: 'Audit' }).first()
    await a.post(`/settings/services/${audit.id}`, { risk_level: 'high' })
    t.equal((await db('services').where({ id: audit.id }).first()).risk_level, 'high')

    const e = new Visitor(app)
    await e.login(editor.email, PASSWORD)
    t.equal((await e.get('/settings/services')).statusCode, 403)
    const page = await e.get(`/entities/${entity.id}`)
    t.match(page.body, `<option value="${audit.id}">Audit (high risk)</option>`)
    const foreign = await e.post(`/entities/${entity.id}/services`, { service_id: foreignService.id })
    t.equal(foreign.statusCode, 422, 'refused on the client’s page')
    t.match(foreign.body, '<a href="#service_id">Choose a service from the list</a>')
    t.equal((await db('entity_services')).length, 0, 'another company’s service cannot be allocated')
    await e.post(`/entities/${entity.id}/services`, { service_id: audit.id })
    const allocation = await db('entity_services').where({ entity_id: entity.id }).first()
    t.ok(allocation)
    t.equal((await e.get(`/entities/${entity.id}/services/${allocation.id}/remove`)).statusCode, 403)

    const r = new Visitor(app)
    await r.login(remover.email, PASSWORD)
    const confirm = await r.get(`/entities/${entity.id}/services/${allocation.id}/remove`)
    t.match(visibleText(confirm.body), 'Remove Audit from Serviced Ltd?')
    t.equal((await r.post(`/entities/${entity.id}/services/${allocation.id}/remove`, {})).statusCode, 303)
    t.equal((await db('entity_services')).length, 0)
    const trail = (await db('audit_log').where({ target_id: entity.id }).orderBy('id')).map((row) => [
      row.action,
      row.before,
      row.after,
    ])
    t.same(trail, [
      ['entity.service_added', null, { service: 'Audit', risk_level: 'high' }],
      ['entity.service_removed', { service: 'Audit', risk_level: 'high' }, null],
    ])
  },
)

t.test(
  'every client-scoped route answers 403 without its permission and 404 for a client in the wrong state',
  async (t) => {
    const { app, db } = await testApp(t)
    const company = await aCompany(db)
    const admin = await aUser(db, { company, permissions: ['system_administrator'] })
    const nobody = await aUser(db, { company, permissions: ['view_one_time_searches'] })
    const entity = await anEntity(db, { company, owner: admin })
    const deleted = await anEntity(db, { company, owner: admin, deleted: true })
    const scoped = app.routeTable.filter((r) => typeof r.access === 'object' && r.access.client && r.method !== 'HEAD')
    t.ok(scoped.length >= 12, `${scoped.length} client-scoped routes`)
    const fill = (url: string, id: string) =>
      url.replace(':id', id).replace(/:\w+/g, '00000000-0000-0000-0000-000000000000')

    const n = new Visitor(app)
    await n.login(nobody.email, PASSWORD)
    const a = new Visitor(app)
    await a.login(admin.email, PASSWORD)
    for (const route of scoped) {
      await n.get('/')
      const res = await n.send(route.method, fill(route.url, entity.id))
      t.equal(res.statusCode, 403, `${route.method} ${route.url} without the permission`)
      // Routes on live clients do not find a deleted one; recycle-bin routes (clientFrom) do not find a live one.
      const inBin = typeof route.access === 'object' && route.access.clientFrom !== undefined
      await a.get('/')
      const gone = await a.send(route.method, fill(route.url, inBin ? entity.id : deleted.id))
      t.equal(gone.statusCode, 404, `${route.method} ${route.url} for a ${inBin ? 'live' : 'deleted'} client`)
    }
    t.equal((await db('audit_log').whereLike('action', 'entity.%')).length, 0, 'nothing changed')
  },
)
