import type { Knex } from 'knex'

/**
 * Risk assessments (SPEC §4, issue 13; src/risk/). A company's rule sets are versions: the published ones
 * are never changed (an assessment names the version it was made with); at most one draft is being
 * edited. Every saved assessment is kept: the facts it read, the recommendation, the result (which an
 * override may differ from), who and when.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- What the rules read of a client beyond its form so far.
    ALTER TABLE entities
      ADD COLUMN delivery_channel text CHECK (delivery_channel IN ('face_to_face', 'remote_verified', 'intermediary')),
      ADD COLUMN volume_band text CHECK (volume_band IN ('under_10k', '10k_100k', '100k_1m', 'over_1m')),
      ADD COLUMN cash_intensive boolean NOT NULL DEFAULT false,
      ADD COLUMN pep boolean NOT NULL DEFAULT false;

    CREATE TABLE risk_rule_sets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      -- 1, 2, 3… once published; NULL while it is the company's draft.
      version integer CHECK (version >= 1),
      definition jsonb NOT NULL,
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      published_by uuid REFERENCES users (id),
      published_at timestamptz,
      CHECK ((version IS NULL) = (published_at IS NULL)),
      UNIQUE (company_id, version),
      UNIQUE (company_id, id)
    );
    CREATE UNIQUE INDEX risk_rule_sets_one_draft ON risk_rule_sets (company_id) WHERE version IS NULL;

    CREATE TABLE risk_assessments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      entity_id uuid NOT NULL,
      rule_set_id uuid NOT NULL,
      -- What the rules read, what they recommended (risk/evaluate.ts Recommendation), and what was saved:
      -- {"pillars": {"customer": 3, …}, "overall": 4.2, "classification": "low"}.
      facts jsonb NOT NULL,
      recommendation jsonb NOT NULL,
      result jsonb NOT NULL,
      classification text NOT NULL CHECK (classification IN ('low', 'medium', 'high')),
      -- An override: which scores or the classification were changed, and why (required).
      overridden boolean NOT NULL DEFAULT false,
      rationale text CHECK (length(rationale) <= 4000),
      -- After this day the recommendation applies again (an override only).
      override_expires_on date,
      review_due_on date NOT NULL,
      created_by uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (NOT overridden OR length(trim(rationale)) >= 1),
      CHECK (overridden OR (rationale IS NULL AND override_expires_on IS NULL)),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, rule_set_id) REFERENCES risk_rule_sets (company_id, id)
    );
    -- A client's assessments, newest first: its current one is the first.
    CREATE INDEX risk_assessments_by_entity ON risk_assessments (entity_id, created_at DESC, id DESC);
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE risk_assessments;
    DROP TABLE risk_rule_sets;
    ALTER TABLE entities DROP COLUMN delivery_channel, DROP COLUMN volume_band, DROP COLUMN cash_intensive,
      DROP COLUMN pep;
  `)
}
