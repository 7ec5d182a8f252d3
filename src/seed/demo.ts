import type { PermissionKey } from '../access/permissions.js'
import { hashPassword, verifyPassword } from '../auth/passwords.js'
import type { Db } from '../db/knex.js'
import type { DocumentStorage } from '../storage/document-storage.js'
import { seedDemoEntities, seedDemoRisk } from './demo-entities.js'
import { seedDemoPortal } from './demo-portal.js'
import { seedDemoScreening } from './demo-screening.js'

export const DEMO_COMPANY = 'Demo Accounting LLP'

/** One demo user for each typical permission profile. Passwords are public: this is demo data. */
export const DEMO_USERS: {
  profile: string
  name: string
  email: string
  password: string
  permissions: PermissionKey[]
}[] = [
  {
    profile: 'administrator',
    name: 'Ada Administrator',
    email: 'admin@demo.test',
    password: 'demo-admin-pass',
    permissions: ['system_administrator'],
  },
  {
    profile: 'user manager',
    name: 'Ulrich Usermanager',
    email: 'users@demo.test',
    password: 'demo-users-pass',
    permissions: ['manage_user_accounts', 'signout_users', 'read_data'],
  },
  {
    profile: 'compliance officer',
    name: 'Chloe Compliance',
    email: 'compliance@demo.test',
    password: 'demo-compliance-pass',
    permissions: [
      'manage_external_searches',
      'manual_external_searches',
      'override_risk_assessments',
      'check_entity_external_searches',
      'approve_entity_external_searches',
      'edit_entities',
      'upload_entity_documents',
      'download_entity_documents',
      'view_reports',
      'create_one_time_searches',
      'manage_self_service_requests',
      'approve_self_service_submissions',
    ],
  },
  {
    profile: 'read-only',
    name: 'Rory Reader',
    email: 'reader@demo.test',
    password: 'demo-reader-pass',
    permissions: ['read_data'],
  },
]

/** Creates the demo company, its users and clients once; does nothing when it already exists. */
export async function seedDemoCompany(
  db: Db,
  storage: DocumentStorage,
  publicUrl = 'http://localhost:3000',
): Promise<void> {
  await db.transaction(async (trx) => {
    // Serialises concurrent starts: only one process seeds.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['kyc-demo-seed'])
    if (await trx('companies').where({ name: DEMO_COMPANY }).first()) return
    const [company] = await trx('companies').insert({ name: DEMO_COMPANY, time_zone: 'Europe/London' }).returning('id')
    const userIds: string[] = []
    for (const u of DEMO_USERS) {
      const [user] = await trx('users')
        .insert({ company_id: company.id, name: u.name, email: u.email, password_hash: await hashPassword(u.password) })
        .returning('id')
      userIds.push(user.id)
      await trx('user_permissions').insert(
        u.permissions.map((permission) => ({ company_id: company.id, user_id: user.id, permission })),
      )
    }
    // Owners: the administrator and the compliance officer.
    await seedDemoEntities(
      trx,
      storage,
      company.id,
      [userIds[0], userIds[2]].filter((id): id is string => Boolean(id)),
    )
    await seedDemoRisk(trx, company.id, userIds[2] as string)
  })
  // Screening reads committed clients and runs its own transactions (as the nightly job does): it is seeded
  // after them, under a lock of its own, and also for a demo company made before screening existed.
  await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['kyc-demo-screening-seed'])
    const company: string | undefined = (await trx('companies').where({ name: DEMO_COMPANY }).first('id'))?.id
    if (!company || (await trx('screening_list_versions').where({ company_id: company }).first('id'))) return
    const userId = async (email: string) =>
      (await trx('users').where({ company_id: company, email }).first('id'))?.id as string | undefined
    const [admin, compliance] = [await userId('admin@demo.test'), await userId('compliance@demo.test')]
    if (admin && compliance) await seedDemoScreening(db, company, { admin, compliance })
  })
  // The portal, likewise: its own services and transactions, under a lock, once.
  await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['kyc-demo-portal-seed'])
    const company: string | undefined = (await trx('companies').where({ name: DEMO_COMPANY }).first('id'))?.id
    if (!company || (await trx('portal_settings').where({ company_id: company }).first('company_id'))) return
    const userId = async (email: string) =>
      (await trx('users').where({ company_id: company, email }).first('id'))?.id as string | undefined
    const [admin, compliance] = [await userId('admin@demo.test'), await userId('compliance@demo.test')]
    if (admin && compliance) await seedDemoPortal(db, storage, company, { admin, compliance }, publicUrl)
  })
}

/** The demo logins that still work (a changed password is not printed). */
export async function demoLogins(db: Db): Promise<typeof DEMO_USERS> {
  const rows: { email: string; password_hash: string | null }[] = await db('users')
    .join('companies', 'companies.id', 'users.company_id')
    .where('companies.name', DEMO_COMPANY)
    .andWhere('users.active', true)
    .select('users.email', 'users.password_hash')
  const hashes = new Map(rows.map((r) => [r.email, r.password_hash]))
  const checks = await Promise.all(
    DEMO_USERS.map(async (u) =>
      hashes.has(u.email) ? verifyPassword(hashes.get(u.email) ?? null, u.password) : false,
    ),
  )
  return DEMO_USERS.filter((_, i) => checks[i])
}
