import t from 'tap'
import { testApp } from '../helpers/app.js'

t.test('/healthz checks the database', async (t) => {
  const { app, db } = await testApp(t)
  const ok = await app.inject({ url: '/healthz' })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { status: 'ok', database: 'ok' })
  await db.destroy()
  const down = await app.inject({ url: '/healthz' })
  t.equal(down.statusCode, 503)
  t.same(down.json(), { status: 'unavailable', database: 'not answering' })
})
