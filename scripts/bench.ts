/**
 * `npm run bench` — the client list at scale (issue: client access, fast at 100,000 clients).
 *
 * Seeds, unless already seeded, a persistent embedded PostgreSQL under .data/bench-postgres (or the
 * database of BENCH_DATABASE_URL): company "Bench 100k" (100,000 clients, 2,000 users, 200 groups of
 * 5–50 members; each client shared with 0–3 groups and 0–2 users, 10 % with the whole company) and
 * "Bench 10k" (the same shape with 10,000 clients). Client access is on in both. Then it serves the app
 * on a free port and loads it with autocannon (a separate process) per scenario, BENCH_ROUNDS rounds of
 * BENCH_SECONDS each (default 5 × 5 s, scenarios interleaved), and prints one JSON line last with the
 * medians: {"scenarios": {"<name>": {"rps", "p50_ms", "p99_ms", "ratio_to_baseline"}}, "csv": {…}}; each ratio
 * is the median of the per-round ratios to that round's baseline. DB_READ_LANE=off runs it without the read lane.
 *
 * Reports (issue 16): "Bench 100k" also gets what the Reports tab reads (seedReports: View Reports for the
 * restricted reader, countries, risk states, audit events, screening searches, portal requests), and each report
 * page is a scenario for the administrator and the restricted reader (report_<key>_admin_100k,
 * report_<key>_restricted_100k, report_risk_filtered_restricted_100k). After the rounds, the whole client list
 * is exported as CSV (GET /entities.csv) by each of them while this process's memory is sampled every 20 ms:
 * "csv": {"admin_100k"|"restricted_100k": {rows, seconds, rss_before_mb, rss_peak_mb, rss_growth_mb, …}}.
 * BENCH_ONLY=a,b,… measures only those scenarios (and the baseline); add "csv" to it to export too.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { buildApp } from '../src/app.js'
import { hashPassword } from '../src/auth/passwords.js'
import { ROOT_DIR, readLaneFrom } from '../src/config.js'
import { ensureDatabase } from '../src/db/connect.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'
import { createDb, type Db, migrateLatest } from '../src/db/knex.js'
import { REPORT_KEYS } from '../src/reports/queries.js'
import { DEFAULT_RULE_SET } from '../src/risk/default-rules.js'
import { evaluate, type Recommendation, type RiskFacts } from '../src/risk/evaluate.js'
import { currentRuleSet, resultOf } from '../src/risk/service.js'
import { defaultProfile, snapshotOf } from '../src/screening/profiles.js'
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

/** The risk facts and their evaluation under the shipped rule set, one per kind and classification. */
function assessmentTemplates() {
  const templates: { kind: string; classification: string; facts: RiskFacts; recommendation: Recommendation }[] = []
  for (const kind of ['individual', 'organisation'] as const) {
    const plain: RiskFacts = {
      kind,
      legal_form: kind === 'organisation' ? 'private limited company' : null,
      nationality: kind === 'individual' ? 'GB' : null,
      residence: kind === 'individual' ? 'GB' : null,
      incorporation: kind === 'organisation' ? 'GB' : null,
      nationality_lists: [],
      residence_lists: [],
      incorporation_lists: [],
      country_lists: [],
      service_risks: [],
      highest_service_risk: 'none',
      delivery_channel: 'face_to_face',
      volume_band: 'under_10k',
      cash_intensive: false,
      pep: false,
      sanctions_match: false,
    }
    const variants: RiskFacts[] = [
      plain,
      {
        ...plain,
        legal_form: kind === 'organisation' ? 'trust' : null,
        delivery_channel: 'intermediary',
        volume_band: 'over_1m',
        cash_intensive: true,
        service_risks: ['high'],
        highest_service_risk: 'high',
      },
      { ...plain, pep: true },
    ]
    for (const facts of variants) {
      const recommendation = evaluate(DEFAULT_RULE_SET, facts)
      if (!templates.some((t) => t.kind === kind && t.classification === recommendation.classification))
        templates.push({ kind, classification: recommendation.classification, facts, recommendation })
    }
  }
  if (templates.length !== 6) throw new Error('the assessment templates do not give low, medium and high per kind')
  return templates.map((t) => ({ ...t, result: resultOf(t.recommendation) }))
}

/**
 * What the Reports tab (issue 16) reads, for one seeded company: View Reports for the restricted reader; a
 * country for 92 % of the clients; a current risk assessment (and its entity_risk state) for 85 %, with
 * varied classification, review day and out-of-date flag; about 200,000 audit trail events about clients over
 * the last 12 weeks; open, awaiting-approval and clear screening searches; portal requests in every state.
 * Set-based, in one transaction, skipped when the company's clients already have a risk state.
 */
async function seedReports(db: Db, name: string): Promise<void> {
  const company = await db('companies').where({ name }).first('id')
  const slug = name.replace(/\W/g, '').toLowerCase()
  await db.raw(
    `INSERT INTO user_permissions (company_id, user_id, permission)
     SELECT company_id, id, 'view_reports' FROM users WHERE company_id = ? AND email = ? ON CONFLICT DO NOTHING`,
    [company.id, `${slug}-user2@bench.test`],
  )
  if (await db('entity_risk').where({ company_id: company.id }).first('entity_id')) return
  const started = Date.now()
  const admin = await db('users')
    .where({ email: `${slug}-user1@bench.test` })
    .first('id')
  await db.transaction(async (trx) => {
    await trx.raw('SELECT setseed(0.16)')
    // Countries first: a change of country marks a client's risk state for a recheck (a trigger), and the
    // states below are inserted as checked.
    await trx.raw(
      `UPDATE entities e
       SET country_of_residence = CASE WHEN e.kind = 'individual' THEN x.c END,
           country_of_incorporation = CASE WHEN e.kind = 'organisation' THEN x.c END
       FROM (
         SELECT id, CASE WHEN random() < 0.92 THEN
           (ARRAY['GB','GB','GB','GB','GB','GB','IE','DE','FR','NL','US','US','ES','IT','CH','LU','CY','AE','SG',
                  'HK','PL','PT','IN','ZA','KY'])[1 + floor(random() * 25)::int] END AS c
         FROM entities WHERE company_id = ?
       ) x
       WHERE e.id = x.id AND x.c IS NOT NULL`,
      [company.id],
    )
    const ruleSet = await currentRuleSet(trx, company.id)
    await trx.raw(
      `WITH picked AS MATERIALIZED (
         SELECT id, company_id, kind, random() AS assessed, random() AS c, random() AS due, random() AS made
         FROM entities WHERE company_id = ?
       )
       INSERT INTO risk_assessments (company_id, entity_id, rule_set_id, facts, recommendation, result,
                                     classification, review_due_on, created_by, created_at)
       SELECT p.company_id, p.id, ?, t.facts, t.recommendation, t.result, t.classification,
              (now() AT TIME ZONE 'UTC')::date - 120 + floor(p.due * 1200)::int, ?,
              now() - make_interval(days => floor(p.made * 700)::int)
       FROM picked p
       JOIN jsonb_to_recordset(?::jsonb) AS t(kind text, classification text, facts jsonb, recommendation jsonb,
                                              result jsonb)
         ON t.kind = p.kind
        AND t.classification = CASE WHEN p.c < 0.6 THEN 'low' WHEN p.c < 0.9 THEN 'medium' ELSE 'high' END
       WHERE p.assessed < 0.85`,
      [company.id, ruleSet.id, admin.id, JSON.stringify(assessmentTemplates())],
    )
    await trx.raw(
      `WITH picked AS MATERIALIZED (
         SELECT a.*, random() < 0.06 AS stale FROM risk_assessments a WHERE a.company_id = ?
       )
       INSERT INTO entity_risk (entity_id, company_id, assessment_id, saved_classification, review_due_on,
                                recommended_classification, out_of_date, classification, needs_check)
       SELECT entity_id, company_id, id, classification, review_due_on,
              CASE WHEN NOT stale THEN classification WHEN classification = 'medium' THEN 'high' ELSE 'medium' END,
              stale, classification, false
       FROM picked`,
      [company.id],
    )
    // 0–4 events per client (2 on average), spread over the last 12 weeks.
    await trx.raw(
      `INSERT INTO audit_log (company_id, actor_user_id, action, target_type, target_id, created_at)
       SELECT e.company_id, ?, 'entity.updated', 'entity', e.id::text, now() - random() * interval '84 days'
       FROM entities e CROSS JOIN LATERAL generate_series(1, abs(hashtext(e.id::text)) % 5) k
       WHERE e.company_id = ?`,
      [admin.id, company.id],
    )
    const profile = await defaultProfile(trx, company.id)
    await trx.raw(
      `WITH picked AS MATERIALIZED (
         SELECT id, company_id, name, kind, random() AS r, now() - random() * interval '60 days' AS at
         FROM entities WHERE company_id = ?
       )
       INSERT INTO screening_searches (company_id, kind, entity_id, query, profile_id, profile, list_versions,
                                       match_count, top_score, status, created_at, checked_by, checked_at,
                                       closed_at)
       SELECT company_id, 'automated', id,
              jsonb_build_object('name', name, 'schema', CASE kind WHEN 'individual' THEN 'Person' ELSE 'Organization' END),
              ?, ?::jsonb, '{}'::jsonb,
              CASE WHEN r < 0.04 THEN 1 + floor(r * 75)::int ELSE 0 END,
              CASE WHEN r < 0.04 THEN 0.85 END,
              CASE WHEN r < 0.032 THEN 'open' WHEN r < 0.04 THEN 'awaiting_approval' ELSE 'clear' END,
              at,
              CASE WHEN r >= 0.032 AND r < 0.04 THEN ?::uuid END,
              CASE WHEN r >= 0.032 AND r < 0.04 THEN at + interval '1 hour' END,
              CASE WHEN r >= 0.04 THEN at END
       FROM picked WHERE r < 0.2`,
      [company.id, profile.id, JSON.stringify(snapshotOf(profile)), admin.id],
    )
    await trx.raw(
      `WITH picked AS MATERIALIZED (
         SELECT id, company_id,
                (ARRAY['sent','opened','draft','submitted','approved','updates_requested','revoked'])
                  [1 + floor(random() * 7)::int] AS status,
                now() - random() * interval '40 days' AS at
         FROM entities WHERE company_id = ? AND random() < 0.03
       )
       INSERT INTO portal_requests (company_id, entity_id, email, schema, token_hash, status, expires_at,
                                    created_by, created_at, link_sent_at, opened_at, submitted_at, decided_at,
                                    decided_by, revoked_at, revoked_by)
       SELECT company_id, id, 'client-' || left(id::text, 8) || '@bench.test', '{}'::jsonb,
              md5(random()::text) || md5(random()::text), status, at + interval '14 days', ?, at, at,
              CASE WHEN status <> 'sent' THEN at + interval '1 day' END,
              CASE WHEN status IN ('submitted', 'approved', 'updates_requested') THEN at + interval '2 days' END,
              CASE WHEN status IN ('approved', 'updates_requested') THEN at + interval '3 days' END,
              CASE WHEN status IN ('approved', 'updates_requested') THEN ?::uuid END,
              CASE WHEN status = 'revoked' THEN at + interval '3 days' END,
              CASE WHEN status = 'revoked' THEN ?::uuid END
       FROM picked`,
      [company.id, admin.id, admin.id, admin.id],
    )
  })
  await db.raw('ANALYZE')
  process.stderr.write(`seeded the reports of ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}

await seedCompany(db, 'Bench 100k', 100_000)
await seedCompany(db, 'Bench 10k', 10_000)
await seedReports(db, 'Bench 100k')

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
// Each report of the Reports tab (issue 16), for the administrator and for the restricted reader.
for (const key of REPORT_KEYS) {
  plan[`report_${key}_admin_100k`] = [`/reports/${key}`, cookies.admin100k]
  plan[`report_${key}_restricted_100k`] = [`/reports/${key}`, cookies.reader100k]
}
plan.report_risk_filtered_restricted_100k = ['/reports/risk?status=prospect&from=2020-01-01', cookies.reader100k]
// BENCH_ONLY=list_admin_100k,… measures only those scenarios (and the baseline), e.g. under --cpu-prof; "csv"
// among them runs the CSV export too.
const only = process.env.BENCH_ONLY?.split(',')
const chosen = Object.entries(plan).filter(([name]) => !only || name === 'baseline' || only.includes(name))
for (const [name, [url, cookie]] of chosen) if (name.startsWith('report_')) await warm(url, cookie)
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

interface CsvMemory {
  rows: number
  seconds: number
  rss_before_mb: number
  rss_peak_mb: number
  rss_growth_mb: number
  heap_before_mb: number
  heap_peak_mb: number
}
/**
 * Downloads the whole client list as CSV (GET /entities.csv, no filter) and reads it to the end, while
 * sampling this process's memory every 20 ms: the server runs in this process, so its growth is the
 * export's (plus the few kilobytes the reading side holds at a time).
 */
async function csvMemory(cookie: string): Promise<CsvMemory> {
  const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10
  // Collect the rounds' garbage first, so that "before" is what the server holds, not what it would free.
  collectGarbage()
  await new Promise((resolve) => setTimeout(resolve, 200))
  collectGarbage()
  const before = process.memoryUsage()
  let rssPeak = before.rss
  let heapPeak = before.heapUsed
  const sample = () => {
    const now = process.memoryUsage()
    rssPeak = Math.max(rssPeak, now.rss)
    heapPeak = Math.max(heapPeak, now.heapUsed)
  }
  const timer = setInterval(sample, 20)
  const started = performance.now()
  let lines = 0
  try {
    const res = await fetch(`${base}/entities.csv`, { headers: { cookie } })
    if (res.status !== 200 || !res.body) throw new Error(`/entities.csv: ${res.status}`)
    for await (const chunk of res.body) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
    }
  } finally {
    clearInterval(timer)
  }
  const seconds = (performance.now() - started) / 1000
  sample()
  return {
    rows: lines - 1, // less the header
    seconds: Math.round(seconds * 100) / 100,
    rss_before_mb: mb(before.rss),
    rss_peak_mb: mb(rssPeak),
    rss_growth_mb: mb(rssPeak - before.rss),
    heap_before_mb: mb(before.heapUsed),
    heap_peak_mb: mb(heapPeak),
  }
}
// A full collection, whether or not node runs with --expose-gc (npm run bench does not).
v8.setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
// BENCH_ONLY without "csv" leaves the export out.
const csv: Record<string, CsvMemory> = {}
if (!only || only.includes('csv')) {
  for (const [name, cookie] of [
    ['admin_100k', cookies.admin100k],
    ['restricted_100k', cookies.reader100k],
  ] as const) {
    csv[name] = await csvMemory(cookie)
    process.stderr.write(`csv ${name}: ${JSON.stringify(csv[name])}\n`)
  }
}

await app.close()
await db.destroy()
await stopPostgres()
process.stdout.write(`${JSON.stringify({ scenarios, csv })}\n`)
