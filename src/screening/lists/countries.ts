/**
 * Country names as the sanctions lists write them ("Korea, North", "Iran (Islamic Republic of)", "Burma") to ISO
 * 3166-1 alpha-2 codes. i18n-iso-countries knows most English names; the table below holds the spellings it
 * misses, found by running every country name of the real OFAC and UN files through it.
 */
import { createRequire } from 'node:module'
import countries from 'i18n-iso-countries'

const require = createRequire(import.meta.url)
countries.registerLocale(require('i18n-iso-countries/langs/en.json'))

/** Spellings i18n-iso-countries does not resolve, keyed in lower case. */
const BY_HAND: Record<string, string> = {
  'bahamas, the': 'BS',
  'british virgin islands': 'VG',
  brunei: 'BN',
  burma: 'MM',
  'cabo verde': 'CV',
  'china, hong kong special administrative region': 'HK',
  'congo, democratic republic of the': 'CD',
  'congo, republic of the': 'CG',
  // OFAC drops the apostrophe of "Côte d'Ivoire".
  'cote d ivoire': 'CI',
  "democratic people's republic of korea": 'KP',
  // One OFAC entry gives its nationality as an adjective.
  eritrean: 'ER',
  'iran (islamic republic of)': 'IR',
  'korea, north': 'KP',
  'korea, south': 'KR',
  laos: 'LA',
  macau: 'MO',
  'macedonia, the former yugoslav republic of': 'MK',
  moldova: 'MD',
  palestinian: 'PS',
  'west bank': 'PS',
  'region: gaza': 'PS',
  // OFAC lists Crimea as a region of its own; ISO 3166 (and OpenSanctions) count it as Ukraine.
  'region: crimea': 'UA',
  'region: northern mali': 'ML',
  'st. kitts & nevis': 'KN',
  'st. vincent and the grenadines': 'VC',
  syria: 'SY',
  'united kingdom of great britain and northern ireland': 'GB',
  'viet nam': 'VN',
  // Deliberately absent, so skipped: "Netherlands Antilles" (dissolved, no current code), "Region: Kafia Kingi"
  // (claimed by both Sudans), "former Soviet Union", "undetermined", "None Identified", "na".
}

const cache = new Map<string, string | undefined>()

/**
 * The ISO alpha-2 code (upper case) of a country name, or undefined when the name is no country we can place.
 * An unknown name is not an error: the lists also say "undetermined" or "former Soviet Union".
 */
export function countryCode(name: string): string | undefined {
  const key = name
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/\.$/, '')
    // "possibly Palestinian": the hedge does not change which country to check.
    .replace(/^possibly /i, '')
    .toLowerCase()
  if (key === '' || key === '-0-') return undefined
  if (cache.has(key)) return cache.get(key)
  const code = BY_HAND[key] ?? countries.getAlpha2Code(key, 'en')
  cache.set(key, code)
  return code
}

/** An ISO alpha-2 code in any case ("ru") → upper case ("RU"); not a current code ("suhh", "zz") → undefined. */
export function alpha2(code: string): string | undefined {
  const upper = code.trim().toUpperCase()
  return /^[A-Z]{2}$/.test(upper) && countries.isValid(upper) ? upper : undefined
}
