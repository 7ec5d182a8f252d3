import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- Sessions live in the database so that signing a user out works across every server process.
    CREATE TABLE sessions (
      sid text PRIMARY KEY,
      user_id uuid REFERENCES users (id) ON DELETE CASCADE,
      company_id uuid REFERENCES companies (id) ON DELETE CASCADE,
      data jsonb NOT NULL,
      user_agent text,
      ip text,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX sessions_user_idx ON sessions (user_id);
    CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

    -- Every login attempt, for throttling by account and by address (not tenant data: the address
    -- tried may belong to no company).
    CREATE TABLE login_attempts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL,
      ip text NOT NULL,
      succeeded boolean NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX login_attempts_email_idx ON login_attempts (lower(email), created_at);
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE login_attempts; DROP TABLE sessions;')
}
