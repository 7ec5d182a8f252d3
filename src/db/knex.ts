import path from 'node:path'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { ROOT_DIR } from '../config.js'

// Return bigint counts as numbers (our counts stay far below 2^53) and dates as Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = Knex

export function createDb(connectionString: string, pool = { min: 0, max: 10 }): Db {
  return knexFactory({ client: 'pg', connection: connectionString, pool })
}

export const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(ROOT_DIR, 'migrations'),
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
}

/** Runs every pending migration; knex's migration lock keeps two processes from racing. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]]
  return applied
}
