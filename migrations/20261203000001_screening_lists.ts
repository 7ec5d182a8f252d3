import type { Knex } from 'knex'

/**
 * Sanctions and PEP lists for the built-in screening provider (issue 14; src/screening/lists/).
 *
 * screening_list_versions: each import of a list into a company, with its source, the file's date, its
 * entry count and what changed against the version before. Importing a file whose entries are those of the
 * latest version records nothing (content_hash).
 *
 * screening_entries: every entry of every version, kept the way a temporal table keeps rows: an entry row
 * holds from the version it appeared or changed in (from_version) until the version it changed or left in
 * (to_version, NULL while current). So version n is the rows with from_version <= n < coalesce(to_version, ∞),
 * a search can name the versions it read, and an old match can still be shown as the list had it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE screening_list_versions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      -- The list's key: 'ofac-sdn', 'un', or an OpenSanctions collection's name.
      list text NOT NULL CHECK (list ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
      format text NOT NULL CHECK (format IN ('ofac-sdn', 'un', 'opensanctions')),
      version integer NOT NULL CHECK (version >= 1),
      -- The files it was read from, as named when imported.
      source text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
      file_date date,
      content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
      entry_count integer NOT NULL CHECK (entry_count >= 0),
      added integer NOT NULL CHECK (added >= 0),
      changed integer NOT NULL CHECK (changed >= 0),
      removed integer NOT NULL CHECK (removed >= 0),
      imported_by uuid REFERENCES users (id),
      imported_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, list, version),
      UNIQUE (company_id, id)
    );

    CREATE TABLE screening_entries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      list text NOT NULL,
      -- The list's own identifier (OFAC ent_num, UN DATAID, OpenSanctions id).
      entry_id text NOT NULL CHECK (length(entry_id) BETWEEN 1 AND 200),
      from_version integer NOT NULL,
      to_version integer CHECK (to_version > from_version),
      schema text NOT NULL CHECK (schema IN ('individual', 'organisation', 'vessel', 'aircraft')),
      name text NOT NULL,
      -- The rest of the entry as the importer read it (src/screening/lists/types.ts ListEntry).
      data jsonb NOT NULL,
      -- A digest of the entry's content: an import compares it to tell changed entries from unchanged ones.
      content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
      UNIQUE (company_id, list, entry_id, from_version),
      FOREIGN KEY (company_id, list, from_version) REFERENCES screening_list_versions (company_id, list, version)
        ON DELETE CASCADE
    );
    -- An entry is current in one row at most; this is also how screening reads a list now.
    CREATE UNIQUE INDEX screening_entries_current ON screening_entries (company_id, list, entry_id)
      WHERE to_version IS NULL;
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE screening_entries;
    DROP TABLE screening_list_versions;
  `)
}
