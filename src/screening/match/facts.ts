/**
 * What the facts both sides know do to a name score: date of birth, country, and the kind of entry. Each
 * effect is a signed amount added to the name score (then kept within 0..1), or 'not used' when either side
 * does not say. The amounts are small beside the name score: facts confirm or cast doubt on a name match, they
 * do not make one. A clearly different date of birth alone never clears an identical name (1 − 0.10 is still
 * above the default threshold); with a different country too, it does.
 */
import type { EntrySchema } from '../lists/types.js'
import type { FactEffect, ScreeningQuery } from './types.js'

/** The same day of birth. */
export const BIRTH_DATE_EXACT = 0.06
/** Compatible at the precision both have: the same year (or month) where one side gives only that. */
export const BIRTH_DATE_COMPATIBLE = 0.03
/** Two years or more from every date the list gives ("circa" and ranges are listed as each year). Within a year: 0. */
export const BIRTH_DATE_DIFFERENT = -0.1
/** Country, where both sides have one. Listed countries include addresses, so a mismatch lowers gently. */
export const COUNTRY_SAME = 0.03
export const COUNTRY_DIFFERENT = -0.05
/** An individual against an organisation, or the other way round: possible (companies bear names), less likely. */
export const SCHEMA_MISMATCH = -0.15
/** The most the facts can raise a score: what the index takes off the threshold when it rules names out. */
export const MAX_FACT_RAISE = BIRTH_DATE_EXACT + COUNTRY_SAME

export interface BirthDateEffect {
  effect: FactEffect
  /** The list's date that decided, if any. */
  list: string | null
}

/** 'YYYY[-MM[-DD]]' → its year (NaN if it is not one). */
function yearOf(date: string): number {
  return Number(date.slice(0, 4))
}

/** What the query's date of birth does against the list's dates ('YYYY-MM-DD', 'YYYY-MM' or 'YYYY'). */
export function birthDateEffect(query: string | undefined, list: string[]): BirthDateEffect {
  if (!query || list.length === 0) return { effect: 'not used', list: null }
  const exact = list.find((d) => d === query && d.length === 10)
  if (exact) return { effect: BIRTH_DATE_EXACT, list: exact }
  const compatible = list.find((d) => d.startsWith(query) || query.startsWith(d))
  if (compatible) return { effect: BIRTH_DATE_COMPATIBLE, list: compatible }
  const year = yearOf(query)
  let nearest: string | null = null
  let distance = Number.POSITIVE_INFINITY
  for (const d of list) {
    const gap = Math.abs(yearOf(d) - year)
    if (gap < distance) {
      distance = gap
      nearest = d
    }
  }
  if (!Number.isFinite(distance)) return { effect: 'not used', list: null }
  return { effect: distance <= 1 ? 0 : BIRTH_DATE_DIFFERENT, list: nearest }
}

/** What the query's country (ISO alpha-2) does against the list's nationalities and address countries. */
export function countryEffect(query: string | undefined, list: string[]): FactEffect {
  if (!query || list.length === 0) return 'not used'
  return list.includes(query.toUpperCase()) ? COUNTRY_SAME : COUNTRY_DIFFERENT
}

/**
 * An individual is never a vessel or an aircraft: excluded. Individual against organisation either way:
 * lowered. Organisations against vessels and aircraft: as organisations (OFAC screens them by name only).
 * A query of unknown kind: compared with everything, no effect.
 */
export function schemaEffect(query: ScreeningQuery['schema'], entry: EntrySchema): FactEffect | 'excluded' {
  if (query === undefined) return 'not used'
  if (query === 'individual') {
    if (entry === 'vessel' || entry === 'aircraft') return 'excluded'
    return entry === 'individual' ? 0 : SCHEMA_MISMATCH
  }
  return entry === 'individual' ? SCHEMA_MISMATCH : 0
}

export function effectAmount(effect: FactEffect): number {
  return effect === 'not used' ? 0 : effect
}
