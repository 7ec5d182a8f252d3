/**
 * `npm run screen -- --name "…" [--type individual|organisation] [--dob YYYY-MM-DD] [--country XX] [--json]`:
 * screens one name against the shipped lists (seeds/sanctions/) with the default profile's settings, and
 * prints every match that reaches its threshold, best first. It reads the lists with the importers and
 * matches with the name index the app uses (src/screening/), so it needs no server and no database: it is how
 * the matcher is tried and evaluated from outside. Without --json it prints one line a match.
 */
import { parseArgs } from 'node:util'
import { parseListPaths } from '../screening/lists/parse.js'
import { SHIPPED_LIST_FILES } from '../screening/lists/shipped.js'
import { DEFAULT_MATCH_OPTIONS, NameIndex } from '../screening/match/name-index.js'
import type { ScreeningQuery } from '../screening/match/types.js'

const USAGE =
  'Usage: npm run screen -- --name "<name>" [--type individual|organisation] [--dob YYYY-MM-DD] [--country XX] [--json]\n'

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`)
  process.exit(2)
}

let args: ReturnType<typeof parse>
function parse() {
  return parseArgs({
    options: {
      name: { type: 'string' },
      type: { type: 'string' },
      dob: { type: 'string' },
      country: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
}
try {
  args = parse()
} catch (error) {
  fail((error as Error).message)
}
const { name, type, dob, country, json } = args.values
if (!name?.trim()) fail('Give the name to screen with --name')
if (type !== undefined && type !== 'individual' && type !== 'organisation') fail('--type is individual or organisation')
if (dob !== undefined && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(dob)) fail('--dob is YYYY, YYYY-MM or YYYY-MM-DD')
if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) fail('--country is a two-letter ISO 3166-1 code')

const query: ScreeningQuery = {
  name: name.trim(),
  ...(type ? { schema: type } : {}),
  ...(dob ? { birthDate: dob } : {}),
  ...(country ? { country: country.toUpperCase() } : {}),
}
const lists = await parseListPaths([...SHIPPED_LIST_FILES])
const index = new NameIndex(lists.flatMap((l) => l.entries.map((e) => ({ ...e, list: l.format }))))
const matches = index.search(query, DEFAULT_MATCH_OPTIONS).map((m) => ({
  list: m.list,
  entry_id: m.entryId,
  name: m.name,
  schema: m.schema,
  topics: m.topics,
  score: m.score,
  explanation: m.explanation,
}))
if (json) process.stdout.write(`${JSON.stringify({ matches })}\n`)
else if (matches.length === 0) process.stdout.write(`No match at the threshold ${DEFAULT_MATCH_OPTIONS.threshold}.\n`)
else for (const m of matches) process.stdout.write(`${m.score.toFixed(3)}  ${m.list} ${m.entry_id}  ${m.name}\n`)
