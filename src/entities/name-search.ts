import { containsPattern, type Db } from '../db/knex.js'

/**
 * How a name search finds "names containing the term" (lower-cased, as `lower(name) LIKE '%term%'` would).
 *
 * A term of three characters or more is found through one of its trigrams in entity_name_trigrams
 * (migration 20261201000002): a name contains the term when it has that trigram (taken at `offset` in
 * the term) at a position `pos` where the term starts at pos − offset; of a name's rows, only the one at
 * the term's first occurrence passes that test (`strpos(sort_key, term) = pos - offset`, strpos
 * being 0 where the term is not found), so each name is
 * listed once. Any of the term's trigrams gives the same names; the rarest reads the fewest rows, so that
 * one is taken (see TrigramFrequencies).
 *
 * A shorter term ("a", "ab") is in most names; the list finds a page of them soonest by reading names in
 * order and testing each (`scan`).
 */
export type NameSearch =
  | { by: 'trigram'; trigram: string; offset: number; term: string }
  | { by: 'scan'; pattern: string }

/** How common a trigram is among the company's names: a fraction, or 0 when not known to be common. */
export type TrigramFrequency = (trigram: string) => number

export function nameSearch(text: string, frequency: TrigramFrequency = () => 0): NameSearch {
  const term = text.toLowerCase()
  // PostgreSQL counts characters, not UTF-16 units: "🦊🦊🦊" has one trigram.
  const chars = Array.from(term)
  if (chars.length < 3) return { by: 'scan', pattern: containsPattern(term) }
  let best = { trigram: chars.slice(0, 3).join(''), offset: 0 }
  let bestFrequency = frequency(best.trigram)
  for (let offset = 1; offset + 3 <= chars.length; offset++) {
    const trigram = chars.slice(offset, offset + 3).join('')
    const f = frequency(trigram)
    if (f < bestFrequency) {
      best = { trigram, offset }
      bestFrequency = f
    }
  }
  return { by: 'trigram', ...best, term }
}

const REFRESH_MS = 10 * 60_000

/**
 * The most common trigrams of names and their frequencies, as PostgreSQL's statistics of
 * entity_name_trigrams keep them (ANALYZE, which autovacuum runs as the table changes): the trigrams the
 * planner itself would call common. Read at most every ten minutes, in the background; until the first
 * read, and for any trigram not among them, a trigram counts as rare. Which trigram a search uses changes
 * only its cost, never its results.
 */
export class TrigramFrequencies {
  private frequencies = new Map<string, number>()
  private readAt = 0
  private reading: Promise<void> | undefined

  constructor(private readonly db: Db) {}

  /** The frequency lookup to use now; starts a refresh when the last read is old. */
  current(): TrigramFrequency {
    if (Date.now() - this.readAt > REFRESH_MS && !this.reading) {
      this.reading = this.read().finally(() => {
        this.reading = undefined
      })
    }
    const known = this.frequencies
    return (trigram) => known.get(trigram) ?? 0
  }

  /** Reads the statistics now (also for tests and the benchmark, after an ANALYZE). */
  async read(): Promise<void> {
    this.readAt = Date.now()
    try {
      const { rows } = await this.db.raw(
        `SELECT most_common_vals::text::text[] AS vals, most_common_freqs AS freqs FROM pg_stats
         WHERE schemaname = current_schema() AND tablename = 'entity_name_trigrams' AND attname = 'trigram'`,
      )
      const [row] = rows as { vals: string[] | null; freqs: number[] | null }[]
      this.frequencies = new Map((row?.vals ?? []).map((value, i) => [value, row?.freqs?.[i] ?? 0]))
    } catch {
      // Statistics are an optimisation: without them every trigram counts as rare, and the search still
      // answers the same. The next read is tried after REFRESH_MS.
    }
  }
}

const statistics = new WeakMap<Db, TrigramFrequencies>()

/** The trigram statistics of this database's names (one reader per database). */
export function trigramFrequencies(db: Db): TrigramFrequencies {
  let stats = statistics.get(db)
  if (!stats) {
    stats = new TrigramFrequencies(db)
    statistics.set(db, stats)
  }
  return stats
}
