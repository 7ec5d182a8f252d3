/**
 * How alike two name tokens are, 0..1. Latin spellings: the same spelling 1; folded alike (a transliteration
 * variant) 0.95; one edit apart by kind (a vowel 0.9, a typo 0.88, a final vowel more 0.84); further apart,
 * Jaro-Winkler (watchman's measure) scaled down. Either side from Arabic script: consonant skeletons.
 * Initials, tokens of three letters or fewer, numbers and minor tokens pair only as (folded) equals, where a
 * fuzzy score would be noise ("ali" / "ari").
 */
import { jaroWinkler } from '@skyra/jaro-winkler'
import { withinOneEdit } from './edits.js'
import type { NameToken } from './normalise.js'

/** Below this, two tokens are not a pair: the query token stays unpaired. */
export const PAIR_MIN = 0.8
/** An initial against a name it could abbreviate ("J" / "john"): weighs little anyway (one letter). */
export const INITIAL_SIMILARITY = 0.9
/** The same name in two transliterations ("yusuf" / "youssef" fold alike): not quite the same spelling. */
export const FOLDED_SIMILARITY = 0.95
/** Jaro-Winkler is lenient about length: "ali" / "alimov". watchman scales by this below a 0.9 length ratio. */
const LENGTH_PENALTY = 0.3

/**
 * One typo (a letter changed, dropped, added, swapped) in a word of five letters or more. Jaro-Winkler alone
 * scores some below the pairing bar ("bkbar" / "akbar": 0.78) and others too high for what they are.
 */
export const TYPO_SIMILARITY = 0.88
/** One vowel for another ("omar" / "omer", "muhamed" / "muhamad"): how transliterations differ most. */
export const VOWEL_SIMILARITY = 0.9
/** A final vowel more ("ahmadi" / "ahmad"): paired, but as a likely different name. */
export const SUFFIX_SIMILARITY = 0.84
/**
 * Two edits and more, neither spelling variant nor typo: Jaro-Winkler's prefix bonus makes "hamdan" /
 * "hamani" 0.92 and "huang" / "zhang" 0.87; what is left of Jaro-Winkler is scaled by this.
 */
export const DISTANT_FACTOR = 0.92

const NUMBER = /^[0-9]+$/
const VOWELS = 'aeiouy'
/** Letters transliterations swap like vowels: j/y ("Jusuf" / "Yusuf", "Jang" / "Yang"), v/w, s/z. */
const VARIANT_LETTERS = new Set(['jy', 'yj', 'vw', 'wv', 'sz', 'zs'])

/**
 * Kinds of one-edit difference that matter here: a vowel (or variant letter) changed, two neighbours
 * swapped, a final vowel added (often a suffix: Persian "Ahmadi" is not "Ahmad"), or any other.
 */
function oneEditKind(a: string, b: string): 'vowel' | 'swap' | 'suffix' | 'other' | undefined {
  if (!withinOneEdit(a, b)) return undefined
  if (a.length !== b.length) {
    const [short, long] = a.length < b.length ? [a, b] : [b, a]
    return long.startsWith(short) && VOWELS.includes(long.charAt(long.length - 1)) ? 'suffix' : 'other'
  }
  let i = 0
  while (a[i] === b[i]) i++
  const x = a.charAt(i)
  const y = b.charAt(i)
  if (a.slice(i + 1) === b.slice(i + 1)) {
    return (VOWELS.includes(x) && VOWELS.includes(y)) || VARIANT_LETTERS.has(x + y) ? 'vowel' : 'other'
  }
  return 'swap'
}

type EditKind = ReturnType<typeof oneEditKind>
const EDIT_ORDER: EditKind[] = ['vowel', 'swap', 'other', 'suffix', undefined]

function closest(a: EditKind, b: EditKind): EditKind {
  return EDIT_ORDER.indexOf(a) <= EDIT_ORDER.indexOf(b) ? a : b
}

/**
 * Names from an abjad have no short vowels, so only their consonants can be compared: equal skeletons are a
 * fair sign when long ("hsn": Hussein, or Hasan), a weak one when short ("l": Ali); one consonant apart is
 * allowed from four consonants up. Below the Latin figures: a skeleton says less than a spelling.
 */
export function skeletonSimilarity(a: string, b: string): number {
  if (a === '' || b === '') return 0
  if (a === b) return a.length >= 3 ? 0.92 : a.length === 2 ? 0.9 : 0.8
  if (Math.min(a.length, b.length) >= 4 && withinOneEdit(a, b)) return 0.85
  return 0
}

export function tokenSimilarity(q: NameToken, l: NameToken): number {
  if (q.text === l.text) return 1
  if (q.minor || l.minor || NUMBER.test(q.text) || NUMBER.test(l.text)) return 0
  if (q.abjad || l.abjad) return skeletonSimilarity(q.skeleton, l.skeleton)
  const short = Math.min(q.text.length, l.text.length)
  const long = Math.max(q.text.length, l.text.length)
  if (short === 1) return q.text[0] === l.text[0] ? INITIAL_SIMILARITY : 0
  if (q.folded === l.folded) return FOLDED_SIMILARITY
  if (short <= 3) return 0
  let jw = Math.max(jaroWinkler(q.text, l.text), jaroWinkler(q.folded, l.folded) * 0.98)
  const ratio = short / long
  if (ratio < 0.9) jw *= 1 - (1 - ratio) * LENGTH_PENALTY
  jw *= DISTANT_FACTOR
  const edit = closest(oneEditKind(q.folded, l.folded), oneEditKind(q.text, l.text))
  // Four letters: a changed consonant is another name ("mary" / "mark"); a vowel or a swap may be a typo.
  if (edit === 'vowel') return Math.max(jw, VOWEL_SIMILARITY)
  if (edit === 'swap' || (edit === 'other' && long >= 5)) return Math.max(jw, TYPO_SIMILARITY)
  if (edit === 'suffix' && long >= 5) return SUFFIX_SIMILARITY
  return short === 4 ? 0 : Math.min(jw, FOLDED_SIMILARITY)
}
