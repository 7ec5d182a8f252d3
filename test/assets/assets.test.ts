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
