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

/** How the relationship is conducted (a risk factor of the Delivery channel pillar). */
export const DELIVERY_CHANNELS = [
  { value: 'face_to_face', label: 'Face to face' },
  { value: 'remote_verified', label: 'Remotely, with the identity verified' },
  { value: 'intermediary', label: 'Through an intermediary' },
] as const
/** The expected yearly volume of the client's transactions (the Transactions pillar). */
export const VOLUME_BANDS = [
  { value: 'under_10k', label: 'Under 10,000' },
  { value: '10k_100k', label: '10,000 to 100,000' },
  { value: '100k_1m', label: '100,000 to 1 million' },
  { value: 'over_1m', label: 'Over 1 million' },
] as const
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number]['value']
export type VolumeBand = (typeof VOLUME_BANDS)[number]['value']
export const isDeliveryChannel = (v: unknown): v is DeliveryChannel => DELIVERY_CHANNELS.some((c) => c.value === v)
export const isVolumeBand = (v: unknown): v is VolumeBand => VOLUME_BANDS.some((b) => b.value === v)
export const deliveryChannelLabel = (v: string | null) =>
  DELIVERY_CHANNELS.find((c) => c.value === v)?.label ?? 'Not known'
export const volumeBandLabel = (v: string | null) => VOLUME_BANDS.find((b) => b.value === v)?.label ?? 'Not known'
