import type { Knex } from 'knex'

/**
 * The self-service portal (issue 15). A portal request is sent to a client's email address with a link whose
 * token only the email holds: the request keeps its SHA-256 hash. Opening the link and pressing Continue starts
 * a portal session (its own cookie, its own table), bound to that one request. The client's answers are the
 * request's draft until submitted; each submission is kept with what staff decided about it. Uploads are kept
 * apart from the client's documents until a submission is approved, which files them.
 *
 * Every table carries company_id and its keys and references include it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE portal_settings (
      company_id uuid PRIMARY KEY REFERENCES companies (id),
      intro text NOT NULL DEFAULT '' CHECK (length(intro) <= 4000),
      contact text NOT NULL DEFAULT '' CHECK (length(contact) <= 1000),
      link_valid_days integer NOT NULL DEFAULT 14 CHECK (link_valid_days BETWEEN 1 AND 90),
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by uuid,
      FOREIGN KEY (company_id, updated_by) REFERENCES users (company_id, id)
    );

    -- One questionnaire per client kind, as JSON Schema; version counts its saves, so an editor working on
    -- an older one is refused instead of overwriting.
    CREATE TABLE portal_questionnaires (
      company_id uuid NOT NULL REFERENCES companies (id),
      kind text NOT NULL CHECK (kind IN ('individual', 'organisation')),
      schema jsonb NOT NULL,
      version integer NOT NULL DEFAULT 1,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by uuid,
      PRIMARY KEY (company_id, kind),
      FOREIGN KEY (company_id, updated_by) REFERENCES users (company_id, id)
    );

    -- A request's state as stored; 'expired' is not stored but read (src/portal/requests.ts): an unsubmitted
    -- request past expires_at. The questionnaire is copied as it was when sent, so editing it later changes
    -- no request under way.
    CREATE TABLE portal_requests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL REFERENCES companies (id),
      entity_id uuid NOT NULL,
      email text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
      message text NOT NULL DEFAULT '' CHECK (length(message) <= 4000),
      schema jsonb NOT NULL,
      token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      status text NOT NULL DEFAULT 'sent'
        CHECK (status IN ('sent', 'opened', 'draft', 'submitted', 'approved', 'updates_requested', 'revoked')),
      answers jsonb NOT NULL DEFAULT '{}',
      -- While updates are requested: what to change, by question key ('' for the submission as a whole).
      update_reasons jsonb NOT NULL DEFAULT '{}',
      expires_at timestamptz NOT NULL,
      -- Counts every change, for the forms that must not overwrite a newer state.
      version integer NOT NULL DEFAULT 1,
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      link_sent_at timestamptz NOT NULL DEFAULT now(),
      reminded_at timestamptz,
      opened_at timestamptz,
      submitted_at timestamptz,
      decided_at timestamptz,
      decided_by uuid,
      revoked_at timestamptz,
      revoked_by uuid,
      UNIQUE (company_id, id),
      FOREIGN KEY (company_id, entity_id) REFERENCES entities (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, created_by) REFERENCES users (company_id, id),
      FOREIGN KEY (company_id, decided_by) REFERENCES users (company_id, id),
      FOREIGN KEY (company_id, revoked_by) REFERENCES users (company_id, id),
      CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
    );
    CREATE INDEX portal_requests_entity_idx ON portal_requests (company_id, entity_id, created_at DESC);
    CREATE INDEX portal_requests_submitted_idx ON portal_requests (company_id, submitted_at) WHERE status = 'submitted';
    -- The reminder job's search: unsubmitted requests by expiry.
    CREATE INDEX portal_requests_open_idx ON portal_requests (expires_at)
      WHERE status IN ('sent', 'opened', 'draft', 'updates_requested');

    CREATE TABLE portal_submissions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      request_id uuid NOT NULL,
      n integer NOT NULL CHECK (n >= 1),
      answers jsonb NOT NULL,
      submitted_at timestamptz NOT NULL DEFAULT now(),
      decision text CHECK (decision IN ('approved', 'updates_requested')),
      reasons jsonb NOT NULL DEFAULT '{}',
      decided_by uuid,
      decided_at timestamptz,
      UNIQUE (company_id, request_id, n),
      FOREIGN KEY (company_id, request_id) REFERENCES portal_requests (company_id, id) ON DELETE CASCADE,
      FOREIGN KEY (company_id, decided_by) REFERENCES users (company_id, id),
      CHECK ((decision IS NULL) = (decided_at IS NULL))
    );

    -- A file the client uploaded; filed as one of the client's documents (document_id) when approved.
    CREATE TABLE portal_uploads (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      company_id uuid NOT NULL,
      request_id uuid NOT NULL,
      question_key text NOT NULL,
      original_name text NOT NULL CHECK (length(original_name) BETWEEN 1 AND 255),
      media_type text NOT NULL,
      size_bytes bigint NOT NULL CHECK (size_bytes > 0),
      sha256 text NOT NULL,
      storage_key text NOT NULL UNIQUE,
      document_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (company_id, id),
      FOREIGN KEY (company_id, request_id) REFERENCES portal_requests (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX portal_uploads_request_idx ON portal_uploads (company_id, request_id, created_at);

    -- A portal session: the cookie holds a random id, the table its hash. Bound to one request.
    CREATE TABLE portal_sessions (
      id_hash text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
      company_id uuid NOT NULL,
      request_id uuid NOT NULL,
      csrf_secret text NOT NULL,
      flash jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (company_id, request_id) REFERENCES portal_requests (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX portal_sessions_request_idx ON portal_sessions (company_id, request_id);
    CREATE INDEX portal_sessions_seen_idx ON portal_sessions (last_seen_at);

    -- The answers approved for questions that fill in no client field, by question key.
    ALTER TABLE entities ADD COLUMN portal_answers jsonb NOT NULL DEFAULT '{}';

    -- Secrets in an email (a portal link) are kept only until it is sent: then they are removed from its text.
    ALTER TABLE outbox_emails ADD COLUMN redact text[] NOT NULL DEFAULT '{}';
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE outbox_emails DROP COLUMN redact;
    ALTER TABLE entities DROP COLUMN portal_answers;
    DROP TABLE portal_sessions, portal_uploads, portal_submissions, portal_requests, portal_questionnaires,
      portal_settings;
  `)
}
