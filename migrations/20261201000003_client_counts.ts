import type { Knex } from 'knex'

/**
 * How many live clients each company has, for the client list's "1–50 of 3,214" (src/entities/queries.ts):
 * counting 100,000 index entries on every page would cost more than the page. Kept by triggers in the
 * transaction of the change; an insert of many clients updates the count once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE client_counts (
      company_id uuid PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
      live integer NOT NULL CHECK (live >= 0)
    );

    CREATE FUNCTION client_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO client_counts (company_id, live)
      SELECT company_id, count(*) FROM new_entities WHERE deleted_at IS NULL GROUP BY company_id
      ON CONFLICT (company_id) DO UPDATE SET live = client_counts.live + EXCLUDED.live;
      RETURN NULL;
    END $$;
    CREATE TRIGGER client_counts_insert AFTER INSERT ON entities
      REFERENCING NEW TABLE AS new_entities FOR EACH STATEMENT EXECUTE FUNCTION client_counts_inserted();

    CREATE FUNCTION client_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE client_counts c SET live = c.live - d.n
      FROM (SELECT company_id, count(*) AS n FROM old_entities WHERE deleted_at IS NULL GROUP BY company_id) d
      WHERE c.company_id = d.company_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER client_counts_delete AFTER DELETE ON entities
      REFERENCING OLD TABLE AS old_entities FOR EACH STATEMENT EXECUTE FUNCTION client_counts_deleted();

    -- To the recycle bin and back.
    CREATE FUNCTION client_counts_binned() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.deleted_at IS NULL THEN
        INSERT INTO client_counts (company_id, live) VALUES (NEW.company_id, 1)
        ON CONFLICT (company_id) DO UPDATE SET live = client_counts.live + 1;
      ELSE
        UPDATE client_counts SET live = live - 1 WHERE company_id = NEW.company_id;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER client_counts_update AFTER UPDATE OF deleted_at ON entities FOR EACH ROW
      WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
      EXECUTE FUNCTION client_counts_binned();

    INSERT INTO client_counts (company_id, live)
    SELECT company_id, count(*) FROM entities WHERE deleted_at IS NULL GROUP BY company_id;
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER client_counts_update ON entities;
    DROP TRIGGER client_counts_delete ON entities;
    DROP TRIGGER client_counts_insert ON entities;
    DROP FUNCTION client_counts_binned();
    DROP FUNCTION client_counts_deleted();
    DROP FUNCTION client_counts_inserted();
    DROP TABLE client_counts;
  `)
}
