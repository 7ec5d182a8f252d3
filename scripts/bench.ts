/**
 * `npm run bench` — the client list at scale (issue: client access, fast at 100,000 clients).
 *
 * Seeds, unless already seeded, a persistent embedded PostgreSQL under .data/bench-postgres (or the
 * database of BENCH_DATABASE_URL): company "Bench 100k" (100,000 clients, 2,000 users, 200 groups of
 * 5–50 members; each client shared with 0–3 groups and 0–2 users, 10 % with the whole company) and
 * "Bench 10k" (the same shape with 10,000 clients). Client access is on in both. Then it serves the app
 * on a free port and loads it with autocannon (a separate process) per scenario, BENCH_ROUNDS rounds of
 * BENCH_SECONDS each (default 5 × 5 s, scenarios interleaved), and prints one JSON line last with the
 * medians: {"scenarios": {"<name>": {"rps", "p50_ms", "p99_ms", "ratio_to_baseline"}}}; each ratio is the
 * median of the per-round ratios to that round's baseline. DB_READ_LANE=off runs it without the read lane.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { buildApp } from '../src/app.js'
import { hashPassword } from '../src/auth/passwords.js'
import { ROOT_DIR, readLaneFrom } from '../src/config.js'
import { ensureDatabase } from '../src/db/connect.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'
import { createDb, type Db, migrateLatest } from '../src/db/knex.js'
import { testConfig } from '../test/helpers/app.js'
import { freePort } from './test-database.js'

const run = promisify(execFile)
const DURATION = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const PASSWORD = 'bench password 1'

let stopPostgres = async () => {}
let url = process.env.BENCH_DATABASE_URL
if (!url) {
  const pg = await startEmbeddedPostgres(path.join(ROOT_DIR, '.data', 'bench-postgres'), await freePort())
  await ensureDatabase(pg.url('postgres'), 'kyc_bench')
  url = pg.url('kyc_bench')
  stopPostgres = pg.stop
}
// DB_READ_LANE=off measures the app with every hot read on knex's pool (README: With an external PostgreSQL).
const readLane = readLaneFrom(process.env)
const db = createDb(url, { readLane })
await migrateLatest(db)

/** One company of the benchmark's shape, in a handful of set-based INSERTs. */
async function seedCompany(db: Db, name: string, clients: number): Promise<void> {
  if (await db('companies').where({ name }).first()) return
  const started = Date.now()
  const hash = await hashPassword(PASSWORD)
  await db.transaction(async (trx) => {
    await trx.raw('SELECT setseed(0.42)')
    const [company] = await trx('companies')
      .insert({ name, client_access_enabled: true, allow_sharing: true, allow_access_requests: true })
      .returning('id')
    const slug = name.replace(/\W/g, '').toLowerCase()
    await trx.raw(
      `INSERT INTO users (company_id, name, email, password_hash)
       SELECT ?, 'User ' || g, ? || '-user' || g || '@bench.test', ? FROM generate_series(1, 2000) g`,
      [company.id, slug, hash],
    )
    await trx.raw(
      `INSERT INTO user_permissions (company_id, user_id, permission)
       SELECT company_id, id, CASE WHEN email LIKE '%-user1@%' THEN 'system_administrator' ELSE 'read_data' END
       FROM users WHERE company_id = ?`,
      [company.id],
    )
    await trx.raw(`INSERT INTO groups (company_id, name) SELECT ?, 'Group ' || g FROM generate_series(1, 200) g`, [
      company.id,
    ])
    // Everyone but user 1 (the administrator) and user 2 (the restricted reader, placed below).
    const others = `(SELECT array_agg(id ORDER BY id) FROM users WHERE company_id = '${company.id}' AND email NOT LIKE '%-user1@%' AND email NOT LIKE '%-user2@%')`
    // 5–50 members each.
    await trx.raw(
      `INSERT INTO group_members (company_id, group_id, user_id)
       SELECT DISTINCT g.company_id, g.id, (${others})[1 + floor(random() * 1998 + 0 * k)::int]
       FROM groups g CROSS JOIN LATERAL generate_series(1, 5 + floor(random() * 46)::int) k
       WHERE g.company_id = ?`,
      [company.id],
    )
    const reader = await trx('users')
      .where({ email: `${slug}-user2@bench.test` })
      .first('id')
    await trx.raw(
      `INSERT INTO group_members (company_id, group_id, user_id)
       SELECT ?, id, ? FROM groups WHERE company_id = ? ORDER BY name LIMIT 5 ON CONFLICT DO NOTHING`,
      [company.id, reader.id, company.id],
    )
    await trx.raw(
      `INSERT INTO entities (company_id, kind, name, owner_user_id, status, sharing_initialised, updated_at)
       SELECT ?, CASE WHEN g % 2 = 0 THEN 'individual' ELSE 'organisation' END,
              (ARRAY['Harbour','Juniper','Kestrel','Meridian','Oakridge','Saffron','Willow','Zephyr'])[1 + g % 8] || ' ' ||
              (ARRAY['Holdings','Logistics','Bakery','Consulting','Property','Trading'])[1 + (g / 8) % 6] || ' ' || g,
              (${others})[1 + g % 1998],
              (ARRAY['prospect','serviced_client','one_off_service','former_client'])[1 + g % 4], true,
              now() - make_interval(secs => g)
       FROM generate_series(1, ?) g`,
      [company.id, clients],
    )
    const groupIds = `(SELECT array_agg(id ORDER BY id) FROM groups WHERE company_id = '${company.id}')`
    await trx.raw(
      `INSERT INTO client_shares (company_id, entity_id, group_id)
       SELECT DISTINCT e.company_id, e.id, (${groupIds})[1 + floor(random() * 200 + 0 * k)::int]
       FROM entities e CROSS JOIN LATERAL generate_series(1, floor(random() * 4)::int) k
       WHERE e.company_id = ? ON CONFLICT DO NOTHING`,
      [company.id],
    )
    await trx.raw(
      `INSERT INTO client_shares (company_id, entity_id, user_id)
       SELECT DISTINCT e.company_id, e.id, (${others})[1 + floor(random() * 1998 + 0 * k)::int]
       FROM entities e CROSS JOIN LATERAL generate_series(1, floor(random() * 3)::int) k
       WHERE e.company_id = ? ON CONFLICT DO NOTHING`,
      [company.id],
    )
    await trx.raw(
      `INSERT INTO client_shares (company_id, entity_id, whole_company)
       SELECT company_id, id, true FROM entities WHERE company_id = ? AND random() < 0.1`,
      [company.id],
    )
  })
  await db.raw('ANALYZE')
  process.stderr.write(`seeded ${name} (${clients} clients) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}

await seedCompany(db, 'Bench 100k', 100_000)
await seedCompany(db, 'Bench 10k', 10_000)

// The server, with a baseline route that renders the same 50-row list page from memory.
const sample = await db('entities as e')
  .join('users as o', 'o.id', 'e.owner_user_id')
  .join('companies as c', 'c.id', 'e.company_id')
  .where('c.name', 'Bench 100k')
  .orderByRaw('lower(e.name), e.id')
  .limit(50)
  .select('e.id', 'e.name', 'e.kind', 'e.status', 'o.name as owner_name', 'e.updated_at', db.raw('true AS has_access'))
const app = await buildApp({
  config: testConfig({ logLevel: 'warn', cacheTemplates: true }),
  db,
  logger: false,
})
const { COUNTRIES, ENTITY_KINDS, STATUSES, countryName, statusLabel } = await import('../src/entities/reference.js')
app.get('/bench/baseline', { config: { access: 'public' } }, async (_request, reply) =>
  reply.page('entities/index', {
    title: 'Client relationships',
    filters: { q: '', kind: '', status: '', owner: '', sort: 'name' },
    rows: sample,
    range: { from: 1, to: sample.length, total: 100_000, moreThan: false },
    sortUrls: { name: '/entities', changed: '/entities?sort=changed' },
    owners: [],
    kinds: ENTITY_KINDS,
    statuses: STATUSES,
    countries: COUNTRIES,
    countryName,
    statusLabel,
    nextUrl: '/entities?after=x',
  }),
)
const port = await freePort()
await app.listen({ port, host: '127.0.0.1' })
const base = `http://127.0.0.1:${port}`

async function login(email: string): Promise<string> {
  const page = await fetch(`${base}/login`)
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] as string
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, email, password: PASSWORD }),
  })
  if (res.status !== 303) throw new Error(`login ${email}: ${res.status}`)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string
}

const cookies = {
  admin100k: await login('bench100k-user1@bench.test'),
  reader100k: await login('bench100k-user2@bench.test'),
  admin10k: await login('bench10k-user1@bench.test'),
  reader10k: await login('bench10k-user2@bench.test'),
}
const someClient = await db('entities as e')
  .join('companies as c', 'c.id', 'e.company_id')
  .where('c.name', 'Bench 100k')
  .orderBy('e.id')
  .first('e.id')

interface Result {
  rps: number
  p50_ms: number
  p99_ms: number
  ratio_to_baseline?: number
}
async function load(path: string, cookie?: string): Promise<Result> {
  const args = ['autocannon', '-j', '-c', String(CONNECTIONS), '-d', String(DURATION)]
  if (cookie) args.push('-H', `cookie=${cookie}`)
  args.push(`${base}${path}`)
  const { stdout } = await run('npx', args, { cwd: ROOT_DIR, maxBuffer: 10 * 1024 * 1024 })
  const r = JSON.parse(stdout)
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`)
  return { rps: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99 }
}

// Warm up every URL (JIT, PostgreSQL caches, template cache) before anything is measured.
const WARM = Number(process.env.BENCH_WARMUP_SECONDS ?? 2)
async function warm(path: string, cookie?: string) {
  const args = ['autocannon', '-c', String(CONNECTIONS), '-d', String(WARM)]
  if (cookie) args.push('-H', `cookie=${cookie}`)
  await run('npx', [...args, `${base}${path}`], { cwd: ROOT_DIR, maxBuffer: 10 * 1024 * 1024 })
}
process.stderr.write(`read lane ${readLane ? 'on' : 'off'}\n`)
await warm('/bench/baseline')
for (const cookie of Object.values(cookies)) await warm('/entities', cookie)

// This machine's speed drifts by ±20 % over a minute (other work on the host), so each scenario is measured
// in ROUNDS rounds, the scenarios interleaved within a round, and each figure is the median over the rounds.
// A scenario's ratio to the baseline is the median of its per-round ratios (each against the baseline of
// the same round), so a slow or fast minute weighs on both sides of a ratio alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const plan: Record<string, [string, string?]> = {
  baseline: ['/bench/baseline'],
  list_admin_100k: ['/entities', cookies.admin100k],
  list_restricted_100k: ['/entities', cookies.reader100k],
  search_admin_100k: ['/entities?q=kestrel%20trading', cookies.admin100k],
  search_restricted_100k: ['/entities?q=kestrel%20trading', cookies.reader100k],
  entity_page_100k: [`/entities/${someClient.id}`, cookies.admin100k],
  sharing_dialog_100k: [`/entities/${someClient.id}/sharing`, cookies.reader100k],
  list_admin_10k: ['/entities', cookies.admin10k],
  list_restricted_10k: ['/entities', cookies.reader10k],
}
// BENCH_ONLY=list_admin_100k,… measures only those scenarios (and the baseline), e.g. under --cpu-prof.
const only = process.env.BENCH_ONLY?.split(',')
const chosen = Object.entries(plan).filter(([name]) => !only || name === 'baseline' || only.includes(name))
const measured: Record<string, Result[]> = {}
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, [url, cookie]] of chosen) {
    const result = await load(url, cookie)
    measured[name] = [...(measured[name] ?? []), result]
    process.stderr.write(`round ${round} ${name}: ${result.rps} requests/s, p99 ${result.p99_ms} ms\n`)
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const baselines = (measured.baseline ?? []).map((r) => r.rps)
const scenarios: Record<string, Result> = {}
for (const [name, results] of Object.entries(measured)) {
  scenarios[name] = {
    rps: Math.round(median(results.map((r) => r.rps))),
    p50_ms: median(results.map((r) => r.p50_ms)),
    p99_ms: median(results.map((r) => r.p99_ms)),
    ratio_to_baseline: Math.round(median(results.map((r, i) => r.rps / (baselines[i] as number))) * 100) / 100,
  }
}

await app.close()
await db.destroy()
await stopPostgres()
process.stdout.write(`${JSON.stringify({ scenarios })}\n`)
