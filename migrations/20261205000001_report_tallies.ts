import type { Knex } from 'knex'

/**
 * What the Reports tab counts, kept by the database as clients change (issue 16: each report at 100,000
 * clients in under 200 ms at the 99th percentile, for an administrator and for a restricted reader).
 *
 * client_report_facts holds, for each live client, the facts a report groups or filters by: owner, status,
 * type, country, the risk classification that applies now ('none' when not assessed), the out-of-date flag,
 * the review day, whether the client is shared with the whole company, and when it was created. Triggers on
 * entities, entity_risk and client_shares keep it (client_report_facts_refresh), in the transaction of the
 * change. Triggers on it keep four tallies, each split by that whole-company flag:
 *
 *   client_tallies          (status, type, country, classification, out of date)
 *   client_review_tallies   (review day, status, classification), assessed clients only
 *   client_owner_tallies    (owner)
 *   client_activity_days    (UTC day of audit trail events about the client)
 *
 * An administrator's report with no owner or date filter sums a tally (a few hundred rows), and a restricted
 * reader's sums the whole-company part of it and counts the few clients that reach them otherwise
 * (src/access/client-access.ts, countingParts). Each tally change is one INSERT … ON CONFLICT with its rows
 * in key order, so two transactions never take the same rows' locks in opposite orders within it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE client_report_facts (
      id uuid PRIMARY KEY,
      company_id uuid NOT NULL,
      owner_user_id uuid NOT NULL,
      status text NOT NULL,
      kind text NOT NULL,
      country text NOT NULL,               -- '' when not known
      classification text NOT NULL,        -- 'none' when not assessed
      out_of_date boolean NOT NULL,
      review_due_on date,
      shared boolean NOT NULL,             -- shared with the whole company
      created_at timestamptz NOT NULL,
      FOREIGN KEY (company_id, id) REFERENCES entities (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX client_report_facts_by_company ON client_report_facts (company_id, created_at);
    CREATE INDEX client_report_facts_shared ON client_report_facts (company_id, created_at) WHERE shared;
    CREATE INDEX client_report_facts_by_owner ON client_report_facts (owner_user_id);

    CREATE TABLE client_tallies (
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      shared boolean NOT NULL,
      status text NOT NULL,
      kind text NOT NULL,
      country text NOT NULL,
      classification text NOT NULL,
      out_of_date boolean NOT NULL,
      n integer NOT NULL,
      PRIMARY KEY (company_id, shared, status, kind, country, classification, out_of_date)
    );
    CREATE TABLE client_review_tallies (
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      shared boolean NOT NULL,
      review_due_on date NOT NULL,
      status text NOT NULL,
      classification text NOT NULL,
      n integer NOT NULL,
      PRIMARY KEY (company_id, shared, review_due_on, status, classification)
    );
    CREATE TABLE client_owner_tallies (
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      shared boolean NOT NULL,
      owner_user_id uuid NOT NULL,
      n integer NOT NULL,
      PRIMARY KEY (company_id, shared, owner_user_id)
    );
    CREATE TABLE client_activity_days (
      company_id uuid NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      shared boolean NOT NULL,
      day date NOT NULL,
      n integer NOT NULL,
      PRIMARY KEY (company_id, shared, day)
    );

    -- Adds the facts rows of plus and takes away those of minus; moved_plus and moved_minus are the clients
    -- whose audit trail events are to be added or taken away (they became live or not, or changed their
    -- whole-company flag).
    CREATE FUNCTION client_tallies_apply(plus client_report_facts[], minus client_report_facts[],
                                         moved_plus client_report_facts[], moved_minus client_report_facts[])
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO client_tallies AS t (company_id, shared, status, kind, country, classification, out_of_date, n)
      SELECT company_id, shared, status, kind, country, classification, out_of_date, sum(d)
      FROM (SELECT p.*, 1 AS d FROM unnest(plus) p UNION ALL SELECT m.*, -1 FROM unnest(minus) m) x
      GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7
      ON CONFLICT (company_id, shared, status, kind, country, classification, out_of_date)
      DO UPDATE SET n = t.n + EXCLUDED.n;

      INSERT INTO client_review_tallies AS t (company_id, shared, review_due_on, status, classification, n)
      SELECT company_id, shared, review_due_on, status, classification, sum(d)
      FROM (SELECT p.*, 1 AS d FROM unnest(plus) p UNION ALL SELECT m.*, -1 FROM unnest(minus) m) x
      WHERE review_due_on IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (company_id, shared, review_due_on, status, classification) DO UPDATE SET n = t.n + EXCLUDED.n;

      INSERT INTO client_owner_tallies AS t (company_id, shared, owner_user_id, n)
      SELECT company_id, shared, owner_user_id, sum(d)
      FROM (SELECT p.*, 1 AS d FROM unnest(plus) p UNION ALL SELECT m.*, -1 FROM unnest(minus) m) x
      GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
      ON CONFLICT (company_id, shared, owner_user_id) DO UPDATE SET n = t.n + EXCLUDED.n;

      INSERT INTO client_activity_days AS t (company_id, shared, day, n)
      SELECT x.company_id, x.shared, (a.created_at AT TIME ZONE 'UTC')::date, sum(x.d)
      FROM (SELECT p.id, p.company_id, p.shared, 1 AS d FROM unnest(moved_plus) p
            UNION ALL SELECT m.id, m.company_id, m.shared, -1 FROM unnest(moved_minus) m) x
      JOIN audit_log a ON a.company_id = x.company_id AND a.target_type = 'entity' AND a.target_id = x.id::text
      GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
      ON CONFLICT (company_id, shared, day) DO UPDATE SET n = t.n + EXCLUDED.n;
    END $$;

    -- One function for the three triggers below: each names the transition tables its event has.
    CREATE FUNCTION client_report_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      none client_report_facts[] := '{}';
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM client_tallies_apply(array(SELECT f::client_report_facts FROM new_facts f), none,
                                     array(SELECT f::client_report_facts FROM new_facts f), none);
      ELSIF TG_OP = 'UPDATE' THEN
        PERFORM client_tallies_apply(
          array(SELECT f::client_report_facts FROM new_facts f), array(SELECT f::client_report_facts FROM old_facts f),
          array(SELECT n::client_report_facts FROM new_facts n JOIN old_facts o USING (id) WHERE n.shared <> o.shared),
          array(SELECT o::client_report_facts FROM old_facts o JOIN new_facts n USING (id) WHERE n.shared <> o.shared));
      ELSE
        PERFORM client_tallies_apply(none, array(SELECT f::client_report_facts FROM old_facts f),
                                     none, array(SELECT f::client_report_facts FROM old_facts f));
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER client_report_facts_insert AFTER INSERT ON client_report_facts
      REFERENCING NEW TABLE AS new_facts FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_changed();
    CREATE TRIGGER client_report_facts_update AFTER UPDATE ON client_report_facts
      REFERENCING OLD TABLE AS old_facts NEW TABLE AS new_facts
      FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_changed();
    CREATE TRIGGER client_report_facts_delete AFTER DELETE ON client_report_facts
      REFERENCING OLD TABLE AS old_facts FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_changed();

    -- The facts of these clients as they are now: gone when the client is not live, written when changed.
    -- Two transactions may change one client through different tables (its row, its risk state, its shares)
    -- without waiting for each other; so that the later one's refresh reads what the earlier one committed
    -- (and does not write back facts read before it), each refresh first takes a lock per client, in id order,
    -- held to the end of its transaction: every statement after it reads afresh. A refresh of more than 200
    -- clients (a migration, a recheck of many) takes one lock for all instead, which the per-client refreshes
    -- share, so that a transaction never holds thousands of locks.
    CREATE FUNCTION client_report_facts_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF cardinality(ids) = 0 THEN RETURN; END IF;
      IF cardinality(ids) > 200 THEN
        PERFORM pg_advisory_xact_lock(20261205, 0);
      ELSE
        PERFORM pg_advisory_xact_lock_shared(20261205, 0);
        PERFORM pg_advisory_xact_lock(20261206, k)
        FROM (SELECT DISTINCT hashtext(id::text) AS k FROM unnest(ids) AS id) keys ORDER BY k;
      END IF;
      DELETE FROM client_report_facts f
      WHERE f.id IN (SELECT unnest(ids))
        AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = f.id AND e.deleted_at IS NULL);
      INSERT INTO client_report_facts AS f (id, company_id, owner_user_id, status, kind, country, classification,
                                            out_of_date, review_due_on, shared, created_at)
      SELECT e.id, e.company_id, e.owner_user_id, e.status, e.kind,
             coalesce(coalesce(e.country_of_residence, e.country_of_incorporation)::text, ''),
             coalesce(er.classification, 'none'), coalesce(er.out_of_date, false), er.review_due_on,
             EXISTS (SELECT 1 FROM client_shares s WHERE s.entity_id = e.id AND s.whole_company), e.created_at
      FROM entities e LEFT JOIN entity_risk er ON er.entity_id = e.id
      WHERE e.id IN (SELECT unnest(ids)) AND e.deleted_at IS NULL
      ORDER BY e.id
      ON CONFLICT (id) DO UPDATE SET
        owner_user_id = EXCLUDED.owner_user_id, status = EXCLUDED.status, kind = EXCLUDED.kind,
        country = EXCLUDED.country, classification = EXCLUDED.classification, out_of_date = EXCLUDED.out_of_date,
        review_due_on = EXCLUDED.review_due_on, shared = EXCLUDED.shared, created_at = EXCLUDED.created_at
      WHERE (f.owner_user_id, f.status, f.kind, f.country, f.classification, f.out_of_date, f.review_due_on,
             f.shared, f.created_at)
        IS DISTINCT FROM (EXCLUDED.owner_user_id, EXCLUDED.status, EXCLUDED.kind, EXCLUDED.country,
             EXCLUDED.classification, EXCLUDED.out_of_date, EXCLUDED.review_due_on, EXCLUDED.shared,
             EXCLUDED.created_at);
    END $$;

    -- The clients whose facts may have changed, by the event and the table of the trigger.
    CREATE FUNCTION client_report_facts_source_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'entities' AND TG_OP = 'INSERT' THEN
        PERFORM client_report_facts_refresh(array(SELECT id FROM new_rows));
      ELSIF TG_TABLE_NAME = 'entities' THEN
        PERFORM client_report_facts_refresh(array(
          SELECT n.id FROM new_rows n JOIN old_rows o USING (id)
          WHERE (n.owner_user_id, n.status, n.kind, n.country_of_residence, n.country_of_incorporation,
                 n.deleted_at IS NULL, n.created_at)
            IS DISTINCT FROM (o.owner_user_id, o.status, o.kind, o.country_of_residence, o.country_of_incorporation,
                 o.deleted_at IS NULL, o.created_at)));
      ELSIF TG_TABLE_NAME = 'entity_risk' AND TG_OP = 'INSERT' THEN
        PERFORM client_report_facts_refresh(array(SELECT entity_id FROM new_rows));
      ELSIF TG_TABLE_NAME = 'entity_risk' AND TG_OP = 'UPDATE' THEN
        PERFORM client_report_facts_refresh(array(
          SELECT n.entity_id FROM new_rows n JOIN old_rows o USING (entity_id)
          WHERE (n.classification, n.out_of_date, n.review_due_on)
            IS DISTINCT FROM (o.classification, o.out_of_date, o.review_due_on)));
      ELSIF TG_TABLE_NAME = 'entity_risk' THEN
        PERFORM client_report_facts_refresh(array(SELECT entity_id FROM old_rows));
      ELSIF TG_OP = 'INSERT' THEN
        PERFORM client_report_facts_refresh(array(SELECT entity_id FROM new_rows WHERE whole_company));
      ELSIF TG_OP = 'UPDATE' THEN
        PERFORM client_report_facts_refresh(array(
          SELECT entity_id FROM new_rows WHERE whole_company UNION SELECT entity_id FROM old_rows WHERE whole_company));
      ELSE
        PERFORM client_report_facts_refresh(array(SELECT entity_id FROM old_rows WHERE whole_company));
      END IF;
      RETURN NULL;
    END $$;
    -- A client deleted outright takes its facts with it (the foreign key cascades).
    CREATE TRIGGER client_report_facts_entities_insert AFTER INSERT ON entities
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_entities_update AFTER UPDATE ON entities
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_risk_insert AFTER INSERT ON entity_risk
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_risk_update AFTER UPDATE ON entity_risk
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_risk_delete AFTER DELETE ON entity_risk
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_shares_insert AFTER INSERT ON client_shares
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_shares_update AFTER UPDATE ON client_shares
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();
    CREATE TRIGGER client_report_facts_shares_delete AFTER DELETE ON client_shares
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION client_report_facts_source_changed();

    -- The client an audit trail event is about, if it is about one.
    CREATE FUNCTION client_activity_target(target_type text, target_id text) RETURNS uuid
    LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN target_type = 'entity'
                   AND target_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
             THEN target_id::uuid END
    $$;
    -- An audit trail event about a live client counts on its day. The client's facts row is locked (FOR SHARE)
    -- so that a concurrent change of whether it counts, or where, waits for this event to commit and then
    -- moves it too (client_tallies_apply reads the events committed by then).
    CREATE FUNCTION client_activity_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- The rows first, in key order; the count reads them as they stand once locked.
      PERFORM 1 FROM client_report_facts f
      WHERE f.id IN (SELECT client_activity_target(a.target_type, a.target_id) FROM new_events a)
      ORDER BY f.id
      FOR SHARE;
      INSERT INTO client_activity_days AS t (company_id, shared, day, n)
      SELECT f.company_id, f.shared, (a.created_at AT TIME ZONE 'UTC')::date, count(*)
      FROM new_events a
      JOIN client_report_facts f ON f.id = client_activity_target(a.target_type, a.target_id)
                                AND f.company_id = a.company_id
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (company_id, shared, day) DO UPDATE SET n = t.n + EXCLUDED.n;
      RETURN NULL;
    END $$;
    CREATE TRIGGER client_activity_record AFTER INSERT ON audit_log
      REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION client_activity_recorded();

    SELECT client_report_facts_refresh(array(SELECT id FROM entities WHERE deleted_at IS NULL));

    -- The open searches report reads its searches' clients from this index alone.
    DROP INDEX screening_searches_by_status;
    CREATE INDEX screening_searches_by_status ON screening_searches (company_id, status, created_at DESC)
      INCLUDE (entity_id) WHERE status IN ('open', 'awaiting_approval');
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX screening_searches_by_status;
    CREATE INDEX screening_searches_by_status ON screening_searches (company_id, status, created_at DESC)
      WHERE status IN ('open', 'awaiting_approval');
    DROP TRIGGER client_activity_record ON audit_log;
    DROP TRIGGER client_report_facts_shares_delete ON client_shares;
    DROP TRIGGER client_report_facts_shares_update ON client_shares;
    DROP TRIGGER client_report_facts_shares_insert ON client_shares;
    DROP TRIGGER client_report_facts_risk_delete ON entity_risk;
    DROP TRIGGER client_report_facts_risk_update ON entity_risk;
    DROP TRIGGER client_report_facts_risk_insert ON entity_risk;
    DROP TRIGGER client_report_facts_entities_update ON entities;
    DROP TRIGGER client_report_facts_entities_insert ON entities;
    DROP FUNCTION client_activity_recorded(), client_activity_target(text, text), client_report_facts_source_changed(),
      client_report_facts_refresh(uuid[]);
    -- With the facts table go its triggers, their functions and client_tallies_apply (they name its row type).
    DROP TABLE client_activity_days, client_owner_tallies, client_review_tallies, client_tallies;
    DROP TABLE client_report_facts CASCADE;
    DROP FUNCTION client_report_facts_changed();
  `)
}
