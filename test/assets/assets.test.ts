import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'
import { testApp } from '../helpers/app.js'

t.test('htmx is served from public/ at the pinned 2.x version', async (t) => {
  const { app } = await testApp(t)
  const pkg = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8'))
  t.equal(pkg.dependencies['htmx.org'], '2.0.11', 'pinned exactly')
  const served = await app.inject({ url: '/public/vendor/htmx-2.0.11.min.js' })
  t.equal(served.statusCode, 200)
  t.equal(served.body, readFileSync(path.join(ROOT_DIR, 'node_modules/htmx.org/dist/htmx.min.js'), 'utf8'))
  const login = await app.inject({ url: '/login' })
  t.match(login.body, '<script src="/public/vendor/htmx-2.0.11.min.js" defer></script>')
  t.equal((await app.inject({ url: '/public/../package.json' })).statusCode, 404, 'no path traversal')
})

t.test('the icon: linked from every page, and /favicon.ico answers (no 404 in the console)', async (t) => {
  const { app } = await testApp(t)
  const login = await app.inject('/login')
  t.match(login.body, '<link rel="icon" href="/public/favicon.svg" type="image/svg+xml">')
  const linked = await app.inject('/public/favicon.svg')
  t.equal(linked.statusCode, 200)
  t.match(linked.body, /^<svg /)
  const ico = await app.inject('/favicon.ico')
  t.equal(ico.statusCode, 200)
  t.equal(ico.headers['content-type'], 'image/svg+xml')
})
