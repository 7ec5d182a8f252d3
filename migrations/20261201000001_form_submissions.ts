import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- One rendered form, one record (src/plugins/app/form-once.ts): the first request with a form's key
    -- claims it for its route; a repeat is sent where the first was sent (location), never run again.
    CREATE TABLE form_submissions (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      form_key uuid NOT NULL,
      route text NOT NULL,
      location text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, form_key, route)
    );
    -- The sweep deletes claims older than a day.
    CREATE INDEX form_submissions_created_idx ON form_submissions (created_at);
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE form_submissions')
}
