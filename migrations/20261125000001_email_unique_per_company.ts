import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- SPEC section 1: an email address is unique within a company, not across the deployment. A person may
    -- be a user of two companies; a deployment-wide key let one company learn another's users.
    DROP INDEX users_email_key;
    CREATE UNIQUE INDEX users_company_email_key ON users (company_id, lower(email));
    -- Sign-in looks up every account of an address.
    CREATE INDEX users_email_idx ON users (lower(email));
    -- Throttling by address as well as by account (growing delays, src/auth/throttle.ts).
    CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, created_at);
    -- An attempt refused unheard (while its address had to wait): it lengthens that address's wait, but
    -- is no guess at the account, so it does not slow the account's owner down.
    ALTER TABLE login_attempts ADD COLUMN throttled boolean NOT NULL DEFAULT false;
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE login_attempts DROP COLUMN throttled;
    DROP INDEX login_attempts_ip_idx;
    DROP INDEX users_email_idx;
    DROP INDEX users_company_email_key;
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));
  `)
}
