import type { Knex } from 'knex'

/**
 * Country lists and each client's risk state (issue 13; src/risk/).
 *
 * country_lists: a company's versions of the FATF and EU lists the rules read. A version is never changed;
 * an edit is the next version, with its source, its "as at" day and what changed. An assessment names the
 * versions it was made with.
 *
 * entity_risk: each assessed client's current state, for the client list to filter and sort by without
 * evaluating rules: the current assessment's classification and review day, the classification that
 * applies now (the recommendation, once an override has ended), and whether the rules recommend something
 * else now ("out of date"). Triggers mark a client for a recheck in the transaction of any change to what
 * the rules read of it; src/risk/risk-state.ts rechecks marked clients (at once after a save, by the
 * risk.recheck job, and before the list filters by it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE country_lists (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      key text NOT NULL CHECK (key IN ('fatf_call_for_action', 'fatf_increased_monitoring', 'eu_high_risk')),
      version integer NOT NULL CHECK (version >= 1),
      as_at date NOT NULL,
      source text NOT NULL CHECK (length(trim(source)) BETWEEN 1 AND 500),
      source_url text CHECK (length(source_url) <= 500),
      -- ISO 3166-1 alpha-2 codes, sorted, each once.
      countries text[] NOT NULL CHECK (array_to_string(countries, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*|)$'),
      -- What changed and why (NULL for the version shipped with KYC Desk).
      note text CHECK (length(note) <= 2000),
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, key, version)
    );

    ALTER TABLE risk_assessments ADD COLUMN country_list_versions jsonb NOT NULL DEFAULT '{}';

    CREATE TABLE entity_risk (
      entity_id uuid PRIMARY KEY,
      company_id uuid NOT NULL,
      assessment_id uuid NOT NULL REFERENCES risk_assessments (id) ON DELETE CASCADE,
      -- The current assessment's: what was saved, its review day, an override's end.
      saved_classification text NOT NULL CHECK (saved_classification IN ('low', 'medium', 'high')),
      review_due_on date NOT NULL,
      override_expires_on date,
      -- As of the last check: the recommendation now, whether it differs from the assessment's, whether the
      -- override has ended, and so the classification that applies.
      recommended_classification text NOT NULL CHECK (recommended_classification IN ('low', 'medium', 'high')),
      out_of_date boolean NOT NULL DEFAULT false,
      override_ended boolean NOT NULL DEFAULT false,
      classification text NOT NULL CHECK (classification IN ('low', 'medium', 'high')),
      needs_check boolean NOT NULL DEFAULT false,
      checked_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE
    );
    -- The list's filters and orders, within a company.
    CREATE INDEX entity_risk_by_classification ON entity_risk (company_id, classification);
    CREATE INDEX entity_risk_by_review ON entity_risk (company_id, review_due_on);
    CREATE INDEX entity_risk_out_of_date ON entity_risk (company_id) WHERE out_of_date;
    -- What a recheck finds: marked clients, and overrides that end.
    CREATE INDEX entity_risk_to_check ON entity_risk (company_id) WHERE needs_check;
    CREATE INDEX entity_risk_override_ends ON entity_risk (company_id, override_expires_on)
      WHERE override_expires_on IS NOT NULL AND NOT override_ended;

    -- A change to what the rules read of a client marks it for a recheck.
    CREATE FUNCTION entity_risk_mark_entity() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE entity_risk SET needs_check = true WHERE entity_id = NEW.id AND NOT needs_check;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_risk_entity_changed AFTER UPDATE ON entities FOR EACH ROW
      WHEN ((OLD.kind, OLD.legal_form, OLD.nationality, OLD.country_of_residence, OLD.country_of_incorporation,
             OLD.delivery_channel, OLD.volume_band, OLD.cash_intensive, OLD.pep)
            IS DISTINCT FROM
            (NEW.kind, NEW.legal_form, NEW.nationality, NEW.country_of_residence, NEW.country_of_incorporation,
             NEW.delivery_channel, NEW.volume_band, NEW.cash_intensive, NEW.pep))
      EXECUTE FUNCTION entity_risk_mark_entity();

    CREATE FUNCTION entity_risk_mark_allocation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE entity_risk SET needs_check = true
      WHERE entity_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.entity_id ELSE NEW.entity_id END) AND NOT needs_check;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_risk_service_allocated AFTER INSERT OR DELETE ON entity_services FOR EACH ROW
      EXECUTE FUNCTION entity_risk_mark_allocation();

    CREATE FUNCTION entity_risk_mark_service() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE entity_risk r SET needs_check = true
      FROM entity_services a WHERE a.service_id = NEW.id AND r.entity_id = a.entity_id AND NOT r.needs_check;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_risk_service_changed AFTER UPDATE OF risk_level ON services FOR EACH ROW
      WHEN (OLD.risk_level IS DISTINCT FROM NEW.risk_level)
      EXECUTE FUNCTION entity_risk_mark_service();

    -- Clients assessed before this migration: their current assessment, to be checked.
    INSERT INTO entity_risk (entity_id, company_id, assessment_id, saved_classification, review_due_on,
      override_expires_on, recommended_classification, classification, needs_check)
    SELECT DISTINCT ON (a.entity_id) a.entity_id, a.company_id, a.id, a.classification, a.review_due_on,
      a.override_expires_on, a.recommendation->>'classification', a.classification, true
    FROM risk_assessments a ORDER BY a.entity_id, a.created_at DESC, a.id DESC;
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER entity_risk_service_changed ON services;
    DROP TRIGGER entity_risk_service_allocated ON entity_services;
    DROP TRIGGER entity_risk_entity_changed ON entities;
    DROP FUNCTION entity_risk_mark_service();
    DROP FUNCTION entity_risk_mark_allocation();
    DROP FUNCTION entity_risk_mark_entity();
    DROP TABLE entity_risk;
    ALTER TABLE risk_assessments DROP COLUMN country_list_versions;
    DROP TABLE country_lists;
  `)
}
