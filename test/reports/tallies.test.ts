/**
 * The facts and tallies the Reports count from (migrations/20261205000001_report_tallies.ts) are always what
 * counting the clients afresh gives: after random sequences of every change that moves a client between
 * them (new clients, status, type, country, owner, assessment saved, reclassified or removed, shared with the
 * whole company and not, recycle bin and back, deleted outright, audit trail events), and after racing
 * transactions that change clients and record events about them at once.
 */
import fc from 'fast-check'
import t from 'tap'
import type { Db } from '../../src/db/knex.js'
import { testDatabase } from '../helpers/database.js'
import { anEntity } from '../helpers/entities.js'
import { aUser, type Company, twoCompanies, type User } from '../helpers/factories.js'
import { assess } from '../helpers/risk.js'

/** Every tally recounted from the source tables, and the kept one, as sorted lines of text. */
async function compare(db: Db, companyId: string) {
  const live = `
    SELECT e.id, e.company_id, e.owner_user_id, e.status, e.kind,
           coalesce(coalesce(e.country_of_residence, e.country_of_incorporation)::text, '') AS country,
           coalesce(er.classification, 'none') AS classification, coalesce(er.out_of_date, false) AS out_of_date,
           er.review_due_on, EXISTS (SELECT 1 FROM client_shares s WHERE s.entity_id = e.id AND s.whole_company) AS shared
    FROM entities e LEFT JOIN entity_risk er ON er.entity_id = e.id
    WHERE e.company_id = ? AND e.deleted_at IS NULL`
  const pairs: [string, string][] = [
    [
      `SELECT shared, status, kind, country, classification, out_of_date, count(*)::int AS n FROM (${live}) c
       GROUP BY 1, 2, 3, 4, 5, 6`,
      `SELECT shared, status, kind, country, classification, out_of_date, n FROM client_tallies
       WHERE company_id = ? AND n <> 0`,
    ],
    [
      `SELECT shared, review_due_on::text, status, classification, count(*)::int AS n FROM (${live}) c
       WHERE review_due_on IS NOT NULL GROUP BY 1, 2, 3, 4`,
      `SELECT shared, review_due_on::text, status, classification, n FROM client_review_tallies
       WHERE company_id = ? AND n <> 0`,
    ],
    [
      `SELECT shared, owner_user_id, count(*)::int AS n FROM (${live}) c GROUP BY 1, 2`,
      `SELECT shared, owner_user_id, n FROM client_owner_tallies WHERE company_id = ? AND n <> 0`,
    ],
    [
      `SELECT c.shared, ((a.created_at AT TIME ZONE 'UTC')::date)::text AS day, count(*)::int AS n FROM (${live}) c
       JOIN audit_log a ON a.company_id = c.company_id AND a.target_type = 'entity' AND a.target_id = c.id::text
       GROUP BY 1, 2`,
      `SELECT shared, day::text, n FROM client_activity_days WHERE company_id = ? AND n <> 0`,
    ],
  ]
  const lines = async (sql: string) =>
    ((await db.raw(sql, [companyId])).rows as Record<string, unknown>[]).map((r) => JSON.stringify(r)).sort()
  const recounted: string[][] = []
  const kept: string[][] = []
  for (const [fresh, tally] of pairs) {
    recounted.push(await lines(fresh))
    kept.push(await lines(tally))
  }
  return { recounted, kept }
}

type Op =
  | { op: 'new'; kind: 'individual' | 'organisation'; owner: number }
  | { op: 'status'; client: number; status: string }
  | { op: 'country'; client: number; country: string | null }
  | { op: 'owner'; client: number; owner: number }
  | { op: 'assess'; client: number; classification: 'low' | 'medium' | 'high'; day: number }
  | { op: 'reclassify'; client: number; classification: 'low' | 'medium' | 'high'; outOfDate: boolean }
  | { op: 'unassess'; client: number }
  | { op: 'share'; client: number }
  | { op: 'unshare'; client: number }
  | { op: 'bin'; client: number }
  | { op: 'restore'; client: number }
  | { op: 'purge'; client: number }
  | { op: 'event'; client: number; daysAgo: number }

const client = fc.nat({ max: 9 })
const classification = fc.constantFrom('low' as const, 'medium' as const, 'high' as const)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('new' as const),
    kind: fc.constantFrom('individual' as const, 'organisation' as const),
    owner: fc.nat({ max: 2 }),
  }),
  fc.record({
    op: fc.constant('status' as const),
    client,
    status: fc.constantFrom('prospect', 'serviced_client', 'former_client'),
  }),
  fc.record({ op: fc.constant('country' as const), client, country: fc.constantFrom('GB', 'DE', null) }),
  fc.record({ op: fc.constant('owner' as const), client, owner: fc.nat({ max: 2 }) }),
  fc.record({ op: fc.constant('assess' as const), client, classification, day: fc.integer({ min: -200, max: 200 }) }),
  fc.record({ op: fc.constant('reclassify' as const), client, classification, outOfDate: fc.boolean() }),
  fc.record({ op: fc.constant('unassess' as const), client }),
  fc.record({ op: fc.constant('share' as const), client }),
  fc.record({ op: fc.constant('unshare' as const), client }),
  fc.record({ op: fc.constant('bin' as const), client }),
  fc.record({ op: fc.constant('restore' as const), client }),
  fc.record({ op: fc.constant('purge' as const), client }),
  fc.record({ op: fc.constant('event' as const), client, daysAgo: fc.nat({ max: 30 }) }),
)

const DAY = 86_400_000
const dayOf = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10)

async function apply(db: Db, company: Company, owners: User[], clients: string[], op: Op) {
  const id = 'client' in op ? clients[op.client % Math.max(clients.length, 1)] : undefined
  if (op.op === 'new') {
    const e = await anEntity(db, { company, owner: owners[op.owner] as User, kind: op.kind })
    clients.push(e.id)
    return
  }
  if (!id) return
  const entity = await db('entities').where({ id }).first('kind')
  if (!entity) return
  switch (op.op) {
    case 'status':
      await db('entities').where({ id }).update({ status: op.status })
      return
    case 'country':
      await db('entities')
        .where({ id })
        .update({ [entity.kind === 'individual' ? 'country_of_residence' : 'country_of_incorporation']: op.country })
      return
    case 'owner':
      await db('entities')
        .where({ id })
        .update({ owner_user_id: (owners[op.owner] as User).id })
      return
    case 'assess':
      await db('entity_risk').where({ entity_id: id }).del()
      await assess(
        db,
        company,
        owners[0] as User,
        { id },
        { classification: op.classification, reviewDueOn: dayOf(op.day) },
      )
      return
    case 'reclassify':
      await db('entity_risk')
        .where({ entity_id: id })
        .update({ classification: op.classification, out_of_date: op.outOfDate })
      return
    case 'unassess':
      await db('entity_risk').where({ entity_id: id }).del()
      return
    case 'share':
      await db('client_shares')
        .insert({ company_id: company.id, entity_id: id, whole_company: true })
        .onConflict(db.raw('(entity_id, company_id) WHERE whole_company'))
        .ignore()
      return
    case 'unshare':
      await db('client_shares').where({ entity_id: id, whole_company: true }).del()
      return
    case 'bin':
      await db('entities').where({ id }).update({ deleted_at: db.fn.now() })
      return
    case 'restore':
      await db('entities').where({ id }).update({ deleted_at: null })
      return
    case 'purge':
      await db('entities').where({ id }).del()
      clients.splice(clients.indexOf(id), 1)
      return
    case 'event':
      await db('audit_log').insert({
        company_id: company.id,
        action: 'entity.updated',
        target_type: 'entity',
        target_id: id,
        created_at: new Date(Date.now() - op.daysAgo * DAY),
      })
      return
  }
}

t.test('the kept tallies equal a fresh count after random changes of every kind', async (t) => {
  const { db } = await testDatabase(t)
  let runs = 0
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
      const { company, admin } = await twoCompanies(db)
      const owners = [admin, await aUser(db, { company }), await aUser(db, { company })]
      const clients: string[] = []
      for (let i = 0; i < 3; i += 1)
        await apply(db, company, owners, clients, { op: 'new', kind: 'individual', owner: i })
      for (const op of ops) await apply(db, company, owners, clients, op)
      const { recounted, kept } = await compare(db, company.id)
      runs += 1
      if (JSON.stringify(recounted) !== JSON.stringify(kept)) {
        throw new Error(
          `after ${JSON.stringify(ops)}:\nrecounted ${JSON.stringify(recounted)}\nkept ${JSON.stringify(kept)}`,
        )
      }
    }),
    { numRuns: 100, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
  )
  t.equal(runs, 100, 'a hundred random histories, each ending with the tallies equal to a recount')
})

t.test('racing transactions leave the tallies equal to a recount', async (t) => {
  const { db } = await testDatabase(t)
  const { company, admin } = await twoCompanies(db)
  const clients: string[] = []
  for (let i = 0; i < 20; i += 1) clients.push((await anEntity(db, { company, owner: admin })).id)
  // As the app does: twenty transactions each move one client in or out of the count (recycle bin,
  // whole-company share) or to another bucket (status) and then record an event about it; at the same time
  // twenty others each record an event about every client.
  const event = (target: string) => ({
    company_id: company.id,
    action: 'entity.viewed',
    target_type: 'entity',
    target_id: target,
  })
  await Promise.all([
    ...clients.map((id, i) =>
      db.transaction(async (trx) => {
        if (i % 3 === 0) await trx('entities').where({ id }).update({ deleted_at: trx.fn.now() })
        else if (i % 3 === 1)
          await trx('client_shares').insert({ company_id: company.id, entity_id: id, whole_company: true })
        else await trx('entities').where({ id }).update({ status: 'serviced_client' })
        await trx('audit_log').insert(event(id))
      }),
    ),
    ...clients.map(() => db.transaction(async (trx) => trx('audit_log').insert(clients.map(event)))),
  ])
  const { recounted, kept } = await compare(db, company.id)
  t.same(kept, recounted, 'every tally equals the recount')
  const live = await db('client_tallies').where({ company_id: company.id }).sum('n as n').first()
  t.equal(Number(live?.n), 13, '13 of the 20 clients are live (7 went to the recycle bin)')
  const events = await db('client_activity_days').where({ company_id: company.id }).sum('n as n').first()
  t.equal(Number(events?.n), 13 * 20 + 13, 'the events about the 13 live clients count: 20 each, and their own move')
})

t.test('a client changed through two tables at once keeps the facts of both changes', async (t) => {
  const { db } = await testDatabase(t)
  const { company, admin } = await twoCompanies(db)
  const clients: string[] = []
  for (let i = 0; i < 10; i += 1) {
    const e = await anEntity(db, { company, owner: admin })
    await assess(db, company, admin, e, { classification: 'low', reviewDueOn: dayOf(100) })
    clients.push(e.id)
  }
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  // For each client: one transaction moves it to the recycle bin (or changes its status) and holds on a
  // moment; meanwhile another reclassifies it, reading the client before the first has committed.
  await Promise.all(
    clients.flatMap((id, i) => [
      db.transaction(async (trx) => {
        if (i % 2 === 0) await trx('entities').where({ id }).update({ deleted_at: trx.fn.now() })
        else await trx('entities').where({ id }).update({ status: 'former_client' })
        await trx.raw('SELECT pg_sleep(0.2)')
      }),
      pause(50).then(() =>
        db.transaction(async (trx) => {
          await trx('entity_risk').where({ entity_id: id }).update({ classification: 'high' })
        }),
      ),
    ]),
  )
  const { recounted, kept } = await compare(db, company.id)
  t.same(kept, recounted, 'every tally equals the recount')
  const facts = await db('client_report_facts').where({ company_id: company.id }).orderBy('status')
  t.equal(facts.length, 5, 'the five clients in the recycle bin have no facts')
  t.ok(
    facts.every((f) => f.status === 'former_client' && f.classification === 'high'),
    'the other five have both changes: the status and the classification',
  )
})
