/**
 * Names to comparable tokens. Lists and clients write the same person many ways: "PUTIN, Vladimir",
 * "Владимир Путин", "Dr. Vladimir Putin"; this turns each into the same few Latin, lower-case tokens, and adds
 * the keys the matcher compares spelling variants by: a folded spelling, Double Metaphone codes, and a
 * consonant skeleton for names written in Arabic script, where short vowels are not written.
 *
 * Steps: "LAST, First Middle" (OFAC's individuals) reordered to "First Middle LAST"; each word transliterated
 * to Latin with any-ascii (the Arabic article "ال" first taken off, as Latin spellings write it apart or not
 * at all); lower case; apostrophes, ayn/hamza marks and dots join ("O'Brien" → "obrien", "S.A." → "sa"),
 * any other punctuation, hyphens included, splits; "abd" compounds split alike however written
 * (name-words.ts); then, for individuals, titles dropped at the start and courtesy titles anywhere,
 * religious titles and particles ("al", "bin", "de", "van") kept as minor tokens; for organisations, legal
 * forms and joining words dropped. Nothing is dropped if nothing else would be left.
 */
import anyAscii from 'any-ascii'
import { doubleMetaphone } from 'double-metaphone'
import type { EntrySchema } from '../lists/types.js'
import {
  COURTESY_TITLES,
  isLegalForm,
  isReligiousTitle,
  isTitle,
  ORGANISATION_STOPWORDS,
  PARTICLES,
  splitAbd,
  type WordToken,
} from './name-words.js'
import { consonantSkeleton, foldSpelling } from './spelling.js'

/** A token of a name. Shared between names and queries (see makeToken): never modified. */
export interface NameToken {
  /** Latin letters and digits, lower case: "obrien", "tikriti". */
  readonly text: string
  /** `text` with common transliteration variants folded (spelling.ts). */
  readonly folded: string
  /** Double Metaphone codes (primary, and the alternate when it differs); none for numbers. */
  readonly phonetic: readonly string[]
  /** Consonants only, for comparing with names from an abjad (spelling.ts). */
  readonly skeleton: string
  /** Transliterated from an abjad (Arabic, Hebrew, Syriac script): compared by skeleton. */
  readonly abjad: boolean
  /** A particle or religious title: kept, but it weighs little and pairs only when spelt the same. */
  readonly minor: boolean
}

/** An entry's schema, or undefined for a query of unknown kind. */
export type NameSchema = EntrySchema | undefined

const ABJAD = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}]/u
/** Scripts any-ascii writes as capitalised syllables run together ("金正恩" → "JinZhengEn"). */
const SYLLABIC = /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}]/u
const JOINERS = /['’‘`´ʼʻʾʿ.]/g
const WORD_BREAK = /[\s,;:/\\|()[\]{}"«»“”&+_-]+/u

function words(name: string, individual: boolean): string[] {
  const s = name.normalize('NFC')
  // OFAC writes individuals "LAST, First Middle": the family name goes last, as queries usually write it, so
  // that a missing first or family name can be told from a missing middle name.
  const [family, given, ...more] = s.split(',')
  const ordered = individual && more.length === 0 && family?.trim() && given?.trim() ? `${given} ${family}` : s
  return ordered.split(WORD_BREAK).filter((w) => w !== '')
}

/** Words transliterated already (bounded like `made` below): lists and clients repeat words. */
const transliterations = new Map<string, WordToken[]>()

function transliterated(word: string): WordToken[] {
  let tokens = transliterations.get(word)
  if (tokens === undefined) {
    tokens = transliterate(word)
    if (transliterations.size >= MADE_MAX) transliterations.clear()
    transliterations.set(word, tokens)
  }
  return tokens
}

function transliterate(word: string): WordToken[] {
  const abjad = ABJAD.test(word)
  // The Arabic article is written joined ("التكريتي"); Latin spellings write it apart or not at all.
  const w = abjad && word.startsWith('ال') && word.length > 3 ? word.slice(2) : word
  let latin = anyAscii(w)
  if (SYLLABIC.test(w)) latin = latin.replace(/([a-z])([A-Z])/g, '$1 $2')
  // "عبد" is ayn-b-d, "`bd": the ayn Latin spellings write as a vowel.
  if (abjad) latin = latin.replace(/^`bd/, 'abd')
  return latin
    .toLowerCase()
    .replace(JOINERS, '')
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '')
    .map((text) => ({ text, abjad }))
}

function phoneticCodes(text: string): string[] {
  if (!/[a-z]/.test(text)) return []
  const [primary, alternate] = doubleMetaphone(text)
  return (primary === alternate ? [primary] : [primary, alternate]).filter((c) => c !== '')
}

/**
 * Tokens made already: names repeat tokens ("muhammad" thousands of times), and a nightly run's clients
 * too. Emptied when full rather than evicted one by one: it refills with what is common.
 */
const made = new Map<string, NameToken>()
const MADE_MAX = 200_000

export function makeToken(text: string, abjad: boolean, minor: boolean): NameToken {
  const key = `${abjad ? 'a' : 'l'}${minor ? 'm' : 'n'}${text}`
  let token = made.get(key)
  if (token === undefined) {
    token = {
      text,
      folded: foldSpelling(text),
      phonetic: phoneticCodes(text),
      skeleton: consonantSkeleton(text),
      abjad,
      minor,
    }
    if (made.size >= MADE_MAX) made.clear()
    made.set(key, token)
  }
  return token
}

/** Drops the words in `drop`, unless nothing else would be left. */
function without(tokens: WordToken[], drop: (t: WordToken) => boolean): WordToken[] {
  const kept = tokens.filter((t) => !drop(t))
  return kept.length > 0 ? kept : tokens
}

/**
 * A name as tokens, in the order of the name (family name last for OFAC's "LAST, First"). `schema`
 * undefined (a query of unknown kind): titles and legal forms are both dropped, joining words kept as minor.
 */
export function normaliseName(name: string, schema?: NameSchema): NameToken[] {
  const individual = schema === 'individual' || schema === undefined
  let tokens = splitAbd(words(name, individual).flatMap(transliterated))
  if (individual) {
    let leading = 0
    while (leading < tokens.length - 1 && isTitle(tokens[leading]?.text ?? '')) leading++
    tokens = without(tokens.slice(leading), (t) => COURTESY_TITLES.has(t.text))
  }
  if (schema !== 'individual') tokens = without(tokens, (t) => isLegalForm(t.text))
  if (!individual) tokens = without(tokens, (t) => ORGANISATION_STOPWORDS.has(t.text))
  const minor = (text: string) =>
    individual &&
    (PARTICLES.has(text) || isReligiousTitle(text) || (schema === undefined && ORGANISATION_STOPWORDS.has(text)))
  return tokens.map((t) => makeToken(t.text, t.abjad, minor(t.text)))
}
