/**
 * OFAC's SDN list in its legacy CSV format: four header-less files joined on ent_num. sdn.csv holds one row per
 * entry; alt.csv its aliases; add.csv its addresses; sdn_comments.csv the end of Remarks too long for their column.
 * The facts a matcher needs beyond names (dates of birth, nationalities, weak aliases) sit in Remarks as free text
 * ("DOB 12 Jan 1960; nationality Iran; a.k.a. 'BNC'."), so they are read from it.
 *
 * The rows arrive already split into fields (parse.ts streams the files through csv-parse); OfacList checks them
 * and joins them, sdn rows first.
 */
import { countryCode } from './countries.js'
import { type EntryName, type ListEntry, ListFormatError, type ParsedList } from './types.js'

/** The four files of the format. */
export type OfacPart = 'sdn' | 'comments' | 'alt' | 'add'

/** How many columns each file's rows have. */
export const OFAC_COLUMNS: Readonly<Record<OfacPart, number>> = { sdn: 12, comments: 2, alt: 5, add: 6 }

const SCHEMAS: Record<string, ListEntry['schema']> = {
  '': 'organisation',
  individual: 'individual',
  vessel: 'vessel',
  aircraft: 'aircraft',
}
const ALT_TYPES = new Set(['aka', 'fka', 'nka'])
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
/** A "1960 to 1975" range wider than this is more likely a typo than a date of birth: it yields no dates. */
const MAX_YEARS_IN_RANGE = 30

interface Draft {
  entryId: string
  schema: ListEntry['schema']
  name: string
  programs: string[]
  /** Remarks as written, untrimmed: sdn_comments.csv may continue them mid-word. */
  remarks: string
  /** The vessel's flag: for a vessel, its nationality. */
  flag: string
  aliases: EntryName[]
  addressCountries: string[]
}

/** A field, with OFAC's "-0-" (written "-0- ") for empty made empty. */
function field(record: string[], index: number): string {
  const value = (record[index] ?? '').trim()
  return value === '-0-' ? '' : value
}

/** The OFAC files' rows, checked and joined into entries. Feed the sdn file first, then the others in any order. */
export class OfacList {
  private readonly drafts = new Map<string, Draft>()

  /** One row of one of the files; `at` names the file and line for errors ("ofac-alt.csv line 12"). */
  add(part: OfacPart, record: string[], at: string): void {
    const expected = OFAC_COLUMNS[part]
    if (record.length !== expected) {
      throw new ListFormatError(`expected ${expected} columns (OFAC ${part} file), found ${record.length}`, at)
    }
    const entNum = field(record, 0)
    if (!/^\d+$/.test(entNum)) throw new ListFormatError(`ent_num "${entNum}" is not an integer`, at)
    if (part === 'sdn') {
      this.addSdn(entNum, record, at)
      return
    }
    const draft = this.drafts.get(entNum)
    if (!draft) throw new ListFormatError(`ent_num ${entNum} is not in the sdn file`, at)
    if (part === 'comments') {
      // The comment is the rest of a Remarks cut at 1,000 characters, often mid-word: joined as is.
      draft.remarks += record[1] ?? ''
    } else if (part === 'alt') {
      const type = field(record, 2).toLowerCase()
      if (!ALT_TYPES.has(type)) throw new ListFormatError(`alt_type "${field(record, 2)}" is not aka, fka or nka`, at)
      const name = field(record, 3)
      if (!name) throw new ListFormatError('alt_name is empty', at)
      // alt.csv holds OFAC's strong aliases only: the weak ones are in Remarks (alt_remarks is always empty).
      draft.aliases.push({ name, quality: 'strong' })
    } else {
      const code = countryCode(field(record, 4))
      if (code) draft.addressCountries.push(code)
    }
  }

  private addSdn(entNum: string, record: string[], at: string): void {
    if (this.drafts.has(entNum)) throw new ListFormatError(`ent_num ${entNum} appears twice`, at)
    const name = field(record, 1)
    if (!name) throw new ListFormatError('SDN_Name is empty', at)
    const type = field(record, 2)
    const schema = SCHEMAS[type.toLowerCase()]
    if (!schema) throw new ListFormatError(`SDN_Type "${type}" is not individual, vessel, aircraft or empty`, at)
    const remarks = record[11] ?? ''
    this.drafts.set(entNum, {
      entryId: entNum,
      schema,
      name,
      programs: programs(field(record, 3)),
      remarks: remarks.trim() === '-0-' ? '' : remarks,
      flag: field(record, 9),
      aliases: [],
      addressCountries: [],
    })
  }

  /** The list, entries in sdn file order. */
  finish(): ParsedList {
    const entries = [...this.drafts.values()].map((draft): ListEntry => {
      const remarks = draft.remarks.trim()
      const facts = remarkFacts(remarks)
      const flag = countryCode(draft.flag)
      return {
        entryId: draft.entryId,
        schema: draft.schema,
        topics: ['sanction'],
        name: draft.name,
        names: [{ name: draft.name, quality: 'strong' }, ...draft.aliases, ...facts.weakAliases],
        birthDates: facts.birthDates,
        countries: [...facts.countries, ...(flag ? [flag] : []), ...draft.addressCountries],
        programs: draft.programs,
        ...(remarks ? { remarks } : {}),
      }
    })
    return { format: 'ofac-sdn', entries }
  }
}

/** "SDGT] [IRGC" (the file's way of listing several programmes in one column) → ['SDGT', 'IRGC']. */
function programs(column: string): string[] {
  return column
    .split(/\]\s*\[/)
    .map((program) => program.replace(/^\[|\]$/g, '').trim())
    .filter((program) => program !== '')
}

interface RemarkFacts {
  weakAliases: EntryName[]
  birthDates: string[]
  countries: string[]
}

/**
 * What Remarks say in OFAC's fixed phrases, one per ";"-separated part: "a.k.a. 'X'" (a weak alias; also f.k.a.),
 * "DOB ..." and "alt. DOB ...", "nationality X", "citizen X" (and their "alt." forms). Anything else is left
 * for the reviewer. A weak alias may itself hold quotes ('ABU 'ALI'): it runs to the part's last quote.
 */
export function remarkFacts(remarks: string): RemarkFacts {
  const facts: RemarkFacts = { weakAliases: [], birthDates: [], countries: [] }
  for (const raw of remarks.split(';')) {
    const part = raw.trim()
    const alias = /^[afn]\.k\.a\.\s*'(.+)'\.?$/.exec(part)?.[1]?.trim()
    if (alias) {
      facts.weakAliases.push({ name: alias, quality: 'weak' })
      continue
    }
    const dob = /^(?:alt\.\s+)?DOB\s+(.+?)\.?$/.exec(part)?.[1]
    if (dob) {
      facts.birthDates.push(...dobDates(dob))
      continue
    }
    const country = /^(?:alt\.\s+)?(?:nationality|citizen):?\s+(.+?)\.?$/.exec(part)?.[1]
    const code = country ? countryCode(country) : undefined
    if (code) facts.countries.push(code)
  }
  return facts
}

interface OfacDate {
  year: number
  text: string
}

/** "12 Jan 1960" → 1960-01-12, "Jan 1960" → 1960-01, "1960" → 1960; anything else → undefined. */
function ofacDate(text: string): OfacDate | undefined {
  const match = /^(?:(?:(\d{1,2})\s+)?([A-Za-z]{3,})\.?\s+)?(\d{4})$/.exec(text.trim())
  if (!match) return undefined
  const [, day, monthName, year = ''] = match
  if (!monthName) return { year: Number(year), text: year }
  const month = MONTHS.indexOf(monthName.slice(0, 3).toLowerCase()) + 1
  if (month === 0) return undefined
  const mm = String(month).padStart(2, '0')
  if (!day) return { year: Number(year), text: `${year}-${mm}` }
  const dd = Number(day)
  return dd >= 1 && dd <= 31 ? { year: Number(year), text: `${year}-${mm}-${day.padStart(2, '0')}` } : undefined
}

/**
 * A DOB of Remarks as dates: "12 Jan 1960", "Jan 1960", "1960" as precise as written; "circa 1960" (or "circa
 * 12 Jan 1960") as its year; "1960 to 1962", "12 Jan 1960 to 15 Feb 1962", "circa 1960-1962" as each year.
 * Anything unreadable yields nothing: Remarks are free text, not a format to refuse.
 */
export function dobDates(text: string): string[] {
  const circa = /^circa\s+/i.test(text)
  const body = text.replace(/^circa\s+/i, '').trim()
  const range = /^(.+?)\s+to\s+(.+)$/.exec(body) ?? /^(\d{4})\s*-\s*(\d{4})$/.exec(body)
  if (range) {
    const from = ofacDate(range[1] ?? '')
    const to = ofacDate(range[2] ?? '')
    if (!from || !to || to.year < from.year || to.year - from.year > MAX_YEARS_IN_RANGE) return []
    return Array.from({ length: to.year - from.year + 1 }, (_, i) => String(from.year + i))
  }
  const date = ofacDate(body)
  if (!date) return []
  return [circa ? String(date.year) : date.text]
}
