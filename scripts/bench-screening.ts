/**
 * `npm run bench:screening` — issue 14's two figures, on this machine:
 * - the nightly run of BENCH_CLIENTS (default 100,000) clients against every shipped list (OFAC SDN and UN),
 *   in full (every client screened, as on the first night or after the default profile changed): its time
 *   (target ≤ 60 s) and the peak memory of the process that runs it (target ≤ 300 MB);
 * - one manual search through HTTP (POST /entities/:id/searches, as the Screening section sends it: the guard,
 *   a credit spent, the search, its matches written, the redirect): p50 and p95 of BENCH_SEARCHES (default 200)
 *   searches one after the other (target p95 ≤ 50 ms).
 * It seeds a database of its own (the shipped lists imported; clients with invented ordinary names, one in
 * 200 named like a listed person), then measures in a child process (so its peak memory is the run's, not
 * the seeding's: VmHWM from /proc/self/status), and prints one JSON line last.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { buildApp } from '../src/app.js'
import { createDb } from '../src/db/knex.js'
import { parseListPaths } from '../src/screening/lists/parse.js'
import { SHIPPED_LIST_FILES } from '../src/screening/lists/shipped.js'
import { importList } from '../src/screening/lists/store.js'
import { screenCompany } from '../src/screening/nightly.js'
import { testConfig } from '../test/helpers/app.js'
import { aCompany, aUser, PASSWORD } from '../test/helpers/factories.js'
import { benchDatabase, freePort, prepareTestServer, withDatabase } from './test-database.js'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100_000)
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 200)
const NAME = 'kyc_bench_screening'

/** The peak resident memory of this process so far, in MB. */
function peakMb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/)
  return line ? Math.round(Number(line[1]) / 1024) : Math.round(process.memoryUsage().rss / 1024 / 1024)
}

const FIRST = [
  'James',
  'Mary',
  'Mohammed',
  'Olga',
  'Wei',
  'Aisha',
  'Carlos',
  'Priya',
  'Hans',
  'Fatima',
  'Kenji',
  'Elena',
  'Tomasz',
  'Grace',
  'Ahmed',
  'Sofia',
  'Ivan',
  'Nadia',
  'Pedro',
  'Yuki',
]
const LAST = [
  'Smith',
  'Garcia',
  'Khan',
  'Ivanova',
  'Chen',
  'Okafor',
  'Silva',
  'Patel',
  'Müller',
  'Haddad',
  'Tanaka',
  'Rossi',
  'Nowak',
  'Brown',
  'Hassan',
  'Costa',
  'Petrov',
  'Novak',
  'Santos',
  'Kowalski',
  'Dubois',
  'Jensen',
  'Ali',
  'Kim',
  'Lopez',
]
const TRADES = ['Trading', 'Logistics', 'Holdings', 'Consulting', 'Shipping', 'Textiles', 'Foods', 'Engineering']

async function seed(adminUrl: string): Promise<void> {
  const db = await benchDatabase(adminUrl, NAME)
  const company = await aCompany(db, 'Screening Bench')
  const admin = await aUser(db, { company, permissions: ['system_administrator'], email: 'bench-admin@bench.test' })
  const started = performance.now()
  const lists = await parseListPaths([...SHIPPED_LIST_FILES])
  for (const parsed of lists)
    await importList(db, { companyId: company.id, userId: admin.id }, parsed, { source: 'shipped' })
  // Listed individuals, written "First Last", for one client in 200.
  const listed = lists
    .flatMap((l) => l.entries)
    .filter((e) => e.schema === 'individual')
    .map((e) => e.name.split(', ').reverse().join(' '))
    .slice(0, 2000)
  await db.raw(
    `INSERT INTO entities (company_id, kind, name, owner_user_id, status, date_of_birth, nationality,
                           country_of_incorporation)
     SELECT ?, CASE WHEN g % 3 = 0 THEN 'organisation' ELSE 'individual' END,
            CASE WHEN g % 200 = 0 THEN (?::text[])[1 + (g / 200) % cardinality(?::text[])]
                 WHEN g % 3 = 0 THEN (?::text[])[1 + g % 25] || ' ' || (?::text[])[1 + g % 8] || ' Ltd'
                 ELSE (?::text[])[1 + g % 20] || ' ' || (?::text[])[1 + (g / 20) % 25] END,
            ?, 'serviced_client',
            CASE WHEN g % 3 <> 0 THEN date '1950-01-01' + (g % 18000) END,
            CASE WHEN g % 3 <> 0 THEN (ARRAY['GB', 'DE', 'FR', 'RU', 'CN', 'IN', 'NG', 'BR'])[1 + g % 8] END,
            CASE WHEN g % 3 = 0 THEN (ARRAY['GB', 'DE', 'AE', 'CY', 'US'])[1 + g % 5] END
     FROM generate_series(1, ?) g`,
    [company.id, listed, listed, LAST, TRADES, FIRST, LAST, admin.id, CLIENTS],
  )
  await db('companies')
    .where({ id: company.id })
    .update({ screening_credits: SEARCHES + 10 })
  await db.raw('ANALYZE')
  process.stderr.write(
    `seeded ${CLIENTS} clients and the lists in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  )
  await db.destroy()
}

async function measure(url: string): Promise<void> {
  const db = createDb(url)
  const company = await db('companies').where({ name: 'Screening Bench' }).first('id')
  const before = peakMb()
  const started = performance.now()
  // BENCH_MEMORY_LOG=1: the heap and resident memory every second of the run, to see where it goes.
  const log = process.env.BENCH_MEMORY_LOG
    ? setInterval(() => {
        const m = process.memoryUsage()
        process.stderr.write(
          `  rss ${Math.round(m.rss / 1e6)} MB, heap ${Math.round(m.heapUsed / 1e6)} of ${Math.round(m.heapTotal / 1e6)} MB\n`,
        )
      }, 1000)
    : undefined
  const run = await screenCompany(db, company.id)
  clearInterval(log)
  const nightlySeconds = (performance.now() - started) / 1000
  const nightlyPeak = peakMb()
  process.stderr.write(
    `nightly: ${run.screened} clients, ${run.searches} searches, ${nightlySeconds.toFixed(1)} s, peak ${nightlyPeak} MB\n`,
  )

  const app = await buildApp({ config: testConfig({ logLevel: 'warn', cacheTemplates: true }), db, logger: false })
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${port}`
  const page = await fetch(`${base}/login`)
  let cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] as string
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, email: 'bench-admin@bench.test', password: PASSWORD }),
  })
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
  const clients: string[] = await db('entities')
    .where({ company_id: company.id })
    .orderByRaw('random()')
    .limit(SEARCHES)
    .pluck('id')
  const times: number[] = []
  for (const [i, id] of clients.entries()) {
    const form = await (await fetch(`${base}/entities/${id}`, { headers: { cookie } })).text()
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(form)?.[1] ?? ''
    const t0 = performance.now()
    const res = await fetch(`${base}/entities/${id}/searches`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }),
    })
    const ms = performance.now() - t0
    if (res.status !== 303) throw new Error(`search ${i}: ${res.status} ${(await res.text()).slice(0, 300)}`)
    if (i >= 5) times.push(ms) // the first few warm the index cache and the statements
  }
  times.sort((a, b) => a - b)
  const at = (p: number) =>
    Math.round((times[Math.min(times.length - 1, Math.floor(p * times.length))] as number) * 10) / 10
  await app.close()
  await db.destroy()
  console.log(
    JSON.stringify({
      nightly: {
        clients: run.screened,
        searches: run.searches,
        seconds: Math.round(nightlySeconds * 10) / 10,
        peak_mb: nightlyPeak,
        mb_before: before,
      },
      manual_search_ms: { searches: times.length, p50: at(0.5), p95: at(0.95), max: at(1) },
    }),
  )
}

if (process.env.BENCH_MEASURE_URL) {
  await measure(process.env.BENCH_MEASURE_URL)
} else {
  const server = await prepareTestServer()
  try {
    await seed(server.adminUrl)
    const out = execFileSync('npx', ['tsx', '--expose-gc', 'scripts/bench-screening.ts'], {
      env: { ...process.env, BENCH_MEASURE_URL: withDatabase(server.adminUrl, NAME) },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 10 * 1024 * 1024,
    })
    process.stdout.write(out)
  } finally {
    await server.stop()
  }
}
