/**
 * The screening matcher's contract: what a screening asks, what it may tune, and what it answers, with an
 * explanation a reviewer can read (and the audit trail can keep: every explanation is plain JSON).
 */
import type { EntrySchema, EntryTopic, ListEntry } from '../lists/types.js'

/** A list entry, with the key of the list it came from ('ofac-sdn', 'un', 'opensanctions', ...). */
export type IndexedEntry = ListEntry & { list: string }

/** Whom we screen: a client (individual or organisation), with the facts that raise or lower a match. */
export interface ScreeningQuery {
  name: string
  /** Unknown: compared with every kind of entry, without the schema's effect. */
  schema?: 'individual' | 'organisation'
  /** 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'. */
  birthDate?: string
  /** ISO 3166-1 alpha-2 (nationality, or country of incorporation). */
  country?: string
}

export interface MatchOptions {
  /** Matches scoring below this are not reported. */
  threshold: number
  useBirthDate: boolean
  useCountry: boolean
  /** Only these lists (keys as in IndexedEntry.list); every list when absent. */
  lists?: string[]
}

/** One token of the query paired with one token of the list name. */
export interface TokenPair {
  query: string
  list: string
  /** 0..1, 1 for the same spelling. */
  similarity: number
}

/** What a fact (date of birth, country, schema) did to the score: a signed amount, or nothing. */
export type FactEffect = number | 'not used'

export interface MatchExplanation {
  /** The list name that matched best (the primary name or an alias), as the list writes it. */
  matchedName: string
  quality: 'strong' | 'weak'
  originalScript: boolean
  pairs: TokenPair[]
  unpairedQuery: string[]
  unpairedList: string[]
  /** The names' similarity alone, before dates of birth, countries and schema. */
  nameScore: number
  birthDate: { query: string | null; list: string | null; effect: FactEffect }
  country: { query: string | null; list: string[]; effect: FactEffect }
  schema: { query: string | null; list: EntrySchema; effect: FactEffect }
  /** When the best name is a weak alias: the strong name that confirmed the hit, and its score. */
  confirmedBy?: { name: string; score: number }
  score: number
}

export interface PotentialMatch {
  list: string
  entryId: string
  /** The entry's primary name. */
  name: string
  schema: EntrySchema
  topics: EntryTopic[]
  score: number
  explanation: MatchExplanation
}
