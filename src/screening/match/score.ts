/**
 * Scoring a query against one list entry: its names token by token, in any order (after watchman's
 * BestPairs and nomenklatura's name-part pairing), then the facts both sides know (facts.ts).
 *
 * Name score = (Σ over pairs of similarity × query token weight) / (Σ query token weights)
 *              × (1 − Σ over unpaired list tokens of cost × weight / Σ list token weights)
 * A query token left unpaired costs its whole weight: the client has a name the list entry does not. A list
 * token left unpaired costs a fraction: lists carry full names and clients often give fewer. A middle name
 * (neither the first nor the last token of an individual's name), a particle or a repeated word ("VALLE
 * VALLE") costs least; a missing first or family name more, so that "Ahmed Hassan" is not "Ahmed Hassan
 * Abdullah" while "Frank Bwambale" is "Frank Kakolele Bwambale". A token weighs its length up to 8 letters (an
 * initial 1, a minor token 0.3): long tokens carry the identity, initials and two-letter tokens little.
 */
import type { EntrySchema } from '../lists/types.js'
import { toPotentialMatch } from './explain.js'
import { type BirthDateEffect, birthDateEffect, countryEffect, effectAmount, schemaEffect } from './facts.js'
import { type NameToken, normaliseName } from './normalise.js'
import { FOLDED_SIMILARITY, PAIR_MIN, tokenSimilarity } from './similarity.js'
import type { FactEffect, IndexedEntry, MatchOptions, PotentialMatch, ScreeningQuery } from './types.js'

export const MINOR_WEIGHT = 0.3
/** Cost of an unpaired middle name, particle or repeated word, per unit of its share of the list name. */
export const MIDDLE_COST = 0.15
/** Cost of an unpaired first or family name of an individual. */
export const EDGE_COST = 0.5
/** Cost of an unpaired word of an organisation's name (legal forms and joining words are gone already). */
export const ORGANISATION_COST = 0.4
/**
 * Weak aliases only confirm a hit; they never raise one alone. A weak alias (OFAC's quoted a.k.a.s, the UN's
 * "Low" quality) is reported as the best name only when a strong name of the same entry scores at least the
 * threshold less this margin; otherwise the entry is judged on its strong names alone.
 */
export const WEAK_CONFIRM_MARGIN = 0.2

export function tokenWeight(t: NameToken): number {
  return t.minor ? MINOR_WEIGHT : Math.min(t.text.length, 8)
}

export interface NameComparison {
  score: number
  /** Indexes into the query's and the list name's tokens. */
  pairs: { q: number; l: number; similarity: number }[]
  unpairedQuery: number[]
  unpairedList: number[]
}

/** How alike query token `q` (by index) and a list token are; the index passes a memoised one. */
export type SimilarityOf = (q: number, l: NameToken) => number

/**
 * A pair of Latin spellings neither equal nor folded alike: a deviation. One in a name is a typo or a
 * variant; from the second on, each counts its similarity squared, for two deviations ("Mary Davis" /
 * "MAYER, David"; "Mohammed Barakat" / "BARAKAT, Mohammad Fayez": a variant and a missing name) are more often
 * another person. Pairs across scripts are exempt: all of theirs differ.
 */
function isDeviation(similarity: number, q: NameToken | undefined, l: NameToken | undefined): boolean {
  return similarity < FOLDED_SIMILARITY && !q?.abjad && !l?.abjad
}

/**
 * Pairs the tokens greedily, best similarity first (ties: the heavier query token first), each token at most
 * once, as watchman does; with names of a handful of tokens this is the optimal pairing but for contrived ties.
 */
export function compareNames(
  query: NameToken[],
  list: NameToken[],
  listSchema: EntrySchema,
  similarity: SimilarityOf,
): NameComparison {
  const candidates: { q: number; l: number; similarity: number; weight: number }[] = []
  query.forEach((qt, q) => {
    list.forEach((lt, l) => {
      const s = similarity(q, lt)
      if (s >= PAIR_MIN) candidates.push({ q, l, similarity: s, weight: tokenWeight(qt) })
    })
  })
  candidates.sort((a, b) => b.similarity - a.similarity || b.weight - a.weight)
  const usedQ = new Uint8Array(query.length)
  const usedL = new Uint8Array(list.length)
  const chosen: typeof candidates = []
  for (const c of candidates) {
    if (usedQ[c.q] || usedL[c.l]) continue
    usedQ[c.q] = 1
    usedL[c.l] = 1
    chosen.push(c)
  }
  const paired = new Set(chosen.map((c) => list[c.l]?.text))
  const missing = list.some((t, i) => !usedL[i] && !t.minor && !paired.has(t.text))
  let deviations = missing ? 1 : 0
  let covered = 0
  for (const c of chosen) {
    const squared = isDeviation(c.similarity, query[c.q], list[c.l]) && deviations++ > 0
    covered += c.weight * (squared ? c.similarity * c.similarity : c.similarity)
  }
  let queryWeight = 0
  const unpairedQuery: number[] = []
  query.forEach((t, i) => {
    queryWeight += tokenWeight(t)
    if (!usedQ[i]) unpairedQuery.push(i)
  })
  const first = Math.max(
    list.findIndex((t) => !t.minor),
    0,
  )
  let last = list.length - 1
  while (last > 0 && list[last]?.minor) last--
  let listWeight = 0
  let cost = 0
  const unpairedList: number[] = []
  list.forEach((t, i) => {
    const w = tokenWeight(t)
    listWeight += w
    if (usedL[i]) return
    unpairedList.push(i)
    if (t.minor || paired.has(t.text)) cost += w * MIDDLE_COST
    else if (listSchema !== 'individual') cost += w * ORGANISATION_COST
    else cost += w * (i === first || i === last ? EDGE_COST : MIDDLE_COST)
  })
  const score = queryWeight > 0 && listWeight > 0 ? (covered / queryWeight) * (1 - cost / listWeight) : 0
  const pairs = chosen.map(({ q, l, similarity: s }) => ({ q, l, similarity: s }))
  return { score, pairs, unpairedQuery, unpairedList }
}

/** A list entry with its names already normalised (the index does this once). */
export interface PreparedEntry {
  entry: IndexedEntry
  /** Parallel to entry.names. */
  names: NameToken[][]
}

export function prepareEntry(entry: IndexedEntry): PreparedEntry {
  return { entry, names: entry.names.map((n) => normaliseName(n.name, entry.schema)) }
}

export interface EntryScore {
  score: number
  /** Index into entry.names of the name that matched. */
  name: number
  comparison: NameComparison
  birthDate: BirthDateEffect
  country: FactEffect
  schema: FactEffect
  /** The strong name (index) that confirmed a weak one, and its score. */
  confirmedBy?: { name: number; score: number }
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))
const UNUSED: BirthDateEffect = { effect: 'not used', list: null }

/**
 * The entry's score for the query (its best name, facts applied), or undefined if excluded or below the
 * threshold. `only`: the names worth scoring (the index has ruled the others out); a weak alias that wins is
 * still checked against every strong name.
 */
export function scoreEntry(
  query: ScreeningQuery,
  queryTokens: NameToken[],
  prepared: PreparedEntry,
  options: MatchOptions,
  similarity: SimilarityOf,
  only?: readonly number[],
): EntryScore | undefined {
  const { entry } = prepared
  const schema = schemaEffect(query.schema, entry.schema)
  if (schema === 'excluded' || queryTokens.length === 0) return undefined
  const birthDate = options.useBirthDate ? birthDateEffect(query.birthDate, entry.birthDates) : UNUSED
  const country = options.useCountry ? countryEffect(query.country, entry.countries) : 'not used'
  const adjust = effectAmount(birthDate.effect) + effectAmount(country) + effectAmount(schema)
  let strong: { name: number; comparison: NameComparison } | undefined
  let weak: typeof strong
  const visit = (name: number, weakToo: boolean) => {
    const isWeak = entry.names[name]?.quality === 'weak'
    const tokens = prepared.names[name]
    const best = isWeak ? weak : strong
    if (tokens === undefined || (isWeak && !weakToo) || (best && best.comparison.score >= 1)) return
    const comparison = compareNames(queryTokens, tokens, entry.schema, similarity)
    if (best && comparison.score <= best.comparison.score) return
    if (isWeak) weak = { name, comparison }
    else strong = { name, comparison }
  }
  const all = prepared.names.map((_, name) => name)
  for (const name of only ?? all) visit(name, true)
  const score = (best: typeof strong) => (best ? clamp01(best.comparison.score + adjust) : 0)
  const facts = { birthDate, country, schema }
  if (weak && score(weak) >= options.threshold && score(weak) > score(strong)) {
    if (only && score(strong) < options.threshold - WEAK_CONFIRM_MARGIN) for (const name of all) visit(name, false)
    if (strong && score(weak) > score(strong) && score(strong) >= options.threshold - WEAK_CONFIRM_MARGIN) {
      return { score: score(weak), ...weak, ...facts, confirmedBy: { name: strong.name, score: score(strong) } }
    }
  }
  if (strong && score(strong) >= options.threshold) return { score: score(strong), ...strong, ...facts }
  return undefined
}

/** One query against one entry, without an index: for tests and for re-checking a single hit. */
export function matchEntry(
  query: ScreeningQuery,
  entry: IndexedEntry,
  options: MatchOptions,
): PotentialMatch | undefined {
  const queryTokens = normaliseName(query.name, query.schema)
  const prepared = prepareEntry(entry)
  const result = scoreEntry(query, queryTokens, prepared, options, (q, l) => {
    const qt = queryTokens[q]
    return qt ? tokenSimilarity(qt, l) : 0
  })
  return result && toPotentialMatch(query, queryTokens, prepared, result)
}
