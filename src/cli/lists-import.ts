/**
 * `npm run lists:import -- [--company "<name>"] [--list <key>] <files…>`: imports sanctions lists into a
 * company, as the Screening lists page does (src/screening/lists/). OFAC's files go together (ofac-sdn.csv
 * with its alt, add and comments files); the UN's XML and OpenSanctions CSVs each make a list of their own.
 * With one company in the database, --company may be left out. --list names an OpenSanctions list.
 * A file that is not what its format says is refused with the line or element at fault, and nothing changes.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { connectDatabase } from '../db/connect.js'
import { createDb, migrateLatest } from '../db/knex.js'
import { parseListPaths } from '../screening/lists/parse.js'
import { type ImportResult, importList, importSentence, sourceOf } from '../screening/lists/store.js'
import { ListFormatError } from '../screening/lists/types.js'

const { values, positionals } = parseArgs({
  options: { company: { type: 'string' }, list: { type: 'string' } },
  allowPositionals: true,
})
if (positionals.length === 0) {
  process.stderr.write('Usage: npm run lists:import -- [--company "<name>"] [--list <key>] <files…>\n')
  process.exit(2)
}

const config = loadConfig()
const database = await connectDatabase(config)
const db = createDb(database.url)
let exitCode = 0
try {
  await migrateLatest(db)
  const companies: { id: string; name: string }[] = await db('companies')
    .modify((q) => {
      if (values.company) q.whereRaw('lower(name) = lower(?)', [values.company])
    })
    .select('id', 'name')
  if (companies.length !== 1) {
    const known = (await db('companies').pluck('name')).join('", "')
    throw new Error(
      values.company
        ? `No company is called "${values.company}" (the companies: "${known}")`
        : `Say which company with --company (the companies: "${known}")`,
    )
  }
  const company = companies[0] as { id: string; name: string }
  const lists = await parseListPaths(positionals)
  // Every list of one import in one transaction: a failure leaves each list as it was.
  const results = await db.transaction(async (trx) => {
    const done: ImportResult[] = []
    for (const parsed of lists)
      done.push(
        await importList(trx, { companyId: company.id, userId: null }, parsed, {
          source: sourceOf(parsed),
          list: values.list,
        }),
      )
    return done
  })
  for (const result of results) process.stdout.write(`${company.name}: ${importSentence(result)}\n`)
} catch (error) {
  process.stderr.write(
    error instanceof ListFormatError
      ? `Not imported, nothing changed. ${error.message}\n`
      : `Not imported: ${(error as Error).message}\n`,
  )
  exitCode = 1
} finally {
  await db.destroy()
  await database.stop()
}
process.exit(exitCode)
