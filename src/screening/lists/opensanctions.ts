/**
 * OpenSanctions' "targets.simple.csv": one row per target, with a header. Cells holding several values (aliases,
 * countries, dates, sanctions, datasets) are themselves a CSV row separated by ";", quoted where a value holds a
 * ";" or a quote, so they are parsed with csv-parse too rather than split by hand.
 *
 * Topics: 'sanction' when the sanctions cell is not empty; 'pep' when the dataset cell names a PEP source (a title
 * matching "PEP", "PEPs" or "politically exposed", e.g. "Wikidata Politically Exposed Persons (PEPs)"). A dataset
 * of politicians whose title says neither ("Every Politician") is not recognised as one: the simple CSV carries
 * no topics of its own to go by.
 *
 * The file's date is the latest last_change of its rows: OpenSanctions writes no publication date in the file.
 */
import { parse } from 'csv-parse/sync'
import { alpha2 } from './countries.js'
import { type EntryName, type ListEntry, ListFormatError, type ParsedList } from './types.js'

/** The columns read; the others (addresses, identifiers, phones, emails, first_seen, last_seen) are not. */
const REQUIRED = ['id', 'schema', 'name', 'aliases', 'birth_date', 'countries', 'sanctions', 'dataset', 'last_change']
/** Older exports have no program_ids column. */
const OPTIONAL = ['program_ids']

/**
 * OpenSanctions schemas screened here. Targets of other schemas (a Security, a CryptoWallet) are no person or
 * organisation to match a client against, so their rows are skipped.
 */
const SCHEMAS: Record<string, ListEntry['schema']> = {
  Person: 'individual',
  Organization: 'organisation',
  Company: 'organisation',
  LegalEntity: 'organisation',
  PublicBody: 'organisation',
  Vessel: 'vessel',
  Airplane: 'aircraft',
}

const PEP_DATASET = /\bpeps?\b|politically exposed/i
/** A letter of a script other than Latin: the alias is written in its original script. */
const NON_LATIN_LETTER = /(?!\p{Script=Latin})\p{L}/u
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/

/** The rows of one targets.simple.csv, header first, checked and turned into entries. */
export class OpenSanctionsList {
  private columns: Map<string, number> | undefined
  private width = 0
  private fileDate = ''
  private readonly entries: ListEntry[] = []

  /** One CSV record; `at` names the file and line for errors ("targets.simple.csv line 12"). */
  add(record: string[], at: string): void {
    if (!this.columns) {
      this.header(record, at)
      return
    }
    if (record.length !== this.width) {
      throw new ListFormatError(`expected ${this.width} columns (as the header has), found ${record.length}`, at)
    }
    const columns = this.columns
    const cell = (column: string) => (record[columns.get(column) ?? -1] ?? '').trim()
    const list = (column: string) => values(cell(column), column, at)

    const entryId = cell('id')
    if (!entryId) throw new ListFormatError('id is empty', at)
    const schemaName = cell('schema')
    if (!schemaName) throw new ListFormatError('schema is empty', at)
    const name = cell('name')
    if (!name) throw new ListFormatError('name is empty', at)
    const lastChange = cell('last_change')
    if (lastChange) {
      const day = /^\d{4}-\d{2}-\d{2}/.exec(lastChange)?.[0]
      if (!day) throw new ListFormatError(`last_change "${lastChange}" is not a date`, at)
      if (day > this.fileDate) this.fileDate = day
    }
    const schema = SCHEMAS[schemaName]
    if (!schema) return

    const birthDates = list('birth_date')
    const badDate = birthDates.find((date) => !DATE.test(date))
    if (badDate !== undefined)
      throw new ListFormatError(`birth_date "${badDate}" is not YYYY, YYYY-MM or YYYY-MM-DD`, at)
    const sanctions = list('sanctions')
    const topics: ListEntry['topics'] = []
    if (sanctions.length > 0) topics.push('sanction')
    if (PEP_DATASET.test(cell('dataset'))) topics.push('pep')
    const aliases = list('aliases').map(
      (alias): EntryName =>
        NON_LATIN_LETTER.test(alias)
          ? { name: alias, quality: 'strong', originalScript: true }
          : { name: alias, quality: 'strong' },
    )
    this.entries.push({
      entryId,
      schema,
      topics,
      name,
      names: [{ name, quality: 'strong' }, ...aliases],
      birthDates,
      // OpenSanctions also writes codes that are no country ("suhh" for the Soviet Union, "zz" for global).
      countries: list('countries').flatMap((code) => alpha2(code) ?? []),
      programs: columns.has('program_ids') ? list('program_ids') : [],
      ...(sanctions.length > 0 ? { remarks: sanctions.join('; ') } : {}),
    })
  }

  private header(record: string[], at: string): void {
    const names = record.map((column) => column.trim().toLowerCase())
    const missing = REQUIRED.filter((column) => !names.includes(column))
    if (missing.length > 0) {
      throw new ListFormatError(`the header lacks the column(s) ${missing.join(', ')} of targets.simple.csv`, at)
    }
    this.columns = new Map(
      [...REQUIRED, ...OPTIONAL].flatMap((column) => (names.includes(column) ? [[column, names.indexOf(column)]] : [])),
    )
    this.width = record.length
  }

  /** The list, entries in file order. */
  finish(at: string): ParsedList {
    if (!this.columns) throw new ListFormatError('the file has no header row', at)
    return { format: 'opensanctions', ...(this.fileDate ? { fileDate: this.fileDate } : {}), entries: this.entries }
  }
}

/** The values of a multi-value cell: `a;"b; c";"d ""e"""` → ['a', 'b; c', 'd "e"']. */
function values(cell: string, column: string, at: string): string[] {
  if (cell === '') return []
  let rows: string[][]
  try {
    rows = parse(cell, { delimiter: ';', relax_quotes: true, relax_column_count: true })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ListFormatError(`the ${column} cell is not a ";"-separated list: ${reason}`, at)
  }
  return rows.flat().flatMap((value) => {
    const trimmed = value.trim()
    return trimmed ? [trimmed] : []
  })
}
