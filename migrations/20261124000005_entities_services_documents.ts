import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    -- Client relationships. A soft-deleted entity (deleted_at set) is in the recycle bin and nowhere else.
    CREATE TABLE entities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id),
      kind text NOT NULL CHECK (kind IN ('individual', 'organisation')),
      name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 300),
      date_of_birth date,
      nationality char(2),
      country_of_residence char(2),
      registration_number text,
      country_of_incorporation char(2),
      legal_form text,
      owner_user_id uuid NOT NULL,
      status text NOT NULL CHECK (status IN ('prospect', 'serviced_client', 'one_off_service', 'former_client')),
      notes text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      deleted_by uuid REFERENCES users (id),
      UNIQUE (company_id, id),
      FOREIGN KEY (company_id, owner_user_id) REFERENCES users (company_id, id),
      CHECK (kind = 'individual' OR (date_of_birth IS NULL AND nationality IS NULL AND country_of_residence IS NULL)),
      CHECK (kind = 'organisation' OR (registration_number IS NULL AND country_of_incorporation IS NULL AND legal_form IS NULL))
    );
    -- The list: one index per sort order, live entities only, so a page costs what its rows cost.
    CREATE INDEX entities_by_name_idx ON entities (company_id, lower(name), id) WHERE deleted_at IS NULL;
    CREATE INDEX entities_by_change_idx ON entities (company_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
    -- Name search: trigrams, so '%part%' uses an index instead of a sequential scan.
    CREATE INDEX entities_name_trgm_idx ON entities USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;
    CREATE INDEX entities_deleted_idx ON entities (company_id, deleted_at DESC) WHERE deleted_at IS NOT NULL;

    CREATE TABLE services (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id),
      name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
      risk_level text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high')),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, id)
    );
    CREATE UNIQUE INDEX services_name_key ON services (company_id, lower(name));

    CREATE TABLE entity_services (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      service_id uuid NOT NULL,
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (entity_id, service_id),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, service_id) REFERENCES services (company_id, id)
    );

    -- Documents: the bytes live in storage under storage_key (never derived from the original name).
    CREATE TABLE documents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      original_name text NOT NULL CHECK (length(original_name) BETWEEN 1 AND 255),
      media_type text NOT NULL,
      size_bytes bigint NOT NULL CHECK (size_bytes > 0),
      sha256 text NOT NULL,
      storage_key text NOT NULL UNIQUE,
      uploaded_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      deleted_by uuid REFERENCES users (id),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX documents_entity_idx ON documents (entity_id, created_at DESC);
    CREATE INDEX documents_deleted_idx ON documents (company_id, deleted_at DESC) WHERE deleted_at IS NOT NULL;

    -- Bytes whose rows are gone, to be removed from storage after the transaction commits (and retried
    -- by a sweep if that fails): a row never points at missing bytes, and no bytes stay without a row.
    CREATE TABLE storage_deletions (
      storage_key text PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE storage_deletions, documents, entity_services, services, entities;')
}
