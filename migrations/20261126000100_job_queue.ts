import type { Knex } from 'knex'
import PgBoss from 'pg-boss'

/**
 * The job queue's tables (pg-boss, schema `pgboss`; src/jobs/queue.ts). pg-boss would create them itself
 * on its first start; creating them here instead means every database the app migrates has them (the test
 * template and every test database copied from it too), so the Background jobs page and the tests can read
 * them whether or not a queue was ever started. pg-boss's own statements run as they are: they take pg-boss's
 * advisory lock and their own transaction, hence no knex transaction around them. A later pg-boss release
 * migrates these tables forward on its start (it keeps its version in pgboss.version).
 */
export const config = { transaction: false }

export async function up(knex: Knex): Promise<void> {
  const installed = await knex.raw("SELECT to_regclass('pgboss.version') AS name")
  if (installed.rows[0]?.name) return
  await knex.raw(PgBoss.getConstructionPlans('pgboss'))
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP SCHEMA IF EXISTS pgboss CASCADE')
}
