/**
 * The words names carry besides the name itself: titles, legal forms, joining words, particles, and the
 * Arabic "abd" compounds. normalise.ts drops or weighs them; this says which they are, and why.
 */
import { withinOneEdit } from './edits.js'
import { foldSpelling } from './spelling.js'

/**
 * Titles of individuals (never of organisations: "General Motors"). At the start of a name they are dropped:
 * "Dr. Sheikh Abdul Rahman" is "abd rahman". Elsewhere the courtesy titles are dropped too, but the religious
 * ones stay as minor tokens, for OFAC writes them as parts of names in any order ("BANDO, Haji", "NOORZAI,
 * Haji Kotwal", "SHEIKH, Umair Naeem") and clients write "Kotwal Haji Noorzai". Titles that are also family
 * names ("Major", "General", "Lord") count only at the start. Amir and Imam are given names: not titles.
 */
export const COURTESY_TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'rev'])
const RELIGIOUS_TITLES = new Set([
  ...['sheikh', 'shaikh', 'sheik', 'shaykh', 'haji', 'hajji', 'hadji', 'alhaj', 'alhajj', 'hajj', 'mullah'],
  ...['mulla', 'maulana', 'maulvi', 'mawlawi', 'mufti'],
])
const LEADING_TITLES = new Set([
  ...['professor', 'reverend', 'lord', 'lady', 'general', 'gen', 'colonel', 'col', 'major', 'maj', 'captain'],
  ...['capt', 'lieutenant', 'lt', 'brigadier', 'admiral', 'commander', 'sergeant', 'sgt'],
])
/** Religious titles long enough to be recognised with a typo too ("SAHYKH"; not "HADDI", a name). */
const LONG_RELIGIOUS_TITLES = [...RELIGIOUS_TITLES].filter((h) => h.length >= 6)

export function isReligiousTitle(text: string): boolean {
  if (RELIGIOUS_TITLES.has(text)) return true
  return text.length >= 6 && LONG_RELIGIOUS_TITLES.some((h) => withinOneEdit(text, h))
}

export function isTitle(text: string): boolean {
  return LEADING_TITLES.has(text) || COURTESY_TITLES.has(text) || isReligiousTitle(text)
}

/**
 * Legal forms dropped from organisations' names (and from queries whose schema is unknown): "ACME TRADING
 * CO., LTD." and "Acme Trading Limited" are the same company. Dots are removed before, so "S.A." is "sa".
 * The long ones are recognised with a typo too ("LIMITD"): an unpaired query token costs a lot.
 */
const LEGAL_FORMS = new Set([
  ...['ltd', 'limited', 'llc', 'llp', 'lp', 'plc', 'inc', 'incorporated', 'corp', 'corporation', 'co', 'company'],
  ...['liability', 'sa', 'sas', 'sarl', 'sl', 'srl', 'rl', 'spa', 'cv', 'ag', 'gmbh', 'kg', 'bv', 'nv', 'ab', 'as'],
  ...['oy', 'oyj', 'ooo', 'zao', 'oao', 'pao', 'ao', 'pjsc', 'ojsc', 'cjsc', 'jsc', 'tov', 'fze', 'fzco', 'fzc'],
  ...['fzllc', 'pte', 'pty', 'bhd', 'sdn', 'kk', 'est', 'ltda', 'cia', 'sal', 'sae', 'mbh', 'corporacion'],
  ...['compania', 'companhia', 'sociedad', 'sociedade', 'anonima', 'limitada', 'societe', 'anonyme'],
  ...['gesellschaft', 'haftung'],
  // Russian legal forms spelt out: "OBSHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU" is OOO.
  ...['obshchestvo', 'ogranichennoy', 'otvetstvennostyu', 'aktsionernoe', 'zakrytoe', 'otkrytoe', 'publichnoe'],
])
const LONG_LEGAL_FORMS = [...LEGAL_FORMS].filter((f) => f.length >= 6)

export function isLegalForm(text: string): boolean {
  if (LEGAL_FORMS.has(text)) return true
  if (text.length < 5) return false
  const folded = foldSpelling(text)
  return LONG_LEGAL_FORMS.some((f) => withinOneEdit(text, f) || withinOneEdit(folded, f))
}

/** Joining words dropped from organisations' names: they say nothing about which company it is. */
export const ORGANISATION_STOPWORDS = new Set([
  ...['the', 'of', 'and', 'for', 'und', 'et', 'y', 'de', 'del', 'la', 'le', 'les', 'des', 'du', 'al', 'el'],
  ...['da', 'di', 'do', 'dos', 'das', 'von', 'van', 'der', 'den'],
])

/**
 * Particles of individuals' names, kept as minor tokens. The Arabic article "al-" (Latin spellings write it
 * joined, apart, or not at all: "AL-TIKRITI", "Al Tikriti", "Tikriti"; watchman drops it as a stopword) and
 * "bin"/"ibn" come and go between spellings of one person; dropping them would leave "Li Bin" as "Li".
 */
export const PARTICLES = new Set([
  ...['al', 'el', 'ul', 'bin', 'ibn', 'bint', 'binti', 'de', 'da', 'di', 'du', 'del', 'della', 'dos', 'das'],
  ...['van', 'von', 'der', 'den', 'y'],
])

/**
 * "Abd" compounds ("servant of"), written as one word or two: "Abdul Rahman", "Abd al-Rahman", "Abdurrahman",
 * "ABDELRAHMAN", "عبد الرحمن" are all "abd rahman": two tokens, so that word order and dropped words work as
 * for other names.
 */
const ABD_WORDS = new Set(['abd', 'abdul', 'abdel', 'abdal', 'abdol', 'abdoul', 'abdou', 'abdu', 'abdur', 'abdus'])
const LONG_ABD_WORDS = [...ABD_WORDS].filter((w) => w.length >= 5)
/** The linking vowel and article after "abd": "-ul-", "-el-", "-ur-r", "-i-". */
const ABD_LINK = /^(?:[aeiou]{1,2}([lrsnzdt])(?=\1)|[aeiou]{1,2}l|[aeiou](?=[^aeiou]))/
/** Allah, after "abd", however written ("Abdullah", "Abd Allah", "Abdallah", "Abdulah", "عبد الله"). */
const ALLAH = /^[aeiou]{0,2}l{1,2}(?:ah?|h)$/
/** "Abdullah" and its spellings, long enough to be recognised with a typo ("ADULLAH"). */
const ABD_ALLAH = ['abdullah', 'abdallah', 'abdollah', 'abdulla', 'abdalla']

/**
 * An "abd" word: "Abdul" and kin, or one letter off them when the word still has its b and d ("ABHDUL", a
 * typo of the commonest element of Arabic names; "ANDAL" is a name).
 */
function isAbdWord(text: string): boolean {
  if (ABD_WORDS.has(text)) return true
  if (text.length < 4 || text.length > 6 || !text.includes('b') || !text.includes('d')) return false
  return LONG_ABD_WORDS.some((w) => withinOneEdit(text, w))
}

export interface WordToken {
  text: string
  /** From an abjad (Arabic script): written without short vowels, the article joined. */
  abjad: boolean
}

/** Splits "abd" compounds into "abd" and the word it governs, spelt without its linking vowel and article. */
export function splitAbd<T extends WordToken>(tokens: T[]): T[] {
  const out: T[] = []
  let afterAbd = false
  for (const t of tokens) {
    const { text } = t
    const abd = text.startsWith('abd')
    if (isAbdWord(text)) {
      out.push({ ...t, text: 'abd' })
    } else if (
      text.length >= 6 &&
      ((abd && ALLAH.test(text.slice(3))) || ABD_ALLAH.some((w) => withinOneEdit(text, w)))
    ) {
      out.push({ ...t, text: 'abd' }, { ...t, text: 'lah' })
    } else if (abd && text.length >= 6) {
      // Arabic script joins the article too: "عبدالرحمن" is "abdlrhmn".
      const rest = text.slice(3).replace(ABD_LINK, '')
      out.push({ ...t, text: 'abd' }, { ...t, text: t.abjad ? rest.replace(/^l(?=..)/, '') : rest })
    } else {
      out.push(afterAbd && ALLAH.test(text) ? { ...t, text: 'lah' } : t)
    }
    afterAbd = out[out.length - 1]?.text === 'abd'
  }
  return out
}
