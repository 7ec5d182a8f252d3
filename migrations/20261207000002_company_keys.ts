import type { Knex } from 'knex'

/**
 * Ready for a PostgreSQL distributed by company (issue 18, point 5; Citus-style: every tenant table sharded
 * on company_id, companies on its id). Such a database enforces a primary key, a unique key or a foreign key
 * only when it includes the distribution column, so:
 *
 * - form_submissions and second_factor_attempts get company_id (the company of their user), like every other
 *   tenant table;
 * - every primary and unique key of a tenant table includes company_id, added as its LAST column, so that each
 *   query that used the old key still finds its columns leading the index (a lookup by id alone, by token hash,
 *   by storage key). Keys on `id` become PRIMARY KEY (id, company_id); the UNIQUE (company_id, id) keys some
 *   tables had for their composite foreign keys are dropped, the primary key being the same key (a foreign
 *   key's columns need only match a unique index's as a set). Keys of random values (token hashes, storage
 *   keys) are unique per company from now on: unique anywhere in practice, as they always were;
 * - every foreign key between tenant tables pairs company_id with company_id: (company_id, created_by) →
 *   users (company_id, id), with the ON DELETE it had (the referencing column may be NULL: MATCH SIMPLE);
 * - sessions becomes a global table: a session is looked up by its sid before anyone (or any company) is
 *   known, and anonymous sessions have no company. It keeps user_id and company_id as plain columns; its
 *   foreign keys to users and companies go (a table that is not distributed cannot reference one that is).
 *   They only ever cascaded the deletion of a user or a company, which the app never does: deactivating a
 *   user deletes their sessions itself (src/users/service.ts).
 *
 * The global tables and why are listed in test/db/tenant-schema.test.ts, which checks all of this in the
 * catalogue. client_report_facts_refresh, whose ON CONFLICT names its key, is replaced to name the new one.
 *
 * Fast on large data: each new key is built as an index beside the old one and attached with ADD CONSTRAINT …
 * USING INDEX (no table is rewritten; only the two tables that gain a column are updated). The foreign keys
 * that hang on a replaced key are dropped first and added back after, each validated by one scan.
 */

/** A primary key, a unique constraint, or a unique index with no constraint (partial ones). */
interface KeyChange {
  table: string
  name: string
  kind: 'primary' | 'unique' | 'index'
  before: string
  after: string
  where?: string
}

/** Tables whose primary key was (id): it becomes (id, company_id). */
const ID_TABLES = [
  'access_requests',
  'audit_log',
  'client_report_facts',
  'client_shares',
  'country_lists',
  'documents',
  'entities',
  'entity_services',
  'groups',
  'outbox_emails',
  'password_resets',
  'portal_requests',
  'portal_submissions',
  'portal_uploads',
  'risk_assessments',
  'risk_rule_sets',
  'screening_credit_ledger',
  'screening_entries',
  'screening_list_versions',
  'screening_matches',
  'screening_profiles',
  'screening_searches',
  'second_factor_attempts',
  'services',
  'user_invitations',
  'user_recovery_codes',
  'users',
]

const primary = (table: string, before: string): KeyChange => ({
  table,
  name: `${table}_pkey`,
  kind: 'primary',
  before,
  after: `${before}, company_id`,
})
const unique = (table: string, name: string, before: string): KeyChange => ({
  table,
  name,
  kind: 'unique',
  before,
  after: `${before}, company_id`,
})
const partial = (table: string, name: string, before: string, where: string): KeyChange => ({
  table,
  name,
  kind: 'index',
  before,
  after: `${before}, company_id`,
  where,
})

const KEYS: KeyChange[] = [
  ...ID_TABLES.map((table) => primary(table, 'id')),
  primary('digest_opt_outs', 'user_id, entity_id'),
  primary('entity_risk', 'entity_id'),
  primary('entity_screening', 'entity_id'),
  primary('form_submissions', 'user_id, form_key, route'),
  primary('group_members', 'group_id, user_id'),
  primary('portal_sessions', 'id_hash'),
  primary('user_permissions', 'user_id, permission'),
  primary('user_totp', 'user_id'),
  unique('documents', 'documents_storage_key_key', 'storage_key'),
  unique('entity_services', 'entity_services_entity_id_service_id_key', 'entity_id, service_id'),
  unique('outbox_emails', 'outbox_emails_dedupe_key_key', 'dedupe_key'),
  unique('password_resets', 'password_resets_token_hash_key', 'token_hash'),
  unique('portal_requests', 'portal_requests_token_hash_key', 'token_hash'),
  unique('portal_uploads', 'portal_uploads_storage_key_key', 'storage_key'),
  unique('screening_matches', 'screening_matches_search_id_list_entry_id_key', 'search_id, list, entry_id'),
  unique('user_invitations', 'user_invitations_token_hash_key', 'token_hash'),
  unique('user_recovery_codes', 'user_recovery_codes_user_id_code_hash_key', 'user_id, code_hash'),
  partial('access_requests', 'access_requests_pending_key', 'entity_id, requester_id', "status = 'pending'"),
  partial('client_shares', 'client_shares_company_key', 'entity_id', 'whole_company'),
  partial('client_shares', 'client_shares_group_key', 'entity_id, group_id', 'group_id IS NOT NULL'),
  partial('client_shares', 'client_shares_user_key', 'entity_id, user_id', 'user_id IS NOT NULL'),
]

/** UNIQUE (company_id, id), the same key as the new primary key (id, company_id). */
const REDUNDANT = [
  'entities',
  'groups',
  'portal_requests',
  'portal_uploads',
  'risk_rule_sets',
  'screening_list_versions',
  'screening_profiles',
  'screening_searches',
  'services',
  'users',
].map((table) => ({ table, name: `${table}_company_id_id_key` }))

/** Foreign keys of one column onto a tenant table's id; each becomes (company_id, column) → (company_id, id). */
const ONE_COLUMN_KEYS = [
  { table: 'access_requests', column: 'decided_by', references: 'users' },
  { table: 'audit_log', column: 'actor_user_id', references: 'users' },
  { table: 'client_shares', column: 'created_by', references: 'users' },
  { table: 'country_lists', column: 'created_by', references: 'users' },
  { table: 'documents', column: 'deleted_by', references: 'users' },
  { table: 'documents', column: 'uploaded_by', references: 'users' },
  { table: 'entities', column: 'deleted_by', references: 'users' },
  { table: 'entity_risk', column: 'assessment_id', references: 'risk_assessments', onDelete: 'CASCADE' },
  { table: 'entity_services', column: 'created_by', references: 'users' },
  { table: 'form_submissions', column: 'user_id', references: 'users', onDelete: 'CASCADE' },
  { table: 'risk_assessments', column: 'created_by', references: 'users' },
  { table: 'risk_rule_sets', column: 'created_by', references: 'users' },
  { table: 'risk_rule_sets', column: 'published_by', references: 'users' },
  { table: 'screening_credit_ledger', column: 'user_id', references: 'users' },
  { table: 'screening_list_versions', column: 'imported_by', references: 'users' },
  { table: 'screening_matches', column: 'decided_by', references: 'users' },
  { table: 'screening_matches', column: 'entry_row', references: 'screening_entries' },
  { table: 'screening_searches', column: 'approved_by', references: 'users' },
  { table: 'screening_searches', column: 'checked_by', references: 'users' },
  { table: 'screening_searches', column: 'created_by', references: 'users' },
  { table: 'screening_searches', column: 'sent_back_by', references: 'users' },
  { table: 'second_factor_attempts', column: 'user_id', references: 'users', onDelete: 'CASCADE' },
  { table: 'user_invitations', column: 'created_by', references: 'users' },
].map((k) => ({
  ...k,
  before: `${k.table}_${k.column}_fkey`,
  after: `${k.table}_company_id_${k.column}_fkey`,
  onDelete: k.onDelete ? ` ON DELETE ${k.onDelete}` : '',
}))

/** The session table's foreign keys, which a global table may not have (see above). */
const SESSION_KEYS = [
  { name: 'sessions_user_id_fkey', definition: 'FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE' },
  {
    name: 'sessions_company_id_fkey',
    definition: 'FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE',
  },
]

/** Tables that gain company_id, from their user. */
const NEW_COMPANY_COLUMNS = ['form_submissions', 'second_factor_attempts']

interface ForeignKey {
  table: string
  name: string
  definition: string
}

/**
 * The foreign keys, but those named in `except`, that use one of the indexes `indexes` (a foreign key hangs
 * on one unique index of the table it references, which cannot be dropped under it). They are dropped and,
 * once the keys are replaced, added back as they were: each then finds the new key of the same columns.
 */
async function foreignKeysOn(knex: Knex, indexes: string[], except: string[]): Promise<ForeignKey[]> {
  const { rows } = await knex.raw<{ rows: ForeignKey[] }>(
    `SELECT c.conrelid::regclass::text AS "table", c.conname AS name, pg_get_constraintdef(c.oid) AS definition
     FROM pg_constraint c JOIN pg_class i ON i.oid = c.conindid
     WHERE c.contype = 'f' AND i.relnamespace = to_regnamespace(current_schema())
       AND i.relname = ANY (?::text[]) AND NOT c.conname = ANY (?::text[])
     ORDER BY 1, 2`,
    [indexes, except],
  )
  return rows
}

const dropConstraint = (k: { table: string; name: string }) => `ALTER TABLE ${k.table} DROP CONSTRAINT ${k.name};`
const addForeignKey = (k: ForeignKey) => `ALTER TABLE ${k.table} ADD CONSTRAINT ${k.name} ${k.definition};`

/** Builds `columns` of `key` as a new index (suffixed), beside the one it replaces. */
function buildKey(key: KeyChange, columns: string, suffix: string): string {
  const where = key.where ? ` WHERE ${key.where}` : ''
  return `CREATE UNIQUE INDEX ${key.name}_${suffix} ON ${key.table} (${columns})${where};`
}

/** Drops `key` and puts the index built by buildKey in its place, under the key's name. */
function swapKey(key: { table: string; name: string; kind: KeyChange['kind'] }, suffix: string): string {
  const built = `${key.name}_${suffix}`
  if (key.kind === 'index') return `DROP INDEX ${key.name}; ALTER INDEX ${built} RENAME TO ${key.name};`
  const constraint = key.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'
  return `ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name},
            ADD CONSTRAINT ${key.name} ${constraint} USING INDEX ${built};`
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    NEW_COMPANY_COLUMNS.map(
      (table) => `ALTER TABLE ${table} ADD COLUMN company_id uuid;
        UPDATE ${table} t SET company_id = u.company_id FROM users u WHERE u.id = t.user_id;
        ALTER TABLE ${table} ALTER COLUMN company_id SET NOT NULL;`,
    ).join('\n'),
  )
  await knex.raw(KEYS.map((k) => buildKey(k, k.after, 'new')).join('\n'))

  const replaced = [...KEYS, ...REDUNDANT].map((k) => k.name)
  const rewritten = [...ONE_COLUMN_KEYS.map((k) => k.before), ...SESSION_KEYS.map((k) => k.name)]
  const kept = await foreignKeysOn(knex, replaced, rewritten)
  await knex.raw(
    [
      ...kept.map(dropConstraint),
      ...ONE_COLUMN_KEYS.map((k) => dropConstraint({ table: k.table, name: k.before })),
      ...SESSION_KEYS.map((k) => dropConstraint({ table: 'sessions', name: k.name })),
      ...KEYS.map((k) => swapKey(k, 'new')),
      ...REDUNDANT.map(dropConstraint),
      ...kept.map(addForeignKey),
      ...ONE_COLUMN_KEYS.map((k) =>
        addForeignKey({
          table: k.table,
          name: k.after,
          definition: `FOREIGN KEY (company_id, ${k.column}) REFERENCES ${k.references} (company_id, id)${k.onDelete}`,
        }),
      ),
    ].join('\n'),
  )
  await knex.raw(refreshFunction('id, company_id'))
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(refreshFunction('id'))
  await knex.raw(
    [
      ...KEYS.map((k) => buildKey(k, k.before, 'old')),
      ...REDUNDANT.map((k) => `CREATE UNIQUE INDEX ${k.name}_old ON ${k.table} (company_id, id);`),
      ...ONE_COLUMN_KEYS.map((k) => dropConstraint({ table: k.table, name: k.after })),
    ].join('\n'),
  )
  const kept = await foreignKeysOn(
    knex,
    KEYS.map((k) => k.name),
    [],
  )
  await knex.raw(
    [
      ...kept.map(dropConstraint),
      ...KEYS.map((k) => swapKey(k, 'old')),
      ...REDUNDANT.map((k) => `ALTER TABLE ${k.table} ADD CONSTRAINT ${k.name} UNIQUE USING INDEX ${k.name}_old;`),
      ...kept.map(addForeignKey),
      ...ONE_COLUMN_KEYS.map((k) =>
        addForeignKey({
          table: k.table,
          name: k.before,
          definition: `FOREIGN KEY (${k.column}) REFERENCES ${k.references} (id)${k.onDelete}`,
        }),
      ),
      ...SESSION_KEYS.map((k) => addForeignKey({ table: 'sessions', ...k })),
      ...NEW_COMPANY_COLUMNS.map((table) => `ALTER TABLE ${table} DROP COLUMN company_id;`),
    ].join('\n'),
  )
}

/**
 * client_report_facts_refresh of migrations/20261205000001_report_tallies.ts, its ON CONFLICT naming
 * `conflictKey` (the facts table's primary key).
 */
function refreshFunction(conflictKey: string): string {
  return `
    CREATE OR REPLACE FUNCTION client_report_facts_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
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
      ON CONFLICT (${conflictKey}) DO UPDATE SET
        owner_user_id = EXCLUDED.owner_user_id, status = EXCLUDED.status, kind = EXCLUDED.kind,
        country = EXCLUDED.country, classification = EXCLUDED.classification, out_of_date = EXCLUDED.out_of_date,
        review_due_on = EXCLUDED.review_due_on, shared = EXCLUDED.shared, created_at = EXCLUDED.created_at
      WHERE (f.owner_user_id, f.status, f.kind, f.country, f.classification, f.out_of_date, f.review_due_on,
             f.shared, f.created_at)
        IS DISTINCT FROM (EXCLUDED.owner_user_id, EXCLUDED.status, EXCLUDED.kind, EXCLUDED.country,
             EXCLUDED.classification, EXCLUDED.out_of_date, EXCLUDED.review_due_on, EXCLUDED.shared,
             EXCLUDED.created_at);
    END $$;`
}
