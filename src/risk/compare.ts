import {
  countryName,
  deliveryChannelLabel,
  ENTITY_KINDS,
  type EntityKind,
  volumeBandLabel,
} from '../entities/reference.js'
import { fmt } from '../plugins/app/render.js'
import { COUNTRY_LIST_KEYS, COUNTRY_LIST_NAMES, type CountryListKey, isCountryListKey } from './country-lists.js'
import { PILLAR_LABELS, PILLARS, type RiskFacts } from './evaluate.js'
import type { SavedAssessment } from './service.js'

/** How an assessment's facts, results and versions read, one row of words each. */

/** Why a client is High whatever its scores, in words. */
export const FORCED_HIGH_WORDS = {
  sanctions_match: 'A confirmed sanctions match',
  pep: 'A politically exposed person',
  high_risk_country: 'A country of the client is a high-risk third country (EU) or under an FATF call for action',
} as const

const word = fmt.riskLevel
const yesNo = (b: boolean) => (b ? 'Yes' : 'No')
const listNames = (keys: readonly string[]) =>
  keys.length === 0 ? 'None' : keys.map((k) => (isCountryListKey(k) ? COUNTRY_LIST_NAMES[k] : k)).join('; ')

/** The client's countries that are on a list, each with the lists, for the Risk section. */
export function countriesOnLists(facts: RiskFacts): { label: string; country: string; lists: string }[] {
  const which = [
    { label: 'Nationality', code: facts.nationality, lists: facts.nationality_lists },
    { label: 'Country of residence', code: facts.residence, lists: facts.residence_lists },
    { label: 'Country of incorporation', code: facts.incorporation, lists: facts.incorporation_lists },
  ]
  return which
    .filter((c) => c.code && c.lists.length > 0)
    .map((c) => ({ label: c.label, country: countryName(c.code), lists: listNames(c.lists) }))
}

/** What the rules read, in words. */
function factRows(f: RiskFacts): [string, string][] {
  return [
    ['Type', ENTITY_KINDS.find((k) => k.value === (f.kind as EntityKind))?.label ?? f.kind],
    ['Legal form', f.legal_form ?? '—'],
    ['Nationality', countryName(f.nationality)],
    ['Country of residence', countryName(f.residence)],
    ['Country of incorporation', countryName(f.incorporation)],
    ['Its countries are on', listNames(f.country_lists)],
    ['Risk levels of its services', f.service_risks.length === 0 ? 'No service' : f.service_risks.map(word).join(', ')],
    ['Delivery channel', deliveryChannelLabel(f.delivery_channel)],
    ['Expected yearly volume', volumeBandLabel(f.volume_band)],
    ['Cash intensive', yesNo(f.cash_intensive)],
    ['Politically exposed person', yesNo(f.pep)],
  ]
}

function versionsWords(v: Partial<Record<CountryListKey, number>>): string {
  const known = COUNTRY_LIST_KEYS.filter((k) => v[k] !== undefined)
  return known.length === 0 ? 'Not recorded' : known.map((k) => `${COUNTRY_LIST_NAMES[k]}: version ${v[k]}`).join('; ')
}

export interface ComparisonRow {
  group: 'Result' | 'Scores' | 'What the rules read' | 'Record'
  label: string
  earlier: string
  later: string
  changed: boolean
}

/** Two saved assessments side by side: result, scores, facts and versions, each row marked when it differs. */
export function comparison(earlier: SavedAssessment, later: SavedAssessment): ComparisonRow[] {
  const rows: ComparisonRow[] = []
  const add = (group: ComparisonRow['group'], label: string, a: string, b: string) =>
    rows.push({ group, label, earlier: a, later: b, changed: a !== b })
  const how = (x: SavedAssessment) => (x.overridden ? 'Override of the recommendation' : 'The recommendation, saved')
  add('Result', 'Classification', word(earlier.classification), word(later.classification))
  add(
    'Result',
    'Recommended classification',
    word(earlier.recommendation.classification),
    word(later.recommendation.classification),
  )
  const forced = (x: SavedAssessment) =>
    x.recommendation.forcedHigh.map((r) => FORCED_HIGH_WORDS[r]).join('; ') || 'Nothing'
  add('Result', 'High whatever the scores', forced(earlier), forced(later))
  add('Result', 'Overall score', String(earlier.result.overall), String(later.result.overall))
  add('Result', 'How it was saved', how(earlier), how(later))
  add('Result', 'Rationale', earlier.rationale ?? '—', later.rationale ?? '—')
  add('Result', 'Next review by', earlier.review_due_on, later.review_due_on)
  for (const p of PILLARS)
    add('Scores', PILLAR_LABELS[p], String(earlier.result.pillars[p]), String(later.result.pillars[p]))
  const a = factRows(earlier.facts)
  const b = factRows(later.facts)
  a.forEach(([label, value], i) => {
    add('What the rules read', label, value, b[i]?.[1] ?? '—')
  })
  add('Record', 'Rule set version', String(earlier.rule_set_version), String(later.rule_set_version))
  add(
    'Record',
    'Country list versions',
    versionsWords(earlier.country_list_versions),
    versionsWords(later.country_list_versions),
  )
  add('Record', 'Saved by', earlier.created_by_name, later.created_by_name)
  return rows
}
