/**
 * The security headers of every answer (issue 10): each GET route of the route table, opened by the signed-in
 * administrator with a real object behind every id, and a few error answers (404, 403, 400 and the router's
 * own errors), carry a strict Content-Security-Policy and nosniff; every page and document download says
 * no-store, except the public assets (which may be cached) and /healthz.
 */
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { Visitor } from '../helpers/app.js'
import { aUser, PASSWORD } from '../helpers/factories.js'
import { seedDesk } from '../helpers/seeded-desk.js'

const desk = await seedDesk(t)
const { app, db, a, company } = desk

const isHtml = (res: LightMyRequestResponse) => String(res.headers['content-type'] ?? '').startsWith('text/html')

/** The headers every answer carries; `noStore` also asks for Cache-Control: no-store. */
function checkHeaders(t: Test, label: string, res: LightMyRequestResponse, noStore: boolean) {
  const csp = String(res.headers['content-security-policy'] ?? '')
  t.match(csp, "default-src 'self'", `${label}: CSP default-src 'self'`)
  t.match(csp, "frame-ancestors 'none'", `${label}: CSP frame-ancestors 'none'`)
  t.match(csp, "object-src 'none'", `${label}: CSP object-src 'none'`)
  t.notMatch(csp, 'unsafe-inline', `${label}: CSP without unsafe-inline`)
  t.equal(res.headers['x-content-type-options'], 'nosniff', `${label}: X-Content-Type-Options: nosniff`)
  if (noStore) {
    const cache = String(res.headers['cache-control'] ?? '')
    t.match(cache, 'no-store', `${label}: Cache-Control no-store (is ${JSON.stringify(cache)})`)
  }
}

const DOWNLOAD = '/entities/:id/documents/:documentId'
/**
 * A company's single sign-on link leaves for its OpenID provider, which the seeded desk has not: its answers
 * (with a provider) are checked in test/auth/sso.test.ts; here, only its headers.
 */
const NEEDS_PROVIDER = '/login/sso/:company'
/** Public and cacheable by design: the stylesheets and scripts, and the load balancer's health check. */
const exempt = (url: string) => url.startsWith('/public/') || url === '/healthz'

t.test('every GET route, as the administrator, with real ids', async (t) => {
  const routes = app.routeTable.filter((r) => r.method === 'GET')
  t.ok(routes.length >= 30, `${routes.length} GET routes`)
  for (const route of routes) {
    const url = desk.fill(route)
    const res = await desk.visitorFor(route).get(url)
    const label = `GET ${route.url} (${res.statusCode}, ${res.headers['content-type'] ?? 'no body type'})`
    if (route.url !== NEEDS_PROVIDER) t.ok(res.statusCode < 400, `${label}: answered (the seeded ids are real)`)
    if (route.url === DOWNLOAD) t.equal(res.headers['content-type'], 'application/pdf', `${label}: the document`)
    checkHeaders(t, label, res, !exempt(route.url) && (isHtml(res) || route.url === DOWNLOAD))
  }
})

t.test('the sign-in page, signed out', async (t) => {
  const res = await new Visitor(app).get('/login')
  t.equal(res.statusCode, 200)
  t.ok(isHtml(res))
  checkHeaders(t, 'GET /login signed out', res, true)
})

t.test('error answers carry the same headers', async (t) => {
  const notFound = await a.get('/no-such-page')
  t.equal(notFound.statusCode, 404)
  t.ok(isHtml(notFound), '404: a page')
  checkHeaders(t, '404 /no-such-page', notFound, true)

  const nobody = await aUser(db, { company, name: 'Nora Nobody' })
  const n = new Visitor(app)
  await n.login(nobody.email, PASSWORD)
  const forbidden = await n.get('/settings/users')
  t.equal(forbidden.statusCode, 403)
  t.ok(isHtml(forbidden), '403: a page')
  checkHeaders(t, '403 /settings/users without permission', forbidden, true)

  const bad = await a.get('/entities?q=a&q=b')
  t.equal(bad.statusCode, 400)
  t.ok(isHtml(bad), '400: a page')
  checkHeaders(t, '400 /entities?q=a&q=b', bad, true)
})

t.test('errors the router answers itself: an HTML page with the same headers, echoing nothing', async (t) => {
  const long = 'a'.repeat(500)
  for (const [label, url, echo] of [
    ['a malformed URL', '/entities/%E0%A4%A', '%E0%A4%A'],
    ['an over-long path parameter', `/settings/users/${long}`, long],
  ] as const) {
    const res = await a.get(url)
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: a 4xx (${res.statusCode})`)
    t.match(String(res.headers['content-type'] ?? ''), /^text\/html/, `${label}: an HTML page`)
    checkHeaders(t, label, res, true)
    t.throws(() => JSON.parse(res.body), `${label}: not JSON`)
    t.notMatch(res.body, 'FST_ERR', `${label}: no framework error code`)
    t.notOk(res.body.includes(echo), `${label}: the path is not echoed back`)
  }
})
