import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- Company settings of SPEC section 3 (Client relationships > Client access) and the digest hour.
    ALTER TABLE companies
      ADD COLUMN client_access_enabled boolean NOT NULL DEFAULT false,
      ADD COLUMN allow_access_requests boolean NOT NULL DEFAULT false,
      ADD COLUMN allow_sharing boolean NOT NULL DEFAULT false,
      ADD COLUMN default_access text NOT NULL DEFAULT 'company' CHECK (default_access IN ('company', 'owner')),
      ADD COLUMN digest_hour smallint NOT NULL DEFAULT 7 CHECK (digest_hour BETWEEN 0 AND 23);

    -- Whether a client's sharing has been set up. A client that never was gets a whole-company share
    -- when client access is switched on; one that was keeps its configuration (SPEC: nothing is lost).
    ALTER TABLE entities ADD COLUMN sharing_initialised boolean NOT NULL DEFAULT false;

    CREATE TABLE groups (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id),
      name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, id)
    );
    CREATE UNIQUE INDEX groups_name_key ON groups (company_id, lower(name));

    CREATE TABLE group_members (
      company_id uuid NOT NULL,
      group_id uuid NOT NULL,
      user_id uuid NOT NULL,
      PRIMARY KEY (group_id, user_id),
      FOREIGN KEY (company_id, group_id) REFERENCES groups (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX group_members_user_idx ON group_members (user_id, group_id);

    -- One row per share: with one user, one group, or the whole company.
    CREATE TABLE client_shares (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      user_id uuid,
      group_id uuid,
      whole_company boolean NOT NULL DEFAULT false,
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (num_nonnulls(user_id, group_id) + whole_company::int = 1),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, group_id) REFERENCES groups (company_id, id) ON DELETE CASCADE
    );
    CREATE UNIQUE INDEX client_shares_company_key ON client_shares (entity_id) WHERE whole_company;
    CREATE UNIQUE INDEX client_shares_user_key ON client_shares (entity_id, user_id) WHERE user_id IS NOT NULL;
    CREATE UNIQUE INDEX client_shares_group_key ON client_shares (entity_id, group_id) WHERE group_id IS NOT NULL;
    CREATE INDEX client_shares_by_user_idx ON client_shares (user_id, entity_id) WHERE user_id IS NOT NULL;
    CREATE INDEX client_shares_by_group_idx ON client_shares (group_id, entity_id) WHERE group_id IS NOT NULL;
    CREATE INDEX entities_owner_idx ON entities (owner_user_id) WHERE deleted_at IS NULL;

    -- A user's "Receive daily digest" unticked for one client.
    CREATE TABLE digest_opt_outs (
      company_id uuid NOT NULL,
      user_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      PRIMARY KEY (user_id, entity_id),
      FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE
    );

    CREATE TABLE access_requests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      requester_id uuid NOT NULL,
      message text NOT NULL DEFAULT '' CHECK (length(message) <= 2000),
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'granted', 'declined')),
      decided_by uuid REFERENCES users (id),
      decided_at timestamptz,
      reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, requester_id) REFERENCES users (company_id, id) ON DELETE CASCADE
    );
    CREATE UNIQUE INDEX access_requests_pending_key ON access_requests (entity_id, requester_id) WHERE status = 'pending';
    CREATE INDEX access_requests_company_idx ON access_requests (company_id, status, created_at DESC);

    -- Which company's digest ran for which local day: the first process to claim a row sends it.
    CREATE TABLE digest_runs (
      company_id uuid NOT NULL REFERENCES companies (id),
      day date NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      PRIMARY KEY (company_id, day)
    );
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE digest_runs, access_requests, digest_opt_outs, client_shares, group_members, groups;
    DROP INDEX entities_owner_idx;
    ALTER TABLE entities DROP COLUMN sharing_initialised;
    ALTER TABLE companies DROP COLUMN client_access_enabled, DROP COLUMN allow_access_requests,
      DROP COLUMN allow_sharing, DROP COLUMN default_access, DROP COLUMN digest_hour;
  `)
}
