/**
 * Back and reload after htmx swaps (issue 12, defect 1): htmx restores a pushed URL that is not in its cache
 * with a request marked HX-History-Restore-Request, and swaps the answer into the whole body. Every GET page
 * must answer it with the full page (header, navigation, Sign out), never the fragment an ordinary htmx
 * request to the same URL gets. (public/js/app.js lets only the newest of such requests swap.)
 */
import t from 'tap'
import { anEntity } from '../helpers/entities.js'
import { seedDesk } from '../helpers/seeded-desk.js'

const desk = await seedDesk(t)
const { app, db, a, company, admin } = desk

const RESTORE = { 'hx-request': 'true', 'hx-history-restore-request': 'true', 'hx-current-url': 'http://localhost/' }
const h1 = (html: string) => /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1]

t.test('every GET page answers a history restore with the full page', async (t) => {
  const routes = app.routeTable.filter(
    (r) => r.method === 'GET' && !r.url.startsWith('/public/') && r.url !== '/healthz',
  )
  let pages = 0
  for (const route of routes) {
    const url = desk.fill(route)
    const visitor = desk.visitorFor(route)
    const direct = await visitor.get(url)
    if (!String(direct.headers['content-type']).startsWith('text/html')) continue
    pages++
    const restored = await visitor.get(url, RESTORE)
    t.equal(restored.statusCode, direct.statusCode, `GET ${route.url}: same status`)
    t.match(restored.body, /^<!doctype html>/i, `GET ${route.url}: a whole document`)
    t.match(restored.body, '<header', `GET ${route.url}: with the header`)
    // The portal's client leaves the portal; staff sign out.
    const leave = route.access === 'portal' ? 'Leave the portal' : route.url === '/p/:token' ? 'Continue' : 'Sign out'
    t.match(restored.body, leave, `GET ${route.url}: and ${leave}`)
    t.equal(h1(restored.body), h1(direct.body), `GET ${route.url}: the same page`)
    t.match(String(restored.headers.vary), 'HX-History-Restore-Request', `GET ${route.url}: Vary names the header`)
  }
  t.ok(pages >= 25, `${pages} pages checked`)
})

t.test('the pushed URLs of the client list and the user list: fragment when swapped, page when restored', async (t) => {
  for (let i = 0; i < 60; i++)
    await anEntity(db, { company, owner: admin, name: `Paged Client ${String(i).padStart(2, '0')}` })
  const first = await a.get('/entities')
  const next = /href="(\/entities\?after=[^"]+)"/.exec(first.body)?.[1]?.replaceAll('&amp;', '&')
  if (!next) throw new Error('no next page link')
  for (const url of [next, '/entities?kind=individual&status=prospect', '/settings/users?q=a']) {
    const target = url.startsWith('/entities') ? 'entity-results' : 'user-results'
    const swapped = await a.get(url, { 'hx-request': 'true', 'hx-target': target })
    t.notMatch(swapped.body, '<!doctype html>', `${url}: the swap gets the fragment`)
    t.match(swapped.body, `id="${target}"`)
    const restored = await a.get(url, RESTORE)
    t.match(restored.body, /^<!doctype html>/i, `${url}: the restore gets the page`)
    t.match(restored.body, 'Sign out')
    t.match(restored.body, `id="${target}"`, `${url}: with its results`)
  }
})
