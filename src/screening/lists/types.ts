/**
 * What every list importer produces, whatever the file's format: the list's entries, each with the list's
 * own identifier, its names and the facts that raise or lower a match (dates of birth, countries).
 */

/** The lists the built-in provider knows how to read. */
export type ListFormat = 'ofac-sdn' | 'un' | 'opensanctions'

/** What a list entry is. OFAC's vessels and aircraft are screened as organisations are, by name only. */
export type EntrySchema = 'individual' | 'organisation' | 'vessel' | 'aircraft'

/** Why an entry is on the list: sanctioned, or a politically exposed person. */
export type EntryTopic = 'sanction' | 'pep'

export interface EntryName {
  /** The name as the list writes it (OFAC's "LAST, First", UN's parts joined, any script). */
  name: string
  /**
   * strong: the primary name and good-quality aliases; weak: OFAC's weak a.k.a.s (in Remarks, in single
   * quotes) and the UN's "Low" quality aliases. A weak name only confirms a match; it never raises one alone.
   */
  quality: 'strong' | 'weak'
  /** The UN's NAME_ORIGINAL_SCRIPT and OpenSanctions aliases in a non-Latin script. */
  originalScript?: boolean
}

export interface ListEntry {
  /** The list's own identifier: OFAC ent_num, UN DATAID, OpenSanctions id. */
  entryId: string
  schema: EntrySchema
  topics: EntryTopic[]
  /** The primary name, as the list writes it. Also the first of `names`. */
  name: string
  /** Every name of the entry, the primary first, then aliases (strong and weak), deduplicated. */
  names: EntryName[]
  /**
   * Dates of birth (individuals) or of registration (organisations): 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY', as
   * precise as the list is. "circa 1960" and "1960 to 1962" become each year.
   */
  birthDates: string[]
  /** ISO 3166-1 alpha-2 codes (upper case) of nationalities, citizenships and address countries. */
  countries: string[]
  /** Sanctions programmes (OFAC "SDGT", UN list type "DRC", OpenSanctions program ids). */
  programs: string[]
  /** Free text the list holds about the entry, for the reviewer (OFAC Remarks, UN COMMENTS1). */
  remarks?: string
}

export interface ParsedList {
  format: ListFormat
  /** The day the file was published, 'YYYY-MM-DD', when the file says (UN dateGenerated, OpenSanctions last_change). */
  fileDate?: string
  entries: ListEntry[]
  /** The names of the files it was read from (parseListFiles says; a version records them as its source). */
  files?: string[]
}

/** A file that is not what its format says: names the line (CSV) or element (XML) at fault. */
export class ListFormatError extends Error {
  constructor(
    message: string,
    /** e.g. "ofac-sdn.csv line 1203" or "INDIVIDUAL 57 (DATAID 6908123) > INDIVIDUAL_DATE_OF_BIRTH". */
    readonly location: string,
  ) {
    super(`${location}: ${message}`)
    this.name = 'ListFormatError'
  }
}
