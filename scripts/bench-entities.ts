/**
 * `npm run bench:entities` — the client list at 100,000 client relationships: first page and a name
 * search, p50/p99 over repeated requests through app.inject (the server's own cost, without network).
 * Seeds the clients with one INSERT … SELECT generate_series, in a database of its own.
 */
import { performance } from 'node:perf_hooks'
import { buildApp } from '../src/app.js'
import { testConfig, Visitor } from '../test/helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../test/helpers/factories.js'
import { benchDatabase, prepareTestServer } from './test-database.js'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 300)

const server = await prepareTestServer()
const db = await benchDatabase(server.adminUrl, 'kyc_bench_entities')

const company = await aCompany(db, 'Big Firm')
const other = await aCompany(db, 'Other Firm')
const reader = await aUser(db, { company, permissions: ['read_data'] })
const otherOwner = await aUser(db, { company: other })
const seedStart = performance.now()
for (const [c, owner, n] of [
  [company.id, reader.id, CLIENTS],
  [other.id, otherOwner.id, CLIENTS / 10],
] as const) {
  await db.raw(
    `INSERT INTO entities (company_id, kind, name, owner_user_id, status, updated_at)
     SELECT ?, CASE WHEN g % 2 = 0 THEN 'individual' ELSE 'organisation' END,
            (ARRAY['Harbour','Juniper','Kestrel','Meridian','Oakridge','Saffron','Willow','Zephyr'])[1 + g % 8] || ' ' ||
            (ARRAY['Holdings','Logistics','Bakery','Consulting','Property','Trading'])[1 + (g / 8) % 6] || ' ' || g,
            ?, (ARRAY['prospect','serviced_client','one_off_service','former_client'])[1 + g % 4],
            now() - make_interval(secs => g)
     FROM generate_series(1, ?) g`,
    [c, owner, n],
  )
}
await db.raw('ANALYZE entities')
const seedSeconds = ((performance.now() - seedStart) / 1000).toFixed(1)

const app = await buildApp({ config: testConfig(), db, logger: false })
await app.ready()
const v = new Visitor(app)
await v.login(reader.email, PASSWORD)

function summary(times: number[]) {
  const s = [...times].sort((a, b) => a - b)
  const at = (p: number) => +(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number).toFixed(2)
  return { n: s.length, p50_ms: at(50), p99_ms: at(99) }
}
async function time(url: string, expectRows: number) {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    const res = await v.get(url)
    times.push(performance.now() - start)
    const rows = (res.body.match(/<th scope="row"><a href="\/entities\//g) ?? []).length
    if (res.statusCode !== 200 || rows < expectRows) throw new Error(`${url}: ${res.statusCode}, ${rows} rows`)
  }
  return summary(times)
}

const result = {
  clients: CLIENTS,
  seed_seconds: Number(seedSeconds),
  first_page: await time('/entities', 50),
  last_change_first_page: await time('/entities?sort=changed', 50),
  name_search: await time('/entities?q=kestrel%20trading%2012', 1),
}
const plan = await db.raw(
  `EXPLAIN (ANALYZE, FORMAT TEXT) SELECT id FROM entities e WHERE e.company_id = ? AND e.deleted_at IS NULL AND lower(e.name) LIKE '%kestrel trading 12%' ORDER BY lower(e.name), e.id LIMIT 51`,
  [company.id],
)
await app.close()
await db.destroy()
await server.stop()
process.stdout.write(`${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}\n`)
process.stdout.write(`${JSON.stringify(result)}\n`)
