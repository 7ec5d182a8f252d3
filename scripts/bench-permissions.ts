/**
 * `npm run bench:permissions` — time to switch one permission through the htmx route, and to save the
 * whole permission form, on a loaded database (2 companies, 2,000 users each with permissions,
 * 100,000 audit rows, 2,000 sessions). Runs in-process through app.inject, so the figures are the
 * server's own cost (routing, guard, session, SQL, rendering), without network.
 */
import { performance } from 'node:perf_hooks'
import { PERMISSION_KEYS } from '../src/access/permissions.js'
import { buildApp } from '../src/app.js'
import { testConfig, Visitor } from '../test/helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../test/helpers/factories.js'
import { benchDatabase, prepareTestServer } from './test-database.js'

const USERS = 2000
const server = await prepareTestServer()
const db = await benchDatabase(server.adminUrl, 'kyc_bench_permissions')

const company = await aCompany(db, 'Bench Co')
const other = await aCompany(db, 'Other Co')
const boss = await aUser(db, { company, permissions: ['system_administrator'] })
for (const c of [company, other]) {
  const rows = Array.from({ length: USERS }, (_, i) => ({
    company_id: c.id,
    name: `User ${i}`,
    email: `u${i}@${c.id}.test`,
  }))
  const ids: { id: string }[] = []
  for (let i = 0; i < rows.length; i += 500)
    ids.push(
      ...(await db('users')
        .insert(rows.slice(i, i + 500))
        .returning('id')),
    )
  const perms = ids.flatMap((u, i) =>
    PERMISSION_KEYS.filter((_, k) => (i + k) % 5 === 0).map((permission) => ({
      company_id: c.id,
      user_id: u.id,
      permission,
    })),
  )
  for (let i = 0; i < perms.length; i += 1000) await db('user_permissions').insert(perms.slice(i, i + 1000))
  await db.raw(
    `INSERT INTO audit_log (company_id, action, target_type, target_id, after)
     SELECT ?, 'bench.event', 'user', gen_random_uuid()::text, '{"n":1}' FROM generate_series(1, 50000)`,
    [c.id],
  )
  await db.raw(
    `INSERT INTO sessions (sid, user_id, company_id, data) SELECT 'bench-' || ? || '-' || g, NULL, ?, '{}' FROM generate_series(1, 1000) g`,
    [c.id, c.id],
  )
}
await db.raw('ANALYZE')
const targets: { id: string }[] = await db('users')
  .where({ company_id: company.id })
  .whereNot({ id: boss.id })
  .select('id')
  .limit(200)

const app = await buildApp({ config: testConfig(), db, logger: false })
await app.ready()
const v = new Visitor(app)
await v.login(boss.email, PASSWORD)
await v.get('/')

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}
function summary(times: number[]) {
  const s = [...times].sort((a, b) => a - b)
  return {
    n: s.length,
    p50_ms: +percentile(s, 50).toFixed(2),
    p99_ms: +percentile(s, 99).toFixed(2),
    max_ms: +(s.at(-1) as number).toFixed(2),
  }
}

const toggles: number[] = []
for (let i = 0; i < 1000; i++) {
  const target = targets[i % targets.length] as { id: string }
  const key = (['view_reports', 'signout_users', 'create_one_time_searches', 'upload_entity_documents'] as const)[i % 4]
  const on = Math.floor(i / targets.length) % 2 === 0 ? '1' : '0'
  const start = performance.now()
  const res = await v.request({
    method: 'POST',
    url: `/settings/users/${target.id}/permissions/${key}`,
    payload: `on=${on}`,
    headers: { 'hx-request': 'true', 'x-csrf-token': v.csrfToken, 'content-type': 'application/x-www-form-urlencoded' },
  })
  toggles.push(performance.now() - start)
  if (res.statusCode !== 200 && res.statusCode !== 409) throw new Error(`toggle answered ${res.statusCode}`)
}

const saves: number[] = []
for (let i = 0; i < 300; i++) {
  const target = targets[i % targets.length] as { id: string }
  const permissions = PERMISSION_KEYS.filter((k, j) => k !== 'system_administrator' && (i + j) % 3 === 0)
  const start = performance.now()
  const res = await v.post(`/settings/users/${target.id}/permissions`, { permissions })
  saves.push(performance.now() - start)
  if (res.statusCode !== 303) throw new Error(`save answered ${res.statusCode}`)
}

const result = { toggle_htmx: summary(toggles), full_form_save: summary(saves) }
await app.close()
await db.destroy()
await server.stop()
process.stdout.write(`${JSON.stringify(result)}\n`)
