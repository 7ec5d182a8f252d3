import type { Knex } from 'knex'

/**
 * Forgotten passwords (issue 17). A request from the sign-in page is one row of password_reset_requests,
 * whether or not the address has an account, so the page answers the same in the same time; the job
 * auth.password_resets turns each into a link for every active account of that address (one per company),
 * unless the address or the client asked too often. A link's token exists only in the email: password_resets
 * keeps its SHA-256 hash, its expiry, and when it was used (once).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE password_reset_requests (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL CHECK (length(email) <= 254),
      ip text NOT NULL,
      -- Too many requests for this address or from this client: recorded, answered the same, not sent.
      throttled boolean NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      handled_at timestamptz
    );
    CREATE INDEX password_reset_requests_by_email ON password_reset_requests (lower(email), created_at);
    CREATE INDEX password_reset_requests_by_ip ON password_reset_requests (ip, created_at);
    CREATE INDEX password_reset_requests_pending ON password_reset_requests (id) WHERE handled_at IS NULL;

    CREATE TABLE password_resets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id),
      user_id uuid NOT NULL,
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX password_resets_by_user ON password_resets (company_id, user_id) WHERE used_at IS NULL;
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE password_resets, password_reset_requests')
}
