import type { Knex } from 'knex'
import { seedDemoCompany } from '../src/seed/demo.js'

/** The demo company of `npm start` (also run by `npm run seed`). Idempotent. */
export async function seed(knex: Knex): Promise<void> {
  await seedDemoCompany(knex)
}
