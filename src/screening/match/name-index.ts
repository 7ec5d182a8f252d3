/**
 * Every list name, normalised once, behind an inverted index, so that a query is compared only with the names
 * that could reach the threshold, never with all of them.
 *
 * Each distinct token of the lists is a vocabulary entry with its postings (the names holding it). A query
 * token finds the vocabulary tokens it may pair with through keys: the same spelling; the same folded
 * spelling; a Double Metaphone code (4 letters and more); the spelling or its one-letter deletions, as
 * written and folded (SymSpell's deletion neighbourhood: any one typo, 4 letters and more); and, across
 * scripts, the consonant skeleton. Frequent tokens ("muhammad", "abd") are not dropped from the lookup, for
 * recall: their postings are walked (typed arrays, cheap) to add up, for each name, the most the query tokens
 * it holds could contribute to its score; that times the least its unpaired tokens must cost (listBound), plus
 * the most the facts could add, bounds the name's score. Only names whose bound reaches the threshold are
 * scored in full: a name holding only "mohammed" of "Mohammed Abdullah Rahimi" cannot reach it, nor can
 * "MOHAMMED, Omar" for a query "Mohammed", and neither is ever scored. What the keys miss (two typos in one
 * word) is missed.
 */
import { toPotentialMatch } from './explain.js'
import { BIRTH_DATE_EXACT, COUNTRY_SAME, MAX_FACT_RAISE, schemaEffect } from './facts.js'
import { add, deletionKeys, type KeyMap, type ListShape, listBound, listShape, skeletonKeys } from './index-keys.js'
import { type NameToken, normaliseName } from './normalise.js'
import { type EntryScore, type PreparedEntry, type SimilarityOf, scoreEntry, tokenWeight } from './score.js'
import { PAIR_MIN, tokenSimilarity } from './similarity.js'
import type { IndexedEntry, MatchOptions, PotentialMatch, ScreeningQuery } from './types.js'

export type { IndexedEntry, MatchOptions, PotentialMatch, ScreeningQuery } from './types.js'

/**
 * The threshold from scripts/eval-screening.ts on the shipped lists: at 0.88 every Latin-script variant
 * category is at 98.6% recall or more and the invented negatives alert 8.7 times per 1,000; at 0.87 the
 * negatives are at 9.4 (too near the 10 allowed), at 0.89 one-typo recall falls to 96% (a typo scores 0.88).
 */
export const DEFAULT_MATCH_OPTIONS: MatchOptions = { threshold: 0.88, useBirthDate: true, useCountry: true }

/** Typos and phonetic codes are looked up from this length; shorter tokens pair only as spelling variants. */
const FUZZY_MIN_LENGTH = 4

interface QueryPlan {
  tokens: NameToken[]
  similarity: SimilarityOf
  /** List names (ids) whose bound reaches the threshold: those scored in full. */
  names: number[]
}

export class NameIndex {
  private readonly entries: PreparedEntry[] = []
  private readonly vocabulary: NameToken[] = []
  /** Tokens are shared objects (makeToken): one per spelling, so the object is the key. */
  private readonly vocabularyIds = new Map<NameToken, number>()
  /** For each vocabulary token (id), the list names (ids) holding it. */
  private readonly postings: Int32Array[]
  /** For each list name (id), its entry (index into entries) and its place among the entry's names. */
  private readonly nameEntry: Int32Array
  private readonly nameOrdinal: Int32Array
  /** For each list name: what its unpaired tokens must cost at least (see listBound). */
  private readonly listShape: ListShape[] = []
  private readonly byText: KeyMap = new Map()
  private readonly byFolded: KeyMap = new Map()
  private readonly byPhonetic: KeyMap = new Map()
  private readonly byDeletion: KeyMap = new Map()
  /** Consonant skeletons and, from four consonants, their deletions: Latin tokens, and tokens from an abjad. */
  private readonly bySkeleton: KeyMap = new Map()
  private readonly byAbjadSkeleton: KeyMap = new Map()
  // Scratch space for queries, one slot per list name; a stamp tells this query's values from stale ones.
  private readonly bound: Float64Array
  private readonly boundStamp: Uint32Array
  private readonly tokenBest: Float64Array
  private readonly tokenStamp: Uint32Array
  private stamp = 0

  constructor(entries: IndexedEntry[]) {
    const postings: number[][] = []
    const nameEntry: number[] = []
    const nameOrdinal: number[] = []
    for (const entry of entries) {
      const names = entry.names.map((n) => normaliseName(n.name, entry.schema).map((t) => this.intern(t)))
      for (const [ordinal, ids] of names.entries()) {
        const nameId = nameEntry.length
        nameEntry.push(this.entries.length)
        nameOrdinal.push(ordinal)
        this.listShape.push(
          listShape(
            ids.flatMap((id) => this.vocabulary[id] ?? []),
            entry.schema,
          ),
        )
        for (const id of ids) {
          const list = postings[id] ?? []
          postings[id] = list
          if (list[list.length - 1] !== nameId) list.push(nameId)
        }
      }
      const tokens = names.map((ids) => ids.flatMap((id) => this.vocabulary[id] ?? []))
      this.entries.push({ entry, names: tokens })
    }
    this.postings = this.vocabulary.map((_, id) => Int32Array.from(postings[id] ?? []))
    this.nameEntry = Int32Array.from(nameEntry)
    this.nameOrdinal = Int32Array.from(nameOrdinal)
    this.bound = new Float64Array(nameEntry.length)
    this.boundStamp = new Uint32Array(nameEntry.length)
    this.tokenBest = new Float64Array(nameEntry.length)
    this.tokenStamp = new Uint32Array(nameEntry.length)
  }

  /** Number of list names indexed (primary names and aliases). */
  get size(): number {
    return this.nameEntry.length
  }

  /** The token's vocabulary id, adding it (and its keys) the first time. */
  private intern(t: NameToken): number {
    const known = this.vocabularyIds.get(t)
    if (known !== undefined) return known
    const id = this.vocabulary.length
    this.vocabulary.push(t)
    this.vocabularyIds.set(t, id)
    add(this.byText, t.text, id)
    if (t.minor) return id
    for (const key of skeletonKeys(t)) add(t.abjad ? this.byAbjadSkeleton : this.bySkeleton, key, id)
    if (t.abjad) return id
    add(this.byFolded, t.folded, id)
    if (t.text.length >= FUZZY_MIN_LENGTH) {
      for (const code of t.phonetic) add(this.byPhonetic, code, id)
      for (const key of deletionKeys(t)) add(this.byDeletion, key, id)
    }
    return id
  }

  /** Vocabulary tokens query token `t` may pair with. */
  private related(t: NameToken): Set<number> {
    const ids = new Set<number>()
    const from = (map: KeyMap, key: string) => {
      const found = map.get(key)
      if (typeof found === 'number') ids.add(found)
      else for (const id of found ?? []) ids.add(id)
    }
    from(this.byText, t.text)
    // Across scripts, by skeleton: a name in Arabic script against Latin ones and the other way round.
    for (const key of skeletonKeys(t)) {
      from(this.byAbjadSkeleton, key)
      if (t.abjad) from(this.bySkeleton, key)
    }
    if (t.abjad) return ids
    from(this.byFolded, t.folded)
    if (t.text.length >= FUZZY_MIN_LENGTH) {
      for (const code of t.phonetic) from(this.byPhonetic, code)
      for (const key of deletionKeys(t)) from(this.byDeletion, key)
    }
    return ids
  }

  private plan(query: ScreeningQuery, options: MatchOptions): QueryPlan {
    const tokens = normaliseName(query.name, query.schema)
    const memo = tokens.map(() => new Map<NameToken, number>())
    const similarity: SimilarityOf = (q, l) => {
      const cache = memo[q]
      const qt = tokens[q]
      if (cache === undefined || qt === undefined) return 0
      let s = cache.get(l)
      if (s === undefined) {
        s = tokenSimilarity(qt, l)
        cache.set(l, s)
      }
      return s
    }
    let total = 0
    let free = 0
    const queryStamp = ++this.stamp
    const touched: number[] = []
    tokens.forEach((t, q) => {
      const w = tokenWeight(t)
      total += w
      // Minor tokens and initials weigh little and are everywhere: assume they pair, and look nothing up.
      if (t.minor || t.text.length === 1) {
        free += w
        return
      }
      const tokenStamp = ++this.stamp
      const seen: number[] = []
      for (const id of this.related(t)) {
        const v = this.vocabulary[id]
        const postings = this.postings[id]
        if (v === undefined || postings === undefined) continue
        const s = similarity(q, v)
        if (s < PAIR_MIN) continue
        for (const name of postings) {
          if (this.tokenStamp[name] !== tokenStamp) {
            this.tokenStamp[name] = tokenStamp
            this.tokenBest[name] = s
            seen.push(name)
          } else if (s > (this.tokenBest[name] ?? 0)) this.tokenBest[name] = s
        }
      }
      for (const name of seen) {
        if (this.boundStamp[name] !== queryStamp) {
          this.boundStamp[name] = queryStamp
          this.bound[name] = 0
          touched.push(name)
        }
        this.bound[name] = (this.bound[name] ?? 0) + w * (this.tokenBest[name] ?? 0)
      }
    })
    // A name scores at most (its bound + free) / total × what its unpaired tokens leave, plus what the facts
    // could add.
    const raise =
      (options.useBirthDate && query.birthDate ? BIRTH_DATE_EXACT : 0) +
      (options.useCountry && query.country ? COUNTRY_SAME : 0)
    const needed = options.threshold - Math.min(raise, MAX_FACT_RAISE) - 1e-9
    const names = touched.filter((name) => {
      const shape = this.listShape[name]
      const paired = Math.min(1, ((this.bound[name] ?? 0) + free) / total)
      return shape !== undefined && paired * listBound(shape, tokens.length) >= needed
    })
    return { tokens, similarity, names }
  }

  /** How many list names a query would score in full; the rest are ruled out by the index alone. */
  candidates(query: ScreeningQuery, options: MatchOptions = DEFAULT_MATCH_OPTIONS): number {
    return this.plan(query, options).names.length
  }

  /** The entries matching the query at or above the threshold, one per entry (its best name), best first. */
  search(query: ScreeningQuery, options: MatchOptions = DEFAULT_MATCH_OPTIONS): PotentialMatch[] {
    const { tokens, similarity, names } = this.plan(query, options)
    const lists = options.lists && new Set(options.lists)
    // The candidate names of each entry: only those are scored (see scoreEntry).
    const byEntry = new Map<number, number[]>()
    for (const name of names) {
      const e = this.nameEntry[name] ?? -1
      const ordinal = this.nameOrdinal[name] ?? -1
      const found = byEntry.get(e)
      if (found) found.push(ordinal)
      else byEntry.set(e, [ordinal])
    }
    const hits: { prepared: PreparedEntry; result: EntryScore }[] = []
    for (const [e, ordinals] of byEntry) {
      const prepared = this.entries[e]
      if (prepared === undefined || (lists && !lists.has(prepared.entry.list))) continue
      if (schemaEffect(query.schema, prepared.entry.schema) === 'excluded') continue
      const result = scoreEntry(query, tokens, prepared, options, similarity, ordinals)
      if (result) hits.push({ prepared, result })
    }
    hits.sort(
      (a, b) =>
        b.result.score - a.result.score ||
        a.prepared.entry.list.localeCompare(b.prepared.entry.list) ||
        a.prepared.entry.entryId.localeCompare(b.prepared.entry.entryId),
    )
    return hits.map(({ prepared, result }) => toPotentialMatch(query, tokens, prepared, result))
  }
}
