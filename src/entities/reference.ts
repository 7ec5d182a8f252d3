import { createRequire } from 'node:module'
import countries from 'i18n-iso-countries'

const require = createRequire(import.meta.url)
countries.registerLocale(require('i18n-iso-countries/langs/en.json'))

/** ISO 3166-1 alpha-2 codes with their English names, sorted by name (for an accessible <select>). */
export const COUNTRIES: readonly { code: string; name: string }[] = Object.entries(
  countries.getNames('en', { select: 'official' }),
)
  .map(([code, name]) => ({ code, name }))
  .sort((a, b) => a.name.localeCompare(b.name, 'en'))

const countryNames = new Map(COUNTRIES.map((c) => [c.code, c.name]))
export function isCountryCode(value: unknown): value is string {
  return typeof value === 'string' && countryNames.has(value)
}
export function countryName(code: string | null | undefined): string {
  return code ? (countryNames.get(code) ?? code) : '—'
}

export const ENTITY_KINDS = [
  { value: 'individual', label: 'Individual' },
  { value: 'organisation', label: 'Non-individual (company, trust, partnership…)' },
] as const
export type EntityKind = (typeof ENTITY_KINDS)[number]['value']

export const STATUSES = [
  { value: 'prospect', label: 'Prospect' },
  { value: 'serviced_client', label: 'Serviced client (business relationship)' },
  { value: 'one_off_service', label: 'One-off service' },
  { value: 'former_client', label: 'Former client' },
] as const
export type EntityStatus = (typeof STATUSES)[number]['value']
/** The status that also needs Set Serviced Clients (SPEC section 2, row 14). */
export const SERVICED_STATUS: EntityStatus = 'serviced_client'

export function statusLabel(value: string): string {
  return STATUSES.find((s) => s.value === value)?.label ?? value
}
export function isStatus(value: unknown): value is EntityStatus {
  return STATUSES.some((s) => s.value === value)
}
export function isKind(value: unknown): value is EntityKind {
  return ENTITY_KINDS.some((k) => k.value === value)
}

export const RISK_LEVELS = [
  { value: 'low', label: 'Low' },
  { value: 'medium', label: 'Medium' },
  { value: 'high', label: 'High' },
] as const
export type RiskLevel = (typeof RISK_LEVELS)[number]['value']
export function isRiskLevel(value: unknown): value is RiskLevel {
  return RISK_LEVELS.some((r) => r.value === value)
}
