import type { Knex } from 'knex'

/**
 * One index over all the shares of a client, carrying the columns the access rule tests, so the rule reads a
 * client's shares (whole company, users, groups) in one index-only probe instead of one probe per kind.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'CREATE INDEX client_shares_by_entity_idx ON client_shares (entity_id) INCLUDE (whole_company, user_id, group_id)',
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX client_shares_by_entity_idx')
}
