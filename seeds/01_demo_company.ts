import path from 'node:path'
import type { Knex } from 'knex'
import { loadConfig } from '../src/config.js'
import { FileSystemStorage } from '../src/storage/document-storage.js'
import { seedDemoCompany } from '../src/seed/demo.js'

/** The demo company of `npm start` (also run by `npm run seed`). Idempotent. */
export async function seed(knex: Knex): Promise<void> {
  await seedDemoCompany(knex, new FileSystemStorage(path.join(loadConfig().dataDir, 'documents')))
}
