import type { Knex } from 'knex'

/** The root of the tenancy: its `id` is the company key that every tenant table's company_id refers to. */
const ROOT = 'companies'

interface TableRow {
  oid: number
  name: string
  /** The attnum of company_id (of id, for the root); null when the table has no such column. */
  company: number | null
  company_not_null: boolean | null
}
interface KeyRow {
  table_oid: number
  name: string
  key_columns: number[]
  definition: string
}
interface ForeignKeyRow {
  name: string
  table_oid: number
  referenced_oid: number
  referenced: string
  columns: number[]
  referenced_columns: number[]
}

/**
 * What keeps the tables of `schema` from being distributed by company (Citus-style), one sentence each,
 * naming the table and the constraint; none when the schema is ready:
 *
 * - every table is the root (companies), one of `global`, or a tenant table with a NOT NULL company_id;
 * - every primary key, unique index (partial or not) and exclusion constraint of a tenant table (and of the
 *   root) has company_id (the root: id) among its key columns;
 * - every foreign key between tenant tables (the root included) pairs company_id with the referenced table's
 *   company_id (the root's id);
 * - no foreign key joins a global table and a tenant table, either way (a table that is not distributed
 *   cannot reference one that is, nor the other way round);
 * - every name in `global` is a table of the schema.
 */
export async function tenantSchemaProblems(
  db: Knex | Knex.Transaction,
  schema: string,
  global: readonly string[],
): Promise<string[]> {
  const { rows: tables } = await db.raw<{ rows: TableRow[] }>(
    `SELECT c.oid::int AS oid, c.relname AS name, a.attnum::int AS company, a.attnotnull AS company_not_null
     FROM pg_class c
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped
                             AND a.attname = CASE WHEN c.relname = ? THEN 'id' ELSE 'company_id' END
     WHERE c.relnamespace = to_regnamespace(?) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY c.relname`,
    [ROOT, schema],
  )
  const oids = tables.map((table) => table.oid)
  const { rows: keys } = await db.raw<{ rows: KeyRow[] }>(
    `SELECT i.indrelid::int AS table_oid, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
            array(SELECT k FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS u(k, n) WHERE n <= i.indnkeyatts)
              AS key_columns
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
     WHERE (i.indisunique OR i.indisexclusion) AND i.indrelid = ANY (?::oid[])
     ORDER BY ic.relname`,
    [oids],
  )
  const { rows: foreignKeys } = await db.raw<{ rows: ForeignKeyRow[] }>(
    `SELECT conname AS name, conrelid::int AS table_oid, confrelid::int AS referenced_oid,
            confrelid::regclass::text AS referenced, conkey::int[] AS columns, confkey::int[] AS referenced_columns
     FROM pg_constraint
     WHERE contype = 'f' AND (conrelid = ANY (?::oid[]) OR confrelid = ANY (?::oid[]))
     ORDER BY conname`,
    [oids, oids],
  )

  const problems: string[] = []
  const byOid = new Map(tables.map((table) => [table.oid, table]))
  const isGlobal = (table: TableRow) => global.includes(table.name)
  const companyColumn = (table: TableRow) => (table.name === ROOT ? 'id' : 'company_id')

  for (const name of global) {
    if (!tables.some((table) => table.name === name)) problems.push(`the global list names ${name}, not a table`)
  }
  for (const table of tables) {
    if (isGlobal(table) || table.name === ROOT) continue
    if (table.company === null) problems.push(`table ${table.name} has no company_id (nor is it listed as global)`)
    else if (!table.company_not_null) problems.push(`table ${table.name}: company_id may be NULL`)
  }
  for (const key of keys) {
    const table = byOid.get(key.table_oid) as TableRow
    if (isGlobal(table) || (table.company !== null && key.key_columns.includes(table.company))) continue
    problems.push(`${table.name}: key ${key.name} does not include ${companyColumn(table)} (${key.definition})`)
  }
  for (const fk of foreignKeys) {
    const from = byOid.get(fk.table_oid)
    const to = byOid.get(fk.referenced_oid)
    const name = from ? `${from.name}.${fk.name}` : fk.name
    if (!from || !to) {
      problems.push(`foreign key ${name} joins ${schema} to a table of another schema (${fk.referenced})`)
    } else if (isGlobal(from) !== isGlobal(to)) {
      const [g, t] = isGlobal(from) ? [from, to] : [to, from]
      problems.push(`foreign key ${name} joins global table ${g.name} and tenant table ${t.name}`)
    } else if (!isGlobal(from)) {
      const paired = fk.columns.some((c, i) => c === from.company && fk.referenced_columns[i] === to.company)
      if (!paired) {
        problems.push(
          `foreign key ${name} does not pair ${from.name}.${companyColumn(from)} with ${to.name}.${companyColumn(to)}`,
        )
      }
    }
  }
  return problems
}
