import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- A public handle for a session: the sid itself is a bearer secret and never leaves the server.
    ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
    CREATE UNIQUE INDEX sessions_id_key ON sessions (id);

    -- Single-use, expiring links to set a first password. Only a hash of the token is stored.
    CREATE TABLE user_invitations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      user_id uuid NOT NULL,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX user_invitations_user_idx ON user_invitations (user_id);

    -- The transactional outbox: a message is written in the same transaction as the change that causes
    -- it; a worker delivers it. dedupe_key makes a message idempotent (one digest per user and day).
    CREATE TABLE outbox_emails (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id uuid NOT NULL REFERENCES companies (id),
      to_address text NOT NULL,
      subject text NOT NULL,
      body_text text NOT NULL,
      dedupe_key text UNIQUE,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error text,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((status = 'sent') = (sent_at IS NOT NULL))
    );
    CREATE INDEX outbox_emails_due_idx ON outbox_emails (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_emails_company_idx ON outbox_emails (company_id, created_at DESC);
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE outbox_emails; DROP TABLE user_invitations;
    DROP INDEX sessions_id_key; ALTER TABLE sessions DROP COLUMN id;
  `)
}
