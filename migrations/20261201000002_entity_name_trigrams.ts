import type { Knex } from 'knex'

/**
 * Name search by positioned trigrams, in name order (src/entities/name-search.ts). A name contains the
 * term T exactly when, for any one of T's trigrams (say the one at offset k of T), the name has that
 * trigram at some position p and T starts in the name at p − k. The index lists each trigram's rows in
 * name order, so a page of a search is the first rows of one trigram that pass that test: its cost
 * follows the page size, not the number of matches (the trigram index it replaces found every match,
 * then read each one's table row to recheck it and sorted them all). Kept by triggers, in the
 * transaction of the change, so the table always holds exactly the live clients' names.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- One row per character position (pos) of a live client's lower-cased name: the three characters
    -- from there, and the whole lower-cased name, which is also the list's sort key.
    CREATE TABLE entity_name_trigrams (
      company_id uuid NOT NULL,
      trigram text COLLATE "C" NOT NULL,
      sort_key text NOT NULL,
      entity_id uuid NOT NULL,
      pos smallint NOT NULL
    );
    -- Everything a search reads is in the index, in the order it lists: an index-only scan that stops
    -- after a page. A rename finds its old rows by (company_id, trigram, sort_key) too.
    CREATE INDEX entity_name_trigrams_idx ON entity_name_trigrams (company_id, trigram, sort_key, entity_id) INCLUDE (pos);

    CREATE FUNCTION entity_name_trigram_rows(e entities)
    RETURNS TABLE (company_id uuid, trigram text, sort_key text, entity_id uuid, pos smallint)
    LANGUAGE sql STABLE AS $$
      SELECT e.company_id, substr(lower(e.name), i, 3), lower(e.name), e.id, i::smallint
      FROM generate_series(1, length(e.name) - 2) AS i
    $$;

    -- Inserts come in bulk too (seeds, imports): one statement per statement, from its transition table.
    CREATE FUNCTION entity_name_trigrams_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO entity_name_trigrams
      SELECT t.* FROM new_entities e, entity_name_trigram_rows(e) t WHERE e.deleted_at IS NULL;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_name_trigrams_insert AFTER INSERT ON entities
      REFERENCING NEW TABLE AS new_entities FOR EACH STATEMENT EXECUTE FUNCTION entity_name_trigrams_inserted();

    -- The rows a client had under its old name (none while it was in the recycle bin), by the index.
    CREATE FUNCTION entity_name_trigrams_forget(old_row entities) RETURNS void LANGUAGE sql AS $$
      DELETE FROM entity_name_trigrams t
      USING entity_name_trigram_rows(old_row) o
      WHERE t.company_id = o.company_id AND t.trigram = o.trigram AND t.sort_key = o.sort_key
        AND t.entity_id = o.entity_id AND t.pos = o.pos
    $$;

    -- A rename, a move to the recycle bin and a restore change which trigrams a client has.
    CREATE FUNCTION entity_name_trigrams_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.deleted_at IS NULL THEN
        PERFORM entity_name_trigrams_forget(OLD);
      END IF;
      IF NEW.deleted_at IS NULL THEN
        INSERT INTO entity_name_trigrams SELECT * FROM entity_name_trigram_rows(NEW);
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_name_trigrams_update AFTER UPDATE OF name, deleted_at ON entities FOR EACH ROW
      WHEN (OLD.name IS DISTINCT FROM NEW.name OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
      EXECUTE FUNCTION entity_name_trigrams_changed();

    CREATE FUNCTION entity_name_trigrams_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM entity_name_trigrams_forget(o) FROM old_entities o WHERE o.deleted_at IS NULL;
      RETURN NULL;
    END $$;
    CREATE TRIGGER entity_name_trigrams_delete AFTER DELETE ON entities
      REFERENCING OLD TABLE AS old_entities FOR EACH STATEMENT EXECUTE FUNCTION entity_name_trigrams_deleted();

    INSERT INTO entity_name_trigrams
    SELECT t.* FROM entities e, entity_name_trigram_rows(e) t WHERE e.deleted_at IS NULL;

    -- These replace the GIN trigram index, which only name search used.
    DROP INDEX entities_name_trgm_idx;
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX entities_name_trgm_idx ON entities USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;
    DROP TRIGGER entity_name_trigrams_delete ON entities;
    DROP TRIGGER entity_name_trigrams_update ON entities;
    DROP TRIGGER entity_name_trigrams_insert ON entities;
    DROP FUNCTION entity_name_trigrams_deleted();
    DROP FUNCTION entity_name_trigrams_changed();
    DROP FUNCTION entity_name_trigrams_forget(entities);
    DROP FUNCTION entity_name_trigrams_inserted();
    DROP FUNCTION entity_name_trigram_rows(entities);
    DROP TABLE entity_name_trigrams;
  `)
}
