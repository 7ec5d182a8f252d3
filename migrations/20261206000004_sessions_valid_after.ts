import type { Knex } from 'knex'

/**
 * "Every session ended" that stays ended (issue 17): deleting a user's sessions is not enough when one of
 * their requests is still running, since that request writes its session back when it ends. From
 * sessions_valid_after on, a session that started earlier is refused wherever it comes from.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP COLUMN sessions_valid_after')
}
