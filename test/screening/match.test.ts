import t from 'tap'
import type { EntryName, EntrySchema } from '../../src/screening/lists/types.js'
import { buildEvaluationSet, evaluate, seededRandom } from '../../src/screening/match/evaluation.js'
import {
  BIRTH_DATE_COMPATIBLE,
  BIRTH_DATE_DIFFERENT,
  BIRTH_DATE_EXACT,
  COUNTRY_DIFFERENT,
  COUNTRY_SAME,
  SCHEMA_MISMATCH,
} from '../../src/screening/match/facts.js'
import {
  DEFAULT_MATCH_OPTIONS,
  type IndexedEntry,
  NameIndex,
  type ScreeningQuery,
} from '../../src/screening/match/name-index.js'
import { normaliseName } from '../../src/screening/match/normalise.js'
import { matchEntry } from '../../src/screening/match/score.js'

/** A list entry; names given as 'NAME' (strong) or ['NAME', 'weak'] or ['NAME', 'script'] (original script). */
function anEntry(
  list: string,
  entryId: string,
  schema: EntrySchema,
  names: (string | [string, 'weak' | 'script'])[],
  facts: { birthDates?: string[]; countries?: string[] } = {},
): IndexedEntry {
  const entryNames: EntryName[] = names.map((n) =>
    typeof n === 'string'
      ? { name: n, quality: 'strong' }
      : n[1] === 'weak'
        ? { name: n[0], quality: 'weak' }
        : { name: n[0], quality: 'strong', originalScript: true },
  )
  const name = entryNames[0]?.name ?? ''
  return {
    list,
    entryId,
    schema,
    topics: ['sanction'],
    name,
    names: entryNames,
    birthDates: facts.birthDates ?? [],
    countries: facts.countries ?? [],
    programs: [],
  }
}

const bwambale = anEntry('un', '6907994', 'individual', ['BWAMBALE, Frank Kakolele', 'FRANK KAKORERE'], {
  birthDates: ['1960-05-03'],
  countries: ['CD'],
})
const saddam = anEntry('un', '6908001', 'individual', ['SADDAM HUSSEIN AL-TIKRITI'])
const putin = anEntry('ofac-sdn', '9001', 'individual', ['PUTIN, Vladimir'])
const banco = anEntry('ofac-sdn', '306', 'organisation', ['BANCO NACIONAL DE CUBA', 'NATIONAL BANK OF CUBA'])
const vessel = anEntry('ofac-sdn', '7000', 'vessel', ['OCEAN STAR'])
const marzook = anEntry('ofac-sdn', '3754', 'individual', ['ABU MARZOOK, Mousa Mohammed', ['ABU UMAR', 'weak']])
const hammad = anEntry('ofac-sdn', '8100', 'individual', ['HAMMAD, Yusuf Ali', ['Yusuf HAMMADI', 'weak']])
const hassan = anEntry('ofac-sdn', '8200', 'individual', ['HASSAN, Ahmed', 'HASSAN, Ahmad'])
const hassanAli = anEntry('un', '8300', 'individual', ['AHMED ALI HASSAN'])
const entries = [bwambale, saddam, putin, banco, vessel, marzook, hammad, hassan, hassanAli]
const index = new NameIndex(entries)
const options = DEFAULT_MATCH_OPTIONS

const search = (query: ScreeningQuery, opts = options) => index.search(query, opts)
const top = (query: ScreeningQuery, opts = options) => search(query, opts)[0]
const texts = (name: string, schema?: EntrySchema) => normaliseName(name, schema).map((tok) => tok.text)

t.test('normalising: transliteration, order, punctuation, titles, legal forms', async (t) => {
  t.same(texts('PUTIN, Vladimir', 'individual'), ['vladimir', 'putin'], '"LAST, First" read as "First LAST"')
  t.same(texts('Владимир Путин'), ['vladimir', 'putin'], 'Cyrillic transliterated')
  t.same(texts("O'BRIEN, Patrick", 'individual'), ['patrick', 'obrien'], 'apostrophes join')
  t.same(texts('Jean-Luc Picard'), ['jean', 'luc', 'picard'], 'hyphens split')
  t.same(texts('Dr. Sheikh Ahmed Hassan', 'individual'), ['ahmed', 'hassan'], 'leading titles dropped')
  t.same(texts('Mr John Smith'), ['john', 'smith'])
  t.same(texts('ANGLO-CARIBBEAN CO., LTD.', 'organisation'), ['anglo', 'caribbean'], 'legal forms dropped')
  t.same(texts('Grupo Mexicano S.A. de C.V.', 'organisation'), ['grupo', 'mexicano'])
  t.same(texts('Acme Trading Limitd', 'organisation'), ['acme', 'trading'], 'a legal form with a typo too')
  t.same(texts('General Motors', 'organisation'), ['general', 'motors'], 'titles stay in organisations')
  const major = (name: string) =>
    normaliseName(name, 'individual')
      .filter((tok) => !tok.minor)
      .map((tok) => tok.text)
  t.same(major('Abd al-Rahman'), ['abd', 'rahman'], '"abd" compounds split alike, the article minor')
  t.same(major('ABDURRAHMAN'), ['abd', 'rahman'])
  t.same(major('Abdel Rahman'), ['abd', 'rahman'])
  const arabic = normaliseName('صدام حسين التكريتي', 'individual')
  t.same(
    arabic.map((tok) => tok.skeleton),
    normaliseName('Saddam Hussein Tikriti').map((tok) => tok.skeleton),
    'Arabic script (article off) and Latin share consonant skeletons',
  )
  t.ok(arabic.every((tok) => tok.abjad))
  const al = normaliseName('AL-TIKRITI, Saddam', 'individual').find((tok) => tok.text === 'al')
  t.equal(al?.minor, true, 'the article is a minor token of an individual')
  t.ok(normaliseName('Mohammed')[0]?.phonetic.includes('MHMT'), 'Double Metaphone key')
})

t.test('word order, typos, dropped middle names, "LAST, First", titles', async (t) => {
  t.equal(top({ name: 'Kakolele Frank Bwambale' })?.score, 1, 'word order swapped')
  t.equal(top({ name: 'BWAMBALE, Frank Kakolele' })?.score, 1, '"LAST, First" against "LAST, First"')
  t.equal(top({ name: 'Dr. Frank Kakolele Bwambale', schema: 'individual' })?.score, 1, 'title dropped')
  const typo = top({ name: 'Frank Kakolele Bwambele' })
  t.equal(typo?.entryId, '6907994', 'one typo')
  t.ok(typo && typo.score < 1 && typo.score >= options.threshold)
  const pair = typo?.explanation.pairs.find((p) => p.query === 'bwambele')
  t.equal(pair?.list, 'bwambale')
  t.ok(pair && pair.similarity < 1 && pair.similarity >= 0.85, 'the pair says how close')
  const dropped = top({ name: 'Frank Bwambale' })
  t.equal(dropped?.entryId, '6907994', 'middle name dropped')
  t.same(dropped?.explanation.unpairedList, ['kakolele'])
  t.same(dropped?.explanation.unpairedQuery, [])
  t.ok(dropped && dropped.score < 1)
  t.same(search({ name: 'Bwambale' }), [], 'a family name alone is not enough')
  t.same(search({ name: 'Frank Kakolele Bwambale Mugisha' }).length, 0, 'an unpaired query token costs much')
})

t.test('transliteration: Cyrillic and Arabic script', async (t) => {
  const cyrillic = top({ name: 'Владимир Путин', schema: 'individual' })
  t.equal(cyrillic?.entryId, '9001')
  t.equal(cyrillic?.score, 1)
  t.equal(top({ name: 'Wladimir Putin' })?.entryId, '9001', 'a Latin spelling variant')
  const arabic = top({ name: 'صدام حسين التكريتي', schema: 'individual' })
  t.equal(arabic?.entryId, '6908001', 'Arabic script against a Latin-only entry')
  t.same(arabic?.explanation.pairs.map((p) => p.list).sort(), ['hussein', 'saddam', 'tikriti'])
  t.equal(top({ name: 'Muhammad Mousa Abu Marzuq' })?.entryId, '3754', 'Latin variants (Musa/Mousa, q/k, ou/u)')
})

t.test('organisations: legal forms, joining words, vessels', async (t) => {
  t.equal(top({ name: 'Banco Nacional de Cuba S.A.', schema: 'organisation' })?.score, 1)
  t.equal(top({ name: 'The National Bank of Cuba', schema: 'organisation' })?.score, 1)
  t.equal(top({ name: 'Ocean Star', schema: 'organisation' })?.entryId, '7000')
  t.same(search({ name: 'Ocean Star', schema: 'individual' }), [], 'an individual is never a vessel')
  const lower = { ...options, threshold: 0.8 }
  const mismatch = top({ name: 'Frank Kakolele Bwambale', schema: 'organisation' }, lower)
  t.equal(mismatch?.explanation.schema.effect, SCHEMA_MISMATCH, 'organisation against individual: lowered')
  t.equal(mismatch?.score, 1 + SCHEMA_MISMATCH)
  t.same(search({ name: 'Frank Kakolele Bwambale', schema: 'organisation' }), [], 'below the default threshold')
  t.equal(top({ name: 'Frank Kakolele Bwambale' })?.explanation.schema.effect, 'not used', 'query of unknown kind')
})

t.test('weak aliases only confirm a hit; they never raise one alone', async (t) => {
  t.same(search({ name: 'Abu Umar' }), [], 'the weak alias alone: nothing')
  const confirmed = top({ name: 'Yusuf Hammadi' })
  t.equal(confirmed?.entryId, '8100', 'weak alias, with a strong name close enough')
  t.equal(confirmed?.explanation.matchedName, 'Yusuf HAMMADI')
  t.equal(confirmed?.explanation.quality, 'weak')
  t.equal(confirmed?.explanation.confirmedBy?.name, 'HAMMAD, Yusuf Ali')
  t.ok((confirmed?.explanation.confirmedBy?.score ?? 1) < options.threshold, 'the strong name alone would not do')
})

t.test('dates of birth and countries raise and lower, and say so', async (t) => {
  const base = top({ name: 'Frank Bwambale' })?.score ?? 0
  const exact = top({ name: 'Frank Bwambale', birthDate: '1960-05-03' })
  t.equal(exact?.explanation.birthDate.effect, BIRTH_DATE_EXACT)
  t.equal(exact?.explanation.birthDate.list, '1960-05-03')
  t.ok((exact?.score ?? 0) > base)
  t.equal(top({ name: 'Frank Bwambale', birthDate: '1960' })?.explanation.birthDate.effect, BIRTH_DATE_COMPATIBLE)
  t.equal(top({ name: 'Frank Bwambale', birthDate: '1961-01-01' })?.explanation.birthDate.effect, 0, 'a year off')
  const other = top({ name: 'Frank Kakolele Bwambale', birthDate: '1975-02-01' })
  t.equal(other?.explanation.birthDate.effect, BIRTH_DATE_DIFFERENT)
  t.equal(other?.score, 1 + BIRTH_DATE_DIFFERENT, 'an identical name still alerts, lowered')
  t.same(search({ name: 'Frank Bwambale', birthDate: '1975-02-01' }), [], 'a partial name with another DOB: cleared')
  const unused = top({ name: 'Frank Bwambale', birthDate: '1975' }, { ...options, useBirthDate: false })
  t.equal(unused?.explanation.birthDate.effect, 'not used')
  t.equal(top({ name: 'Frank Bwambale', country: 'CD' })?.explanation.country.effect, COUNTRY_SAME)
  t.equal(top({ name: 'Frank Bwambale', country: 'fr' })?.explanation.country.effect, COUNTRY_DIFFERENT)
  t.equal(top({ name: 'Frank Bwambale' })?.explanation.country.effect, 'not used', 'the query has none')
  t.equal(top({ name: 'Vladimir Putin', country: 'RU' })?.explanation.country.effect, 'not used', 'the list has none')
})

t.test('results: one per entry, best first, above the threshold; explanation is plain JSON', async (t) => {
  const results = search({ name: 'Ahmed Hassan' })
  t.same(
    results.map((r) => r.entryId),
    ['8200', '8300'],
    'exact first, then the dropped middle name; two aliases, one result',
  )
  t.ok(results.every((r) => r.score >= options.threshold))
  t.ok((results[0]?.score ?? 0) > (results[1]?.score ?? 1))
  const first = results[0]
  t.same(first?.explanation.pairs.length, 2)
  t.same(JSON.parse(JSON.stringify(first)), first, 'JSON-serialisable')
  t.same(first && Object.keys(first).sort(), ['entryId', 'explanation', 'list', 'name', 'schema', 'score', 'topics'])
  t.same(
    search({ name: 'Ahmed Hassan' }, { ...options, lists: ['un'] }).map((r) => r.entryId),
    ['8300'],
    'lists',
  )
  t.same(search({ name: 'Maria Garcia' }), [], 'a clearly different name')
  t.same(search({ name: 'Ahmed Hassan Rahimi' }), [], 'a name the entries do not have')
  const direct = matchEntry({ name: 'Frank Bwambale' }, bwambale, options)
  t.equal(direct?.score, top({ name: 'Frank Bwambale' })?.score, 'the index scores as a lone comparison does')
})

t.test('the index looks up, it does not scan', async (t) => {
  t.equal(index.size, 14, 'names indexed (aliases included)')
  t.equal(index.candidates({ name: 'Zyxwv Qrstuvw' }), 0, 'no shared token key: no candidate')
  t.equal(index.candidates({ name: 'Frank Smith' }), 0, 'one token of two shared: cannot reach the threshold')
  const some = index.candidates({ name: 'Frank Bwambale' })
  t.ok(some >= 1 && some < index.size, `${some} candidates of ${index.size}`)
  t.ok(index.candidates({ name: 'Frank Bwamballe' }) >= 1, 'a typo still finds it (deletion keys)')
  t.equal(index.candidates({ name: 'Mohammed' }), 0, 'one common token: no name it could reach')
  t.same(search({ name: '' }), [], 'an empty name')
  t.same(search({ name: '.,-' }), [])
})

t.test('evaluation set: deterministic, labelled, enough negatives', async (t) => {
  const r1 = seededRandom(42)
  const r2 = seededRandom(42)
  t.same([r1(), r1(), r1()], [r2(), r2(), r2()])
  const first = buildEvaluationSet(entries, 20)
  t.same(buildEvaluationSet(entries, 20), first, 'the same set every time')
  const positives = first.filter((c) => c.expected !== null)
  const negatives = first.filter((c) => c.category === 'negative')
  t.ok(negatives.length >= positives.length)
  t.ok(negatives.every((c) => c.expected === null))
  t.ok(positives.some((c) => c.category === 'word-order'))
  const report = evaluate(index, first, options)
  t.ok(report.categories.some((c) => c.category === 'word-order' && c.recall === 1))
  t.ok(report.meanMs >= 0 && report.precision <= 1)
})
