/** Issue 10's smaller findings, each with the test that failed before its fix. */
import t, { type Test } from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity, initialiseSharing } from '../helpers/entities.js'
import { aCompany, aShare, aUser, clientAccessOn, PASSWORD } from '../helpers/factories.js'

/**
 * A company with client access and requests on, a client only its owner (Ada, an administrator) may open,
 * and Rita's pending request for it; Ben, another Read Data user, has no access.
 */
async function aPendingRequest(t: Test) {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const requester = await aUser(db, { company, name: 'Rita Requester', permissions: ['read_data'] })
  const bystander = await aUser(db, { company, name: 'Ben Bystander', permissions: ['read_data'] })
  await clientAccessOn(db, company, { allowAccessRequests: true })
  const client = await anEntity(db, { company, owner: admin, name: 'Secret Holdings Ltd' })
  await initialiseSharing(db, client)

  const r = new Visitor(app)
  await r.login(requester.email, PASSWORD)
  await r.get(`/entities/${client.id}/sharing`)
  await r.post(`/entities/${client.id}/access-requests`, { message: 'I took over the audit' })
  const request = await db('access_requests').where({ requester_id: requester.id }).first()
  return { app, db, company, admin, bystander, client, r, request }
}

t.test('point 9: a decided access request is shown to its requester and to users with access only', async (t) => {
  const { app, db, company, admin, bystander, client, r, request } = await aPendingRequest(t)
  const a = new Visitor(app)
  await a.login(admin.email, PASSWORD)
  await a.get(`/access-requests/${request.id}`)
  t.equal((await a.post(`/access-requests/${request.id}/decline`, { reason: 'Not this quarter' })).statusCode, 303)

  const b = new Visitor(app)
  await b.login(bystander.email, PASSWORD)
  const refused = await b.get(`/access-requests/${request.id}`)
  t.equal(refused.statusCode, 404, 'a Read Data user without access to the client does not see it')
  t.notMatch(refused.body, 'Not this quarter')
  const own = await r.get(`/access-requests/${request.id}`)
  t.equal(own.statusCode, 200, 'the requester sees the outcome of their request')
  t.match(visibleText(own.body), 'This request was already declined.')
  t.equal((await a.get(`/access-requests/${request.id}`)).statusCode, 200, 'the administrator does')
  await aShare(db, { company, client, user: bystander })
  t.equal((await b.get(`/access-requests/${request.id}`)).statusCode, 200, 'once given access, so does Ben')
})

t.test('point 12: a body of another kind than the form, even with a valid token, changes nothing', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const clerk = await aUser(db, { company, name: 'Cal Clerk', permissions: ['read_data'] })
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  await v.get(`/settings/users/${clerk.id}`)
  const token = v.csrfToken
  const asJson = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}`,
    payload: JSON.stringify({ _csrf: token, name: 'Renamed by JSON', email: clerk.email }),
    headers: { 'content-type': 'application/json' },
  })
  t.equal(asJson.statusCode, 415)
  t.match(visibleText(asJson.body), 'The request could not be understood')
  const asText = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}`,
    payload: `_csrf=${token}&name=Renamed&email=${clerk.email}`,
    headers: { 'content-type': 'text/plain' },
  })
  t.equal(asText.statusCode, 415)
  const boundary = '----x'
  const asMultipart = await v.request({
    method: 'POST',
    url: `/settings/users/${clerk.id}`,
    payload: [
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nRenamed by multipart\r\n`,
      `--${boundary}--\r\n`,
    ].join(''),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  })
  t.equal(asMultipart.statusCode, 415, 'multipart is for uploads only')
  t.match(visibleText(asMultipart.body), 'This address takes only the form it belongs to')
  t.equal((await db('users').where({ id: clerk.id }).first()).name, 'Cal Clerk', 'nothing was changed')
  t.equal((await db('audit_log').where({ action: 'user.details_changed' })).length, 0)
})

t.test('a decision refused on a request the person may not read: our 404 page, nothing decided', async (t) => {
  const { app, db, bystander, request } = await aPendingRequest(t)

  const b = new Visitor(app)
  await b.login(bystander.email, PASSWORD)
  await b.get('/access-requests')
  const grant = await b.post(`/access-requests/${request.id}/grant`, {})
  t.equal(grant.statusCode, 404)
  t.match(grant.headers['content-type'], 'text/html', 'a page, not the framework’s JSON')
  t.match(visibleText(grant.body), 'Page not found')
  t.notMatch(grant.body, 'Secret Holdings', 'nothing about the request or its client')
  t.equal((await db('access_requests').where({ id: request.id }).first()).status, 'pending', 'nothing decided')
})
