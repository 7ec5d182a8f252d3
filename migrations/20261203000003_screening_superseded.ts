import type { Knex } from 'knex'

/**
 * A client's open search is superseded when a newer search of the client with the same matching settings is
 * recorded (issue 14): the newer one holds the matches as they are now, so reviewers work on it and the older
 * one leaves the queue, with a link to what replaced it. A search under review (awaiting approval) is never
 * superseded.
 *
 * A client restored from the recycle bin loses its screening state, so the next nightly run screens it in
 * full: entries added while it was in the bin were screened against the live clients only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE screening_searches DROP CONSTRAINT screening_searches_status_check;
    ALTER TABLE screening_searches
      ADD CONSTRAINT screening_searches_status_check
        CHECK (status IN ('clear', 'open', 'awaiting_approval', 'closed', 'superseded')),
      ADD COLUMN superseded_by uuid,
      ADD CONSTRAINT screening_searches_superseded_by_fkey FOREIGN KEY (company_id, superseded_by)
        REFERENCES screening_searches (company_id, id) ON DELETE SET NULL (superseded_by),
      ADD CONSTRAINT screening_searches_superseded CHECK ((status = 'superseded') = (superseded_by IS NOT NULL));

    CREATE FUNCTION entity_screening_forget_restored() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM entity_screening WHERE entity_id = NEW.id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_screening_restored AFTER UPDATE OF deleted_at ON entities FOR EACH ROW
      WHEN (OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL)
      EXECUTE FUNCTION entity_screening_forget_restored();
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER entity_screening_restored ON entities;
    DROP FUNCTION entity_screening_forget_restored();
    UPDATE screening_searches SET status = 'closed' WHERE status = 'superseded';
    ALTER TABLE screening_searches DROP CONSTRAINT screening_searches_superseded,
      DROP CONSTRAINT screening_searches_superseded_by_fkey, DROP COLUMN superseded_by,
      DROP CONSTRAINT screening_searches_status_check;
    ALTER TABLE screening_searches ADD CONSTRAINT screening_searches_status_check
      CHECK (status IN ('clear', 'open', 'awaiting_approval', 'closed'));
  `)
}
