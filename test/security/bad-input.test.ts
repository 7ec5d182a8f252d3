/**
 * Bad input on every route of the route table (issue 10, point 6): each query parameter, form field and
 * path parameter a route declares is sent repeated, with a NUL character, 100,000 characters long and in a
 * wrong shape, one at a time, as the signed-in administrator of a company with a real object behind every
 * id. Nothing may answer 5xx; what the schema refuses is a 4xx page that says what was wrong. Generated from
 * `app.routeTable`, so a new route is covered the day it is added (and a new path parameter must be given a
 * seeded value in test/helpers/seeded-desk.ts, or this file fails).
 */
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { encodeCursor } from '../../src/entities/queries.js'
import type { DeclaredRoute } from '../../src/plugins/app/guard.js'
import { multipartBody, PDF_BYTES, Visitor, visibleText } from '../helpers/app.js'
import { entityVersion } from '../helpers/entities.js'
import { fillPath, pathParams, seedDesk } from '../helpers/seeded-desk.js'

const desk = await seedDesk(t)
const { app, db, a, admin, ids, logs } = desk

const NUL = 'a\u0000b'
const LONG = 'a'.repeat(100_000)
const SOME_UUID = '00000000-0000-4000-8000-000000000000'
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Values of the wrong type or shape for a parameter: a few for any, more for those that mean something. */
function wrongValues(name: string): string[] {
  const values = ['not-a-uuid', '-1']
  if (['from', 'to', 'date_of_birth'].includes(name)) values.push('2026-02-30', '0000-01-01')
  if (name === 'after' || name === 'before') {
    values.push(cursor(['x', 'not-a-uuid']), cursor(['2026-02-30T00:00:00', SOME_UUID]), 'not a cursor!')
  }
  if (name === 'page') values.push('99999999999999999999', '1e309')
  if (name === 'share_with') values.push('user:not-a-uuid', `group:${SOME_UUID}`)
  if (name === '*') values.push('../../package.json')
  return values
}

interface Prop {
  type?: string
  maxLength?: number
  items?: Prop
}
/** The declared properties of a query or body schema (without the CSRF token, which the guard reads). */
function propsOf(schema: unknown): [string, Prop][] {
  const props = (schema as { properties?: Record<string, Prop> } | undefined)?.properties ?? {}
  return Object.entries(props).filter(([name]) => name !== '_csrf')
}
function maxLengthOf(prop: Prop): number | undefined {
  return prop.maxLength ?? prop.items?.maxLength
}

/** What the 400 page says, by what was wrong (src/http/input-errors.ts). */
const SAYS = {
  repeated: (name: string) => `“${name}” was sent more than once`,
  nul: (name: string) => `“${name}” contains a character that is not allowed`,
  long: (name: string) => `“${name}” is longer than`,
}
type Refusal = keyof typeof SAYS

type Fields = Record<string, string | string[]>
/** One request to a route as the administrator: a GET with a query string, or the route's kind of form. */
function send(visitor: Visitor, route: DeclaredRoute, path: string, fields: Fields = {}) {
  if (route.method !== 'POST') {
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) query.append(k, one)
    const qs = query.toString()
    return visitor.get(qs ? `${path}?${qs}` : path)
  }
  if (route.multipart) {
    const pairs: [string, string][] = [['_csrf', visitor.csrfToken]]
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) pairs.push([k, one])
    const body = multipartBody(pairs)
    return visitor.request({ method: 'POST', url: path, payload: body.payload, headers: body.headers })
  }
  return visitor.post(path, fields)
}

function check(
  t: Test,
  route: DeclaredRoute,
  what: string,
  res: LightMyRequestResponse,
  refusal?: { kind: Refusal; name: string },
) {
  const label = `${route.method} ${route.url} ${what}`
  t.ok(res.statusCode < 500, `${label}: ${res.statusCode}`)
  if (!refusal) return
  t.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: refused with a 4xx (${res.statusCode})`)
  t.match(visibleText(res.body), SAYS[refusal.kind](refusal.name), `${label}: the page says what was wrong`)
}

const routes = app.routeTable.filter((r) => r.method !== 'HEAD' && r.url !== '/logout')
const entityIdsOf = (html: string) => [...html.matchAll(/href="\/entities\/([0-9a-f-]{36})"/g)].map((m) => m[1])
const tbodyOf = (html: string) => /<tbody>[\s\S]*?<\/tbody>/.exec(html)?.[0] ?? ''
const count = async (table: string) => Number((await db(table).count('* as n'))[0]?.n)

t.test('the cases named in the issue', async (t) => {
  await a.get('/')
  t.equal((await a.get('/entities?q=a&q=b')).statusCode, 400, '/entities?q=a&q=b')
  t.match(visibleText(a.lastHtml), SAYS.repeated('q'))
  t.equal((await a.get('/settings/users?q=a&q=b')).statusCode, 400, '/settings/users?q=a&q=b')
  t.match(visibleText(a.lastHtml), SAYS.repeated('q'))

  const entities = await count('entities')
  const audit = await count('audit_log')
  const search = await a.get(`/entities?q=${encodeURIComponent(NUL)}`)
  t.ok(search.statusCode >= 400 && search.statusCode < 500, `a NUL in the client search: ${search.statusCode}`)
  t.match(visibleText(search.body), SAYS.nul('q'))

  const valid = { kind: 'individual', name: 'Nadia Null', status: 'prospect', owner_user_id: admin.id, notes: '' }
  await a.get('/entities/new')
  const badName = await a.post('/entities', { ...valid, name: `Nadia ${NUL}` })
  t.ok(badName.statusCode >= 400 && badName.statusCode < 500, `a NUL in a client's name: ${badName.statusCode}`)
  t.match(visibleText(badName.body), SAYS.nul('name'))
  const badNotes = await a.post('/entities', { ...valid, notes: `Met on ${NUL}` })
  t.ok(badNotes.statusCode >= 400 && badNotes.statusCode < 500, `a NUL in the notes: ${badNotes.statusCode}`)
  t.match(visibleText(badNotes.body), SAYS.nul('notes'))
  // The form's own page again (src/forms/rule-error.ts): the problem linked to its field, the rest kept.
  t.equal(badNotes.statusCode, 422, 'a refused form body is the form again')
  t.match(badNotes.body, /<a href="#notes">“notes” contains a character that is not allowed/)
  t.match(badNotes.body, 'value="Nadia Null"', 'what was typed in the other fields is kept')
  t.notMatch(badNotes.body, 'Met on', 'the refused value is not shown back')
  const notesBefore = (await db('entities').where({ id: ids.entity }).first('notes')).notes
  const badEdit = await a.post(`/entities/${ids.entity}`, {
    version: await entityVersion(db, ids.entity),
    kind: 'organisation',
    name: 'Main Client Ltd',
    status: 'prospect',
    owner_user_id: admin.id,
    notes: `Edited ${NUL}`,
  })
  t.ok(badEdit.statusCode >= 400 && badEdit.statusCode < 500, `a NUL in the notes of an edit: ${badEdit.statusCode}`)
  t.equal((await db('entities').where({ id: ids.entity }).first('notes')).notes, notesBefore, 'the notes are as before')

  await a.get('/entities/new')
  const feb30 = await a.post('/entities', { ...valid, date_of_birth: '2026-02-30' })
  t.equal(feb30.statusCode, 422, 'a date of birth of 30 February: 422')
  t.match(visibleText(feb30.body), 'Enter the date of birth as a real date, like 1984-03-27')
  t.equal(await count('entities'), entities, 'no client was stored')
  t.equal(await count('audit_log'), audit, 'nothing was audited')
  // The same form without the bad value is taken: it was the value that was refused, not the form.
  t.equal((await a.post('/entities', valid)).statusCode, 303, 'the same form with real values is stored')
  t.equal(await count('entities'), entities + 1)

  const attempts = await count('login_attempts')
  const sessions = await count('sessions')
  const fresh = new Visitor(app)
  await fresh.get('/login')
  const login = await fresh.post('/login', { email: `ada${NUL}@alpha.test`, password: 'whatever it is' })
  t.ok(login.statusCode >= 400 && login.statusCode < 500, `a NUL in the login email: ${login.statusCode}`)
  t.match(visibleText(login.body), SAYS.nul('email'))
  t.equal(await count('login_attempts'), attempts, 'no login attempt was stored')
  t.equal(await count('sessions'), sessions, 'no session was stored')

  // Crafted cursors are not the list's own: the first page is shown.
  const firstByName = await a.get('/entities')
  const firstByChange = await a.get('/entities?sort=changed')
  t.ok(entityIdsOf(firstByName.body).length >= 2, 'the first page lists the clients')
  for (const [label, url, first] of [
    ['a cursor with a non-UUID id', `/entities?after=${cursor(['x', 'not-a-uuid'])}`, firstByName],
    ['a cursor that is not base64 JSON', '/entities?after=%%%not-a-cursor', firstByName],
    ['a non-date key, sorted by change', `/entities?sort=changed&after=${cursor(['x', SOME_UUID])}`, firstByChange],
    [
      'a 30 February key, sorted by change',
      `/entities?sort=changed&after=${cursor(['2026-02-30T00:00:00', SOME_UUID])}`,
      firstByChange,
    ],
    [
      'a year-0 key, sorted by change',
      `/entities?sort=changed&before=${cursor(['0000-01-01T00:00:00', SOME_UUID])}`,
      firstByChange,
    ],
  ] as const) {
    const res = await a.get(url)
    t.equal(res.statusCode, 200, `${label}: 200`)
    t.same(entityIdsOf(res.body), entityIdsOf(first.body), `${label}: the first page`)
  }
  const [firstId] = entityIdsOf(firstByName.body)
  const firstName = (await db('entities').where({ id: firstId }).first('name')).name as string
  const real = await a.get(`/entities?after=${encodeCursor({ key: firstName.toLowerCase(), id: firstId as string })}`)
  t.notSame(entityIdsOf(real.body), entityIdsOf(firstByName.body), 'a real cursor does turn the page')

  // The audit trail ignores a day that is not one.
  const unfiltered = await a.get('/settings/audit')
  for (const query of ['from=0000-01-01', 'to=2026-02-30', 'from=0000-01-01&to=2026-02-30']) {
    const res = await a.get(`/settings/audit?${query}`)
    t.equal(res.statusCode, 200, `audit ${query}: 200`)
    t.equal(tbodyOf(res.body), tbodyOf(unfiltered.body), `audit ${query}: the bad day is ignored`)
  }
})

t.test('every parameter of every route, in every bad shape: never a 5xx', async (t) => {
  t.ok(routes.length >= 60, `${routes.length} routes`)
  for (const route of routes) {
    const path = desk.fill(route)
    // A portal route is called by the client in the portal; every other one by the administrator.
    const v = desk.visitorFor(route)
    await v.get(route.access === 'portal' ? '/portal' : '/')

    if (route.method !== 'POST') check(t, route, 'as it is', await send(v, route, path))

    for (const [where, schema] of [
      ['query', route.schema.querystring],
      ['body', route.schema.body],
    ] as const) {
      for (const [name, prop] of propsOf(schema)) {
        const param = `${where} ${name}`
        const repeated = await send(v, route, path, { [name]: ['a', 'a'] })
        check(t, route, `${param} repeated`, repeated, prop.type === 'array' ? undefined : { kind: 'repeated', name })
        check(t, route, `${param} NUL`, await send(v, route, path, { [name]: NUL }), { kind: 'nul', name })
        const max = maxLengthOf(prop)
        const long = await send(v, route, path, { [name]: LONG })
        check(
          t,
          route,
          `${param} 100,000 characters`,
          long,
          max && max < LONG.length ? { kind: 'long', name } : undefined,
        )
        for (const value of wrongValues(name)) {
          check(t, route, `${param} ${JSON.stringify(value)}`, await send(v, route, path, { [name]: value }))
        }
      }
    }

    for (const name of pathParams(route.url)) {
      for (const [variant, value] of [
        ['NUL', NUL],
        ['100,000 characters', LONG],
        ...wrongValues(name).map((v) => [JSON.stringify(v), v]),
      ] as const) {
        const bad = fillPath(route.url, (n) => (n === name ? value : desk.paramValue(route, n)))
        check(t, route, `path ${name} ${variant}`, await send(v, route, bad))
      }
    }

    if (route.method === 'POST') {
      const json = await v.request({
        method: 'POST',
        url: path,
        payload: JSON.stringify({ _csrf: v.csrfToken }),
        headers: { 'content-type': 'application/json' },
      })
      check(t, route, 'as JSON', json)
      if (route.multipart) {
        check(t, route, 'as a url-encoded form', await v.post(path, {}))
      } else {
        const body = multipartBody([['_csrf', v.csrfToken]])
        const multipart = await v.request({ method: 'POST', url: path, payload: body.payload, headers: body.headers })
        check(t, route, 'as multipart', multipart)
      }
    }

    // Last, as it runs the handler with real ids (and so deletes what the destructive routes delete).
    if (route.multipart) {
      const body = multipartBody(
        [
          ['_csrf', v.csrfToken],
          ['zz_unknown', '1'],
        ],
        { field: 'file', filename: 'extra.pdf', content: PDF_BYTES, type: 'application/pdf' },
      )
      const res = await v.request({ method: 'POST', url: path, payload: body.payload, headers: body.headers })
      check(t, route, 'with an unknown parameter', res)
    } else {
      check(t, route, 'with an unknown parameter', await send(v, route, path, { zz_unknown: '1' }))
    }
  }

  // The destructive routes acted on their seeded objects: their handlers ran, with real ids, to the end.
  const row = (table: string, id: string) => db(table).where({ id }).first()
  t.ok((await row('entities', ids.doomedEntity))?.deleted_at, 'the doomed client went to the recycle bin')
  t.ok((await row('documents', ids.doomedDocument))?.deleted_at, 'the doomed document went to the recycle bin')
  t.equal(await row('entity_services', ids.doomedAllocation), undefined, 'the doomed allocation was removed')
  t.equal((await row('entities', ids.binnedEntity))?.deleted_at, null, 'the binned client was restored')
  t.equal(await row('entities', ids.purgedEntity), undefined, 'the purged client was deleted for good')
  t.equal((await row('documents', ids.binnedDocument))?.deleted_at, null, 'the binned document was restored')
  t.equal(await row('documents', ids.purgedDocument), undefined, 'the purged document was deleted for good')
  t.equal(await row('groups', ids.doomedGroup), undefined, 'the doomed group was deleted')
  t.equal(await row('client_shares', ids.share), undefined, 'the share was removed')
  t.equal((await row('access_requests', ids.request))?.status, 'granted', 'the request was granted')
  t.equal((await row('access_requests', ids.declinedRequest))?.status, 'declined', 'the other was declined')
  t.equal(await row('sessions', ids.session), undefined, 'the second session was ended')
  t.equal((await row('outbox_emails', ids.email))?.status, 'pending', 'the failed email was queued again')
  t.ok((await row('entities', ids.entity))?.name, 'the main client is still there')
})

t.test('nothing was logged as an error (a 5xx) in the whole run', async (t) => {
  const errors = logs.filter((line) => line.includes('"level":50'))
  t.same(
    errors.map((line) => line.slice(0, 600)),
    [],
    'no log line at level 50',
  )
})
