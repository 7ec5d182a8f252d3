import type { Knex } from 'knex'

/**
 * Single sign-on with OpenID Connect, per company (issue 17): the company's provider (its issuer URL, and the
 * client id and secret KYC Desk was registered with), and whether passwords are off for the company's users
 * (SSO only) except one break-glass administrator's.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE company_sso (
      company_id uuid PRIMARY KEY REFERENCES companies (id),
      issuer text NOT NULL CHECK ((issuer LIKE 'https://%' OR issuer LIKE 'http://%') AND length(issuer) <= 500),
      client_id text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
      client_secret text NOT NULL CHECK (length(client_secret) BETWEEN 1 AND 500),
      sso_only boolean NOT NULL DEFAULT false,
      break_glass_user_id uuid,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by uuid,
      FOREIGN KEY (company_id, break_glass_user_id) REFERENCES users (company_id, id),
      FOREIGN KEY (company_id, updated_by) REFERENCES users (company_id, id),
      CHECK (NOT sso_only OR break_glass_user_id IS NOT NULL)
    );
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE company_sso')
}
