/**
 * The index's keys (how a token is looked up) and bounds (what a list name's score can be at most): the parts
 * of name-index.ts that need no index state.
 */
import type { NameToken } from './normalise.js'
import { EDGE_COST, MIDDLE_COST, ORGANISATION_COST, tokenWeight } from './score.js'
import type { IndexedEntry } from './types.js'

/** Key → vocabulary ids; most keys have one, kept as a bare number to spare the allocations. */
export type KeyMap = Map<string, number | number[]>

export function add(map: KeyMap, key: string, id: number): void {
  const ids = map.get(key)
  if (ids === undefined) map.set(key, id)
  else if (typeof ids === 'number') {
    if (ids !== id) map.set(key, [ids, id])
  } else if (ids[ids.length - 1] !== id) ids.push(id)
}

/**
 * The spelling and its one-letter deletions, as written and folded (a typo may change how a word folds).
 * Repeats are harmless: add() keeps an id once per key.
 */
export function deletionKeys(t: NameToken): string[] {
  const keys = [t.text]
  const spellings = t.folded === t.text ? [t.text] : [t.text, t.folded]
  if (t.folded !== t.text) keys.push(t.folded)
  for (const text of spellings) {
    for (let i = 0; i < text.length; i++) keys.push(text.slice(0, i) + text.slice(i + 1))
  }
  return keys
}

/** The skeleton and, from four consonants (where skeletonSimilarity allows one edit), its deletions. */
export function skeletonKeys(t: NameToken): string[] {
  const { skeleton } = t
  if (skeleton === '') return []
  if (skeleton.length < 4) return [skeleton]
  const keys = [skeleton]
  for (let i = 0; i < skeleton.length; i++) keys.push(skeleton.slice(0, i) + skeleton.slice(i + 1))
  return keys
}

/** What a list name's unpaired tokens must cost at least, whatever the query: see compareNames. */
export interface ListShape {
  weight: number
  /** Weights of its heaviest 1, 2 and 3 tokens: k query tokens pair with k list tokens at most. */
  heaviest: [number, number, number]
  /** Cost per unit of unpaired weight at least: a word of an organisation's name, or a middle name. */
  rate: number
  /** An individual's first or last token, the lighter: unpaired whatever a one-token query pairs. */
  edge: number
}

export function listShape(tokens: NameToken[], schema: IndexedEntry['schema']): ListShape {
  const weights = tokens.map(tokenWeight).sort((a, b) => b - a)
  const heaviest: [number, number, number] = [0, 0, 0]
  for (let k = 0; k < 3; k++) heaviest[k] = (heaviest[k - 1] ?? 0) + (weights[k] ?? 0)
  const major = tokens.filter((t) => !t.minor)
  // Repeated words and particles cost as middle names; an organisation without them costs more.
  const plain = new Set(major.map((t) => t.text)).size === tokens.length
  const first = major[0]
  const last = major[major.length - 1]
  const edge =
    schema === 'individual' && first && last && first !== last && first.text !== last.text
      ? Math.min(tokenWeight(first), tokenWeight(last))
      : 0
  const weight = weights.reduce((a, b) => a + b, 0)
  return { weight, heaviest, rate: schema !== 'individual' && plain ? ORGANISATION_COST : MIDDLE_COST, edge }
}

/** The most a list name's score can keep, (1 − cost / weight), against a query of `k` tokens. */
export function listBound(shape: ListShape, k: number): number {
  if (k > 3 || shape.weight === 0) return 1
  const unpaired = Math.max(0, shape.weight - (shape.heaviest[k - 1] ?? shape.weight))
  const edge = k === 1 ? Math.min(shape.edge, unpaired) : 0
  return 1 - (shape.rate * (unpaired - edge) + EDGE_COST * edge) / shape.weight
}
