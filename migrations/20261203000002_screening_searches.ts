import type { Knex } from 'knex'

/**
 * Screening searches (issue 14; src/screening/).
 *
 * - companies: whether four-eyes review is on, and the balance of provider credits manual searches spend.
 * - users.manual_search_budget: at most this many manual searches a calendar month (NULL: no limit).
 * - screening_profiles: which lists, the threshold, whether date of birth and country are used; one default.
 * - screening_searches: every search (automated, manual, one-time) with the query, a copy of the profile it
 *   used, the list versions it read, and its review: open, awaiting approval (four-eyes), closed. The same
 *   user never both checks and approves a search: a CHECK says so, whatever the code does.
 * - screening_matches: a search's potential matches, each with its explanation and its decision.
 * - screening_dismissals: a match resolved as false for a client, kept quiet while neither the client's
 *   name data (subject_hash) nor the list entry (entry_hash) changes.
 * - entity_screening: each client's screening state: what its last search found, and what the nightly run
 *   compares against to screen incrementally.
 * - entities.screening_sanctions_match / screening_pep_match: a confirmed true match, a fact the risk rules
 *   read (forced High); changing either marks the client's assessment for a recheck, as any fact does.
 * - screening_credit_ledger: every top-up and every credit spent, with the balance after it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE companies
      ADD COLUMN screening_four_eyes boolean NOT NULL DEFAULT false,
      ADD COLUMN screening_credits integer NOT NULL DEFAULT 0 CHECK (screening_credits >= 0);
    ALTER TABLE entities
      ADD COLUMN screening_sanctions_match boolean NOT NULL DEFAULT false,
      ADD COLUMN screening_pep_match boolean NOT NULL DEFAULT false;
    DROP TRIGGER entity_risk_entity_changed ON entities;
    CREATE TRIGGER entity_risk_entity_changed AFTER UPDATE ON entities FOR EACH ROW
      WHEN ((OLD.kind, OLD.legal_form, OLD.nationality, OLD.country_of_residence, OLD.country_of_incorporation,
             OLD.delivery_channel, OLD.volume_band, OLD.cash_intensive, OLD.pep, OLD.screening_sanctions_match,
             OLD.screening_pep_match)
            IS DISTINCT FROM
            (NEW.kind, NEW.legal_form, NEW.nationality, NEW.country_of_residence, NEW.country_of_incorporation,
             NEW.delivery_channel, NEW.volume_band, NEW.cash_intensive, NEW.pep, NEW.screening_sanctions_match,
             NEW.screening_pep_match))
      EXECUTE FUNCTION entity_risk_mark_entity();
    ALTER TABLE users
      ADD COLUMN manual_search_budget integer CHECK (manual_search_budget BETWEEN 0 AND 100000);

    CREATE TABLE screening_profiles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
      -- The lists searched (their keys); empty: every list the company has.
      lists text[] NOT NULL DEFAULT '{}',
      threshold numeric(4, 3) NOT NULL CHECK (threshold BETWEEN 0.5 AND 1),
      use_birth_date boolean NOT NULL DEFAULT true,
      use_country boolean NOT NULL DEFAULT true,
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, id)
    );
    CREATE UNIQUE INDEX screening_profiles_name ON screening_profiles (company_id, lower(name));
    CREATE UNIQUE INDEX screening_profiles_one_default ON screening_profiles (company_id) WHERE is_default;

    CREATE TABLE screening_searches (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('automated', 'manual', 'one_time')),
      entity_id uuid,
      -- What was screened: {name, schema, birthDate?, country?}.
      query jsonb NOT NULL,
      profile_id uuid,
      -- The profile as it was when the search ran: {name, lists, threshold, useBirthDate, useCountry}.
      profile jsonb NOT NULL,
      -- The version of each list read: {"ofac-sdn": 3, "un": 1}.
      list_versions jsonb NOT NULL,
      match_count integer NOT NULL CHECK (match_count >= 0),
      top_score numeric(4, 3),
      status text NOT NULL CHECK (status IN ('clear', 'open', 'awaiting_approval', 'closed')),
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      checked_by uuid REFERENCES users (id),
      checked_at timestamptz,
      approved_by uuid REFERENCES users (id),
      approved_at timestamptz,
      sent_back_by uuid REFERENCES users (id),
      sent_back_reason text CHECK (length(sent_back_reason) <= 2000),
      closed_at timestamptz,
      UNIQUE (company_id, id),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, profile_id) REFERENCES screening_profiles (company_id, id) ON DELETE SET NULL (profile_id),
      CHECK ((kind = 'one_time') = (entity_id IS NULL)),
      CHECK (kind = 'automated' OR created_by IS NOT NULL),
      -- Four eyes: whoever approves a search is not whoever checked it.
      CHECK (approved_by IS NULL OR checked_by IS NULL OR approved_by <> checked_by),
      CHECK ((status = 'awaiting_approval') <= (checked_by IS NOT NULL))
    );
    CREATE INDEX screening_searches_by_entity ON screening_searches (company_id, entity_id, created_at DESC);
    CREATE INDEX screening_searches_by_status ON screening_searches (company_id, status, created_at DESC)
      WHERE status IN ('open', 'awaiting_approval');
    CREATE INDEX screening_searches_log ON screening_searches (company_id, created_at DESC);

    CREATE TABLE screening_matches (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      search_id uuid NOT NULL,
      list text NOT NULL,
      entry_id text NOT NULL,
      -- The entry as the search read it (its row of that list version).
      entry_row bigint NOT NULL REFERENCES screening_entries (id),
      entry_hash text NOT NULL,
      name text NOT NULL,
      topics text[] NOT NULL,
      score numeric(4, 3) NOT NULL CHECK (score BETWEEN 0 AND 1),
      explanation jsonb NOT NULL,
      decision text CHECK (decision IN ('true_match', 'false_match')),
      rationale text CHECK (length(rationale) <= 2000),
      decided_by uuid REFERENCES users (id),
      decided_at timestamptz,
      FOREIGN KEY (company_id, search_id) REFERENCES screening_searches (company_id, id) ON DELETE CASCADE,
      UNIQUE (search_id, list, entry_id),
      CHECK ((decision IS NULL) = (decided_by IS NULL) AND (decision IS NULL) = (rationale IS NULL))
    );
    CREATE INDEX screening_matches_by_search ON screening_matches (search_id, score DESC);

    CREATE TABLE screening_dismissals (
      company_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      list text NOT NULL,
      entry_id text NOT NULL,
      entry_hash text NOT NULL,
      subject_hash text NOT NULL,
      search_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (company_id, entity_id, list, entry_id),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, search_id) REFERENCES screening_searches (company_id, id) ON DELETE CASCADE
    );

    CREATE TABLE entity_screening (
      entity_id uuid PRIMARY KEY,
      company_id uuid NOT NULL,
      -- A digest of the name data screened (name, kind, date of birth, countries).
      subject_hash text NOT NULL,
      -- The matches of the last search, as [{list, entryId, entryHash, score}], and the search.
      outcome jsonb NOT NULL,
      last_search_id uuid,
      screened_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX entity_screening_by_company ON entity_screening (company_id);

    -- What the nightly run has screened every client against: each list's version and the profile.
    CREATE TABLE screening_runs (
      company_id uuid PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
      list_versions jsonb NOT NULL,
      profile_hash text NOT NULL,
      finished_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE screening_credit_ledger (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      change integer NOT NULL CHECK (change <> 0),
      balance_after integer NOT NULL CHECK (balance_after >= 0),
      reason text NOT NULL CHECK (reason IN ('top_up', 'manual_search')),
      note text CHECK (length(note) <= 500),
      search_id uuid,
      user_id uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, search_id) REFERENCES screening_searches (company_id, id) ON DELETE SET NULL (search_id)
    );
    CREATE INDEX screening_credit_ledger_by_company ON screening_credit_ledger (company_id, created_at DESC);
    CREATE INDEX screening_credit_ledger_by_user ON screening_credit_ledger (company_id, user_id, created_at)
      WHERE reason = 'manual_search';
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE screening_credit_ledger;
    DROP TABLE screening_runs;
    DROP TABLE entity_screening;
    DROP TABLE screening_dismissals;
    DROP TABLE screening_matches;
    DROP TABLE screening_searches;
    DROP TABLE screening_profiles;
    ALTER TABLE users DROP COLUMN manual_search_budget;
    DROP TRIGGER entity_risk_entity_changed ON entities;
    ALTER TABLE entities DROP COLUMN screening_sanctions_match, DROP COLUMN screening_pep_match;
    CREATE TRIGGER entity_risk_entity_changed AFTER UPDATE ON entities FOR EACH ROW
      WHEN ((OLD.kind, OLD.legal_form, OLD.nationality, OLD.country_of_residence, OLD.country_of_incorporation,
             OLD.delivery_channel, OLD.volume_band, OLD.cash_intensive, OLD.pep)
            IS DISTINCT FROM
            (NEW.kind, NEW.legal_form, NEW.nationality, NEW.country_of_residence, NEW.country_of_incorporation,
             NEW.delivery_channel, NEW.volume_band, NEW.cash_intensive, NEW.pep))
      EXECUTE FUNCTION entity_risk_mark_entity();
    ALTER TABLE companies DROP COLUMN screening_four_eyes, DROP COLUMN screening_credits;
  `)
}
