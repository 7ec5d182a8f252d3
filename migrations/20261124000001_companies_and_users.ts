import type { Knex } from 'knex'
import { PERMISSION_KEYS } from '../src/access/permissions.js'

const permissionList = PERMISSION_KEYS.map((k) => `'${k}'`).join(', ')

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE companies (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (length(trim(name)) > 0),
      time_zone text NOT NULL DEFAULT 'UTC',
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id),
      name text NOT NULL CHECK (length(trim(name)) > 0),
      email text NOT NULL CHECK (email ~ '^[^@\\s]+@[^@\\s]+$'),
      password_hash text,
      active boolean NOT NULL DEFAULT true,
      share_all_clients boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, id)
    );
    -- One login address for one person across the whole deployment: login is by email alone.
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));
    CREATE INDEX users_company_idx ON users (company_id, lower(name));

    -- Granted permissions only; implied ones are computed (src/access/permissions.ts).
    CREATE TABLE user_permissions (
      company_id uuid NOT NULL,
      user_id uuid NOT NULL,
      permission text NOT NULL CHECK (permission IN (${permissionList})),
      granted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, permission),
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX user_permissions_company_idx ON user_permissions (company_id, permission);
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE user_permissions; DROP TABLE users; DROP TABLE companies;')
}
