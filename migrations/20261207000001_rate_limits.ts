import type { Knex } from 'knex'

/**
 * Rate-limit counters in PostgreSQL (issue 18), so that every app process behind a load balancer counts
 * against the same limit: one row per route and client address, its count and when its window ends. A
 * global table (no company_id): a limit is counted before anyone is signed in. Expired rows are swept by
 * the job `rate_limits.sweep`. UNLOGGED: no write-ahead log for counters that only matter for a minute (lost
 * in a crash, they give that minute's grace).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNLOGGED TABLE rate_limit_hits (
      key text PRIMARY KEY,
      count integer NOT NULL,
      expires_at timestamptz NOT NULL
    )`)
  await knex.raw('CREATE INDEX rate_limit_hits_expiry ON rate_limit_hits (expires_at)')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE rate_limit_hits')
}
