/**
 * How well the matcher finds listed names written the ways clients write them, and how often it alerts on
 * ordinary people. The set is built from the real lists, deterministically (a seeded PRNG): for sampled
 * entries, a query is derived from a listed name by one kind of variation (a category), and the listed entry
 * is the expected hit. Negatives are invented ordinary names; they are negatives by label, and if one collides
 * with a listed name, the alert counts against the matcher all the same.
 */
import type { ListEntry } from '../lists/types.js'
import { COMPANY_WORDS, CULTURES, SPELLING_RULES, WORD_VARIANTS } from './evaluation-data.js'
import type { NameIndex } from './name-index.js'
import type { IndexedEntry, MatchOptions, ScreeningQuery } from './types.js'

export type EvalCategory =
  | 'word-order'
  | 'typo'
  | 'dropped-middle'
  | 'transliteration'
  | 'alias'
  | 'original-script'
  | 'negative'

export interface EvalCase {
  category: EvalCategory
  query: ScreeningQuery
  expected: { list: string; entryId: string } | null
}

export interface CategoryResult {
  category: EvalCategory
  cases: number
  /** Cases whose expected entry is among the results (or, for negatives, cases with any result). */
  found: number
  recall: number
}

export interface EvalReport {
  categories: CategoryResult[]
  /** Every result of every case. */
  alerts: number
  /** Results that are the case's expected entry. */
  correctAlerts: number
  precision: number
  negatives: number
  /** Negatives with at least one result: a client the reviewer would have to look at. */
  negativesAlerted: number
  alertsPer1000Negatives: number
  meanMs: number
  p95Ms: number
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Random = () => number

function pick<T>(random: Random, items: readonly T[]): T | undefined {
  return items[Math.floor(random() * items.length)]
}

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const a = out[i]
    const b = out[j]
    if (a === undefined || b === undefined) continue
    out[i] = b
    out[j] = a
  }
  return out
}

const NOT_LATIN = /[^\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]/u

/** The words of a listed name in reading order: OFAC's "LAST, First Middle" as "First Middle LAST". */
function wordsOf(name: string, schema: ListEntry['schema']): string[] {
  const parts = name.split(',')
  const ordered = schema === 'individual' && parts.length === 2 ? `${parts[1]} ${parts[0]}` : name
  return ordered.split(/\s+/).filter((w) => w !== '')
}

function wordOrder(random: Random, words: string[]): string | undefined {
  if (words.length < 2 || new Set(words).size < 2) return undefined
  for (;;) {
    const order = shuffled(random, words)
    if (order.join(' ') !== words.join(' ')) return order.join(' ')
  }
}

/** One edit (substitution, deletion, insertion, transposition) in one word of five letters or more. */
function typo(random: Random, words: string[]): string | undefined {
  const long = words.map((_, i) => i).filter((i) => /^[A-Za-z]{5,}$/.test(words[i] ?? ''))
  const i = pick(random, long)
  const word = i === undefined ? undefined : words[i]
  if (i === undefined || word === undefined) return undefined
  const upper = word === word.toUpperCase()
  const letter = () => {
    const c = String.fromCharCode(97 + Math.floor(random() * 26))
    return upper ? c.toUpperCase() : c
  }
  for (;;) {
    const at = Math.floor(random() * word.length)
    const kind = Math.floor(random() * 4)
    const edited =
      kind === 0
        ? word.slice(0, at) + letter() + word.slice(at + 1)
        : kind === 1
          ? word.slice(0, at) + word.slice(at + 1)
          : kind === 2
            ? word.slice(0, at) + letter() + word.slice(at)
            : at < word.length - 1
              ? word.slice(0, at) + word.charAt(at + 1) + word.charAt(at) + word.slice(at + 2)
              : word
    if (edited.toLowerCase() !== word.toLowerCase()) return words.map((w, j) => (j === i ? edited : w)).join(' ')
  }
}

/** First and family name kept; from five words up, one of the middle ones stays too. */
function droppedMiddle(random: Random, words: string[]): string | undefined {
  if (words.length < 3) return undefined
  const first = words[0] ?? ''
  const last = words[words.length - 1] ?? ''
  if (words.length <= 4) return `${first} ${last}`
  const middle = pick(random, words.slice(1, -1)) ?? ''
  return `${first} ${middle} ${last}`
}

/**
 * "Abd" compounds written another way: "ABDUL RAHMAN" / "ABD AL-RAHMAN" / "ABDULRAHMAN". Returns the words
 * replaced (`span` of them from `at`) and what replaces them.
 */
function abdVariants(words: string[], at: number): { at: number; span: number; word: string }[] {
  const upper = (words[at] ?? '').toUpperCase()
  const next = words[at + 1]
  const out: { at: number; span: number; word: string }[] = []
  if (/^ABD(UL|EL|AL|OL)?$/.test(upper) && next) {
    const article = /^AL-/i.exec(next)
    out.push(article ? { at, span: 2, word: `ABDUL ${next.slice(3)}` } : { at, span: 2, word: `ABD AL-${next}` })
  }
  const joined = /^ABD(?:UL|EL|AL|OL)([A-Z]{3,})$/.exec(upper)
  if (joined?.[1] && !/^L?LAH?$/.test(joined[1])) out.push({ at, span: 1, word: `ABD AL-${joined[1]}` })
  return out
}

/** One word respelt the way another transliteration would: a known variant or a spelling rule. */
function transliteration(random: Random, words: string[]): string | undefined {
  const options: { at: number; span: number; word: string }[] = []
  words.forEach((w, at) => {
    const upper = w.toUpperCase()
    const group = WORD_VARIANTS.find((g) => g.includes(upper))
    for (const variant of group ?? []) if (variant !== upper) options.push({ at, span: 1, word: variant })
    options.push(...abdVariants(words, at))
    if (upper.length < 4 || !/^[A-Z]+$/.test(upper)) return
    for (const [rule, replacement] of SPELLING_RULES) {
      const respelt = upper.replace(rule, replacement)
      if (respelt !== upper) options.push({ at, span: 1, word: respelt })
    }
  })
  const chosen = pick(random, options)
  return chosen && [...words.slice(0, chosen.at), chosen.word, ...words.slice(chosen.at + chosen.span)].join(' ')
}

const DERIVED: [EvalCategory, (random: Random, words: string[], entry: IndexedEntry) => string | undefined][] = [
  ['word-order', wordOrder],
  ['typo', typo],
  [
    'dropped-middle',
    (random, words, entry) => (entry.schema === 'individual' ? droppedMiddle(random, words) : undefined),
  ],
  ['transliteration', transliteration],
]

function querySchema(entry: IndexedEntry): ScreeningQuery['schema'] {
  return entry.schema === 'individual' ? 'individual' : 'organisation'
}

function negatives(random: Random, count: number): EvalCase[] {
  const names = new Set<string>()
  for (let attempts = 0; names.size < count && attempts < count * 20; attempts++) {
    if (random() < 0.2) {
      const [words, trades, forms] = COMPANY_WORDS
      names.add(`o:${[pick(random, words), pick(random, trades), pick(random, forms)].join(' ').trim()}`)
      continue
    }
    const culture = pick(random, CULTURES)
    const other = random() < 0.1 ? pick(random, CULTURES) : culture
    if (!culture || !other) continue
    const given = pick(random, culture[0])
    const middle = random() < 0.2 ? ` ${pick(random, culture[0])}` : ''
    const family = pick(random, other[1])
    if (given && family) names.add(`i:${given}${middle} ${family}`)
  }
  return [...names].map((n) => ({
    category: 'negative',
    query: { name: n.slice(2), schema: n.startsWith('i:') ? 'individual' : 'organisation' },
    expected: null,
  }))
}

/**
 * The evaluation set: up to `perCategory` cases for each kind of variation of a primary name in Latin script
 * (word order shuffled; one typo in one word of 5 letters or more; middle names dropped; one word respelt as
 * another transliteration would, evaluation-data.ts), a strong alias of each sampled entry as it stands,
 * every original-script name, and at least as many invented negatives as positives (80% individuals from
 * 22 naming cultures, one in ten with a family name from another; 20% invented companies). Queries carry the
 * entry's kind (vessels and aircraft as organisations), no date of birth and no country: names only.
 */
export function buildEvaluationSet(entries: IndexedEntry[], perCategory = 500, seed = 20240601): EvalCase[] {
  const random = seededRandom(seed)
  const cases: EvalCase[] = []
  for (const [category, derive] of DERIVED) {
    let made = 0
    for (const entry of shuffled(random, entries)) {
      if (made >= perCategory) break
      if (NOT_LATIN.test(entry.name)) continue
      const name = derive(random, wordsOf(entry.name, entry.schema), entry)
      if (name === undefined) continue
      cases.push({ category, query: { name, schema: querySchema(entry) }, expected: entry })
      made++
    }
  }
  let aliases = 0
  for (const entry of shuffled(random, entries)) {
    if (aliases >= perCategory) break
    const strong = entry.names.slice(1).filter((n) => n.quality === 'strong' && !n.originalScript)
    const alias = pick(
      random,
      strong.filter((n) => !NOT_LATIN.test(n.name)),
    )
    if (!alias) continue
    cases.push({ category: 'alias', query: { name: alias.name, schema: querySchema(entry) }, expected: entry })
    aliases++
  }
  for (const entry of entries) {
    for (const n of entry.names) {
      if (n.originalScript) {
        cases.push({
          category: 'original-script',
          query: { name: n.name, schema: querySchema(entry) },
          expected: entry,
        })
      }
    }
  }
  const positives = cases.map(({ category, query, expected }) => ({
    category,
    query,
    expected: expected && { list: expected.list, entryId: expected.entryId },
  }))
  return [...positives, ...negatives(random, Math.max(positives.length, 1000))]
}

export function evaluate(index: NameIndex, cases: EvalCase[], options: MatchOptions): EvalReport {
  const byCategory = new Map<EvalCategory, CategoryResult>()
  const times: number[] = []
  let alerts = 0
  let correctAlerts = 0
  for (const c of cases) {
    const started = performance.now()
    const results = index.search(c.query, options)
    times.push(performance.now() - started)
    const row = byCategory.get(c.category) ?? { category: c.category, cases: 0, found: 0, recall: 0 }
    byCategory.set(c.category, row)
    row.cases++
    alerts += results.length
    const expected = c.expected
    const correct = expected ? results.filter((r) => r.list === expected.list && r.entryId === expected.entryId) : []
    correctAlerts += correct.length
    if (expected ? correct.length > 0 : results.length > 0) row.found++
  }
  const categories = [...byCategory.values()].map((r) => ({ ...r, recall: r.cases ? r.found / r.cases : 0 }))
  const negative = byCategory.get('negative')
  times.sort((a, b) => a - b)
  return {
    categories,
    alerts,
    correctAlerts,
    precision: alerts ? correctAlerts / alerts : 1,
    negatives: negative?.cases ?? 0,
    negativesAlerted: negative?.found ?? 0,
    alertsPer1000Negatives: negative?.cases ? (negative.found / negative.cases) * 1000 : 0,
    meanMs: times.length ? times.reduce((s, t) => s + t, 0) / times.length : 0,
    p95Ms: times[Math.floor(times.length * 0.95)] ?? 0,
  }
}
