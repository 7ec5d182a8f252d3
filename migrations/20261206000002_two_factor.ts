import type { Knex } from 'knex'

/**
 * Two-factor sign-in with TOTP (RFC 6238; issue 17). An account's authenticator secret is kept in user_totp,
 * unconfirmed until the user types a code it makes; last_time_step is the newest 30-second step a code was
 * accepted for, so each code is accepted once (a conditional update decides between racing requests). Ten
 * recovery codes per account, stored as SHA-256, each used once. Every failed code is counted in
 * second_factor_attempts, which the sign-in reads to make the next try wait. A company may require a second
 * factor of its System Administrators or of everyone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- Who must sign in with a second factor: nobody, the System Administrators, or everyone.
    ALTER TABLE companies ADD COLUMN two_factor_required text NOT NULL DEFAULT 'off'
      CHECK (two_factor_required IN ('off', 'administrators', 'everyone'));

    CREATE TABLE user_totp (
      user_id uuid PRIMARY KEY,
      company_id uuid NOT NULL,
      secret text NOT NULL,
      confirmed_at timestamptz,
      last_time_step bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
    );

    CREATE TABLE user_recovery_codes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      user_id uuid NOT NULL,
      code_hash text NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE,
      UNIQUE (user_id, code_hash)
    );

    CREATE TABLE second_factor_attempts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      ip text NOT NULL,
      succeeded boolean NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX second_factor_attempts_by_user ON second_factor_attempts (user_id, created_at);
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE second_factor_attempts, user_recovery_codes, user_totp;
    ALTER TABLE companies DROP COLUMN two_factor_required;
  `)
}
