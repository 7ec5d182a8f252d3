/**
 * `npm run bench:risk` — a dry run of a draft rule set over 100,000 clients (issue 13: at most 10 s on the
 * project's machine). Seeds, in a database of its own, 100,000 clients with varied risk facts and a third of
 * them with services, then times dryRun() for an administrator (every client accessible) with the default
 * rule set published and a draft that takes the highest pillar: BENCH_RUNS runs (default 3), each printed,
 * and one JSON line last with the median.
 */
import { performance } from 'node:perf_hooks'
import { DEFAULT_RULE_SET } from '../src/risk/default-rules.js'
import { dryRun } from '../src/risk/rule-sets.js'
import { currentRuleSet } from '../src/risk/service.js'
import type { CurrentUser } from '../src/types.js'
import { aCompany, aUser } from '../test/helpers/factories.js'
import { benchDatabase, prepareTestServer } from './test-database.js'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

const server = await prepareTestServer()
const db = await benchDatabase(server.adminUrl, 'kyc_bench_risk')
const company = await aCompany(db, 'Risk Firm')
const admin = await aUser(db, { company, permissions: ['system_administrator'] })
const seedStart = performance.now()
await db.raw(
  `INSERT INTO entities (company_id, kind, name, owner_user_id, status, legal_form, delivery_channel, volume_band,
                         cash_intensive, pep)
   SELECT ?, CASE WHEN g % 2 = 0 THEN 'individual' ELSE 'organisation' END, 'Client ' || g, ?, 'prospect',
          CASE WHEN g % 2 = 1 THEN (ARRAY['Trust', 'Private limited company', NULL])[1 + g % 3] END,
          (ARRAY['face_to_face', 'remote_verified', 'intermediary', NULL])[1 + g % 4],
          (ARRAY['under_10k', '10k_100k', '100k_1m', 'over_1m', NULL])[1 + g % 5],
          g % 13 = 0, g % 37 = 0
   FROM generate_series(1, ?) g`,
  [company.id, admin.id, CLIENTS],
)
const services = await db('services')
  .insert(
    (['low', 'medium', 'high'] as const).map((risk, i) => ({
      company_id: company.id,
      name: `Service ${i}`,
      risk_level: risk,
    })),
  )
  .returning('id')
await db.raw(
  `INSERT INTO entity_services (company_id, entity_id, service_id)
   SELECT e.company_id, e.id, (?::uuid[])[1 + (row_number() OVER ()) % 3]
   FROM entities e WHERE e.company_id = ? AND random() < 0.33`,
  [services.map((s: { id: string }) => s.id), company.id],
)
await db.raw('ANALYZE')
process.stderr.write(`seeded ${CLIENTS} clients in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`)

const user = {
  id: admin.id,
  companyId: company.id,
  permissions: new Set(['system_administrator']),
  shareAllClients: false,
  company: { clientAccessEnabled: true },
} as unknown as CurrentUser
const published = (await currentRuleSet(db, company.id)).definition
const draft = { ...DEFAULT_RULE_SET, aggregation: 'maximum' as const }
const seconds: number[] = []
let last: Awaited<ReturnType<typeof dryRun>> | undefined
for (let run = 1; run <= RUNS; run++) {
  const started = performance.now()
  last = await dryRun(db, user, published, draft)
  seconds.push((performance.now() - started) / 1000)
  process.stderr.write(
    `run ${run}: ${(seconds.at(-1) as number).toFixed(2)} s, ${last.clients} clients, ${last.changed} change\n`,
  )
}
const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)] as number
console.log(
  JSON.stringify({
    dry_run: { clients: last?.clients, changed: last?.changed, before: last?.before, after: last?.after },
    seconds: seconds.map((s) => Math.round(s * 100) / 100),
    median_seconds: Math.round(median * 100) / 100,
  }),
)
await db.destroy()
await server.stop()
