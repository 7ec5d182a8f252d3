import t from 'tap'
import { testDatabase } from '../helpers/database.js'
import { tenantSchemaProblems } from '../helpers/tenant-schema.js'

/**
 * Ready for a PostgreSQL distributed by company (issue 18, point 5; migrations/20261207000002_company_keys.ts):
 * every table of the schema is tenant data with a NOT NULL company_id, whose keys and foreign keys all include
 * it, or one of these global tables, each with the reason it is not tenant data. A new table must be one or
 * the other; this test names what breaks the rule. (pg-boss keeps its own schema, pgboss: not checked.)
 */
const GLOBAL: Record<string, string> = {
  knex_migrations: 'the migrations run, for the whole database',
  knex_migrations_lock: "knex's lock while migrations run",
  login_attempts: 'kept by the address typed at sign-in, before any company is known (it may be of none)',
  password_reset_requests: 'an address asking for a reset, before any company is known (it may be of none)',
  rate_limit_hits: "the rate limits' counters, by route and client address, counted before anyone signs in",
  sessions:
    'looked up by sid on every request, before the user or the company is known; anonymous sessions have no ' +
    'company. user_id and company_id are plain columns (no foreign keys): users and companies are never ' +
    'deleted, and deactivating a user deletes their sessions itself',
  storage_deletions:
    'the document storage queue of bytes to remove, by storage key (random, unique across companies), swept ' +
    'for every company at once after the rows that pointed at the bytes are gone',
}

t.test('every table is tenant data keyed by company, or global for a stated reason', async (t) => {
  const { db } = await testDatabase(t)
  const problems = await tenantSchemaProblems(db, 'public', Object.keys(GLOBAL))
  t.strictSame(problems, [], `the schema breaks the tenancy rules:\n${problems.join('\n')}`)
  for (const [table, reason] of Object.entries(GLOBAL)) t.ok(reason.length > 20, `${table} says why it is global`)

  // Spot checks of what the rules mean for tables a reader might wonder about.
  const pk = await db.raw<{ rows: { table: string; definition: string }[] }>(
    `SELECT conrelid::regclass::text AS "table", pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE contype = 'p' AND conrelid::regclass::text IN ('users', 'entities', 'form_submissions') ORDER BY 1`,
  )
  t.strictSame(pk.rows, [
    { table: 'entities', definition: 'PRIMARY KEY (id, company_id)' },
    { table: 'form_submissions', definition: 'PRIMARY KEY (user_id, form_key, route, company_id)' },
    { table: 'users', definition: 'PRIMARY KEY (id, company_id)' },
  ])
})

t.test('the check names each table and key that breaks a rule', async (t) => {
  const { db } = await testDatabase(t)
  const trx = await db.transaction()
  t.teardown(() => trx.rollback())
  // A schema of its own, rolled back at the end: one table for each way to break the rules.
  await trx.raw(`
    CREATE SCHEMA tenancy_probe;
    SET LOCAL search_path = tenancy_probe;
    CREATE TABLE companies (id uuid PRIMARY KEY);
    CREATE TABLE users (id uuid, company_id uuid NOT NULL REFERENCES companies, PRIMARY KEY (id, company_id));
    CREATE TABLE lookup_codes (code text PRIMARY KEY);
    CREATE TABLE no_company (id uuid PRIMARY KEY);
    CREATE TABLE null_company (note text, company_id uuid REFERENCES companies);
    CREATE TABLE keyed_by_id (id uuid PRIMARY KEY, company_id uuid NOT NULL);
    CREATE TABLE partial_key (company_id uuid NOT NULL, owner uuid, done boolean);
    CREATE UNIQUE INDEX partial_key_open ON partial_key (owner) WHERE NOT done;
    CREATE TABLE expression_key (company_id uuid NOT NULL, name text);
    CREATE UNIQUE INDEX expression_key_name ON expression_key (lower(name)) INCLUDE (company_id);
    CREATE TABLE crossed_keys (
      company_id uuid NOT NULL,
      author uuid,
      CONSTRAINT crossed_keys_author_fkey FOREIGN KEY (author, company_id) REFERENCES users (company_id, id),
      CONSTRAINT crossed_keys_company_fkey FOREIGN KEY (author) REFERENCES companies (id)
    );
    CREATE TABLE coded (company_id uuid NOT NULL, code text REFERENCES lookup_codes);
    CREATE TABLE global_log (user_id uuid, company_id uuid, FOREIGN KEY (user_id, company_id) REFERENCES users);
  `)
  const problems = await tenantSchemaProblems(trx, 'tenancy_probe', ['global_log', 'lookup_codes', 'gone'])
  t.strictSame(
    problems.sort(),
    [
      'foreign key coded.coded_code_fkey joins global table lookup_codes and tenant table coded',
      'expression_key: key expression_key_name does not include company_id (CREATE UNIQUE INDEX expression_key_name ON tenancy_probe.expression_key USING btree (lower(name)) INCLUDE (company_id))',
      'foreign key crossed_keys.crossed_keys_author_fkey does not pair crossed_keys.company_id with users.company_id',
      'foreign key crossed_keys.crossed_keys_company_fkey does not pair crossed_keys.company_id with companies.id',
      'foreign key global_log.global_log_user_id_company_id_fkey joins global table global_log and tenant table users',
      'keyed_by_id: key keyed_by_id_pkey does not include company_id (CREATE UNIQUE INDEX keyed_by_id_pkey ON tenancy_probe.keyed_by_id USING btree (id))',
      'no_company: key no_company_pkey does not include company_id (CREATE UNIQUE INDEX no_company_pkey ON tenancy_probe.no_company USING btree (id))',
      'partial_key: key partial_key_open does not include company_id (CREATE UNIQUE INDEX partial_key_open ON tenancy_probe.partial_key USING btree (owner) WHERE (NOT done))',
      'table no_company has no company_id (nor is it listed as global)',
      'table null_company: company_id may be NULL',
      'the global list names gone, not a table',
    ].sort(),
  )
})
