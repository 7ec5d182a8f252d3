/**
 * The access rule, proven: for random companies, the SQL predicate (both directions) agrees with a small,
 * obviously-correct model of SPEC section 3 for every user and client. And the check has teeth: with
 * any one access path dropped from the SQL, fast-check finds a company where they disagree.
 */
import fc from 'fast-check'
import t from 'tap'
import {
  ACCESS_PATHS,
  type AccessPath,
  type AccessSubject,
  countingParts,
  hasAccessSql,
  usersWithAccessSql,
} from '../../src/access/client-access.js'
import { effectivePermissions } from '../../src/access/permissions.js'
import type { Db } from '../../src/db/knex.js'
import { testDatabase } from '../helpers/database.js'

interface Model {
  enabled: boolean
  users: { admin: boolean; shareAll: boolean; active: boolean }[]
  groups: number[][] // member user indexes
  clients: { owner: number; wholeCompany: boolean; users: number[]; groups: number[] }[]
}

/** SPEC section 3, written as plainly as possible. */
function modelHasAccess(m: Model, u: number, c: number): boolean {
  const user = m.users[u] as Model['users'][number]
  const client = m.clients[c] as Model['clients'][number]
  if (!m.enabled) return true
  return (
    user.admin ||
    client.owner === u ||
    user.shareAll ||
    client.wholeCompany ||
    client.users.includes(u) ||
    client.groups.some((g) => (m.groups[g] as number[]).includes(u))
  )
}

const companyArb: fc.Arbitrary<Model> = fc
  .record({
    nUsers: fc.integer({ min: 1, max: 6 }),
    nGroups: fc.integer({ min: 0, max: 3 }),
    nClients: fc.integer({ min: 1, max: 5 }),
  })
  .chain(({ nUsers, nGroups, nClients }) =>
    fc.record({
      enabled: fc.boolean(),
      users: fc.array(
        fc.record({
          admin: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
          shareAll: fc.boolean(),
          active: fc.boolean(),
        }),
        { minLength: nUsers, maxLength: nUsers },
      ),
      groups: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: nUsers - 1 }), { maxLength: nUsers }), {
        minLength: nGroups,
        maxLength: nGroups,
      }),
      clients: fc.array(
        fc.record({
          owner: fc.integer({ min: 0, max: nUsers - 1 }),
          wholeCompany: fc.boolean(),
          users: fc.uniqueArray(fc.integer({ min: 0, max: nUsers - 1 }), { maxLength: 2 }),
          groups:
            nGroups === 0
              ? fc.constant([])
              : fc.uniqueArray(fc.integer({ min: 0, max: nGroups - 1 }), { maxLength: 3 }),
        }),
        { minLength: nClients, maxLength: nClients },
      ),
    }),
  )

let seq = 0
/** Writes the model as one company; returns the ids. */
async function insertCompany(db: Db, m: Model) {
  seq += 1
  const [company] = await db('companies')
    .insert({ name: `P${seq}`, client_access_enabled: m.enabled })
    .returning('id')
  const users: { id: string }[] = await db('users')
    .insert(
      m.users.map((u, i) => ({
        company_id: company.id,
        name: `U${i}`,
        email: `p${seq}u${i}@x.test`,
        active: u.active,
        share_all_clients: u.shareAll,
      })),
    )
    .returning('id')
  const admins = users.filter((_, i) => m.users[i]?.admin)
  if (admins.length > 0) {
    await db('user_permissions').insert(
      admins.map((u) => ({ company_id: company.id, user_id: u.id, permission: 'system_administrator' })),
    )
  }
  const groups: { id: string }[] = m.groups.length
    ? await db('groups')
        .insert(m.groups.map((_, i) => ({ company_id: company.id, name: `G${i}` })))
        .returning('id')
    : []
  const members = m.groups.flatMap((g, gi) =>
    g.map((u) => ({ company_id: company.id, group_id: groups[gi]?.id, user_id: users[u]?.id })),
  )
  if (members.length) await db('group_members').insert(members)
  const clients: { id: string }[] = await db('entities')
    .insert(
      m.clients.map((c, i) => ({
        company_id: company.id,
        kind: 'individual',
        name: `C${i}`,
        owner_user_id: users[c.owner]?.id,
        status: 'prospect',
      })),
    )
    .returning('id')
  const shares = m.clients.flatMap((c, ci) => [
    ...(c.wholeCompany ? [{ company_id: company.id, entity_id: clients[ci]?.id, whole_company: true }] : []),
    ...c.users.map((u) => ({ company_id: company.id, entity_id: clients[ci]?.id, user_id: users[u]?.id })),
    ...c.groups.map((g) => ({ company_id: company.id, entity_id: clients[ci]?.id, group_id: groups[g]?.id })),
  ])
  if (shares.length) await db('client_shares').insert(shares)
  return { companyId: company.id as string, users: users.map((u) => u.id), clients: clients.map((c) => c.id) }
}

/** Every (user, client) pair: the forward predicate (as the request user) and the reverse one. */
async function sqlMatrices(
  db: Db,
  m: Model,
  ids: Awaited<ReturnType<typeof insertCompany>>,
  paths: readonly AccessPath[],
) {
  const forward: boolean[][] = []
  for (const [u, userId] of ids.users.entries()) {
    const subject: AccessSubject = {
      id: userId,
      companyId: ids.companyId,
      permissions: effectivePermissions(m.users[u]?.admin ? ['system_administrator'] : []),
      shareAllClients: Boolean(m.users[u]?.shareAll),
      company: { clientAccessEnabled: m.enabled, allowSharing: false, allowAccessRequests: false },
    }
    const rows: { id: string; ok: boolean }[] = await db('entities as e')
      .where('e.company_id', ids.companyId)
      .select('e.id', db.raw('? AS ok', [hasAccessSql(db, subject, 'e', paths)]))
    forward.push(ids.clients.map((c) => Boolean(rows.find((r) => r.id === c)?.ok)))
    // The rule split for counting (the Reports) has disjoint parts that are, together, the same clients.
    const counted: string[] = []
    for (const part of countingParts(db, subject, 'f', paths)) {
      const partIds: { id: string }[] = await db('client_report_facts as f')
        .where('f.company_id', ids.companyId)
        .where(part.where)
        .select('f.id')
      counted.push(...partIds.map((r) => r.id))
    }
    const open = rows.filter((r) => r.ok).map((r) => r.id)
    if (counted.length !== new Set(counted).size || [...counted].sort().join() !== [...open].sort().join())
      throw new Error(`the counting parts give ${counted.length} clients, the rule ${open.length}`)
  }
  const reverse: boolean[][] = ids.users.map(() => [])
  for (const [c, clientId] of ids.clients.entries()) {
    const rows: { id: string }[] = await db('users as u')
      .join('companies as c', 'c.id', 'u.company_id')
      .where('u.company_id', ids.companyId)
      .where(usersWithAccessSql(db, clientId))
      .select('u.id')
    for (const [u, userId] of ids.users.entries()) (reverse[u] as boolean[])[c] = rows.some((r) => r.id === userId)
  }
  return { forward, reverse }
}

t.test('the SQL access rule agrees with the model of SPEC section 3 over 500 random companies', async (t) => {
  const { db } = await testDatabase(t)
  let checked = 0
  await fc.assert(
    fc.asyncProperty(companyArb, async (m) => {
      const ids = await insertCompany(db, m)
      const { forward, reverse } = await sqlMatrices(db, m, ids, ACCESS_PATHS)
      const expected = m.users.map((_, u) => m.clients.map((_, c) => modelHasAccess(m, u, c)))
      checked += m.users.length * m.clients.length
      return (
        JSON.stringify(forward) === JSON.stringify(expected) && JSON.stringify(reverse) === JSON.stringify(expected)
      )
    }),
    { numRuns: 500, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
  )
  t.ok(checked > 1000, `${checked} user × client pairs agreed`)
})

t.test('dropping any one access path from the SQL is caught', async (t) => {
  const { db } = await testDatabase(t)
  for (const dropped of ACCESS_PATHS) {
    const paths = ACCESS_PATHS.filter((p) => p !== dropped)
    const result = await fc.check(
      fc.asyncProperty(companyArb, async (m) => {
        const ids = await insertCompany(db, m)
        const { forward } = await sqlMatrices(db, m, ids, paths)
        return (
          JSON.stringify(forward) ===
          JSON.stringify(m.users.map((_, u) => m.clients.map((_, c) => modelHasAccess(m, u, c))))
        )
      }),
      { numRuns: 300, seed: 42 },
    )
    t.ok(result.failed, `without the ${dropped} path the property fails (counterexample after ${result.numRuns} runs)`)
  }
})
