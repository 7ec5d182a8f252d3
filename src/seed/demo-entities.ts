import { Readable } from 'node:stream'
import type { Knex } from 'knex'
import { COUNTRIES, STATUSES } from '../entities/reference.js'
import type { DocumentStorage } from '../storage/document-storage.js'

const FIRST = [
  'Amelia',
  'Oliver',
  'Isla',
  'Noah',
  'Freya',
  'Arjun',
  'Mei',
  'Lucas',
  'Sofia',
  'Kwame',
  'Ingrid',
  'Mateo',
  'Zara',
  'Tomasz',
  'Aiko',
  'Rafael',
  'Hannah',
  'Yusuf',
  'Chloé',
  'Niamh',
]
const LAST = [
  'Hartley',
  'Okafor',
  'Lindqvist',
  'Moreau',
  'Castellano',
  'Nakamura',
  'Brennan',
  'Kowalski',
  'Haddad',
  'Fairweather',
  'Delacroix',
  'Sørensen',
  'Mbeki',
  'Whitcombe',
  'Rossi',
  'Abernathy',
  'Varga',
  'Ashdown',
]
const WORDS = [
  'Northwind',
  'Bluebell',
  'Granite',
  'Harbour',
  'Juniper',
  'Kestrel',
  'Lantern',
  'Meridian',
  'Oakridge',
  'Pinecrest',
  'Quayside',
  'Riverside',
  'Saffron',
  'Thistle',
  'Umber',
  'Willow',
  'Yarrow',
  'Zephyr',
]
const TRADES = [
  'Holdings',
  'Logistics',
  'Bakery',
  'Consulting',
  'Property',
  'Trading',
  'Design',
  'Engineering',
  'Foods',
  'Capital',
  'Marine',
  'Textiles',
]
const FORMS = [
  ['Ltd', 'Private limited company'],
  ['LLP', 'Limited liability partnership'],
  ['plc', 'Public limited company'],
  ['Trust', 'Trust'],
  ['& Co', 'Partnership'],
] as const
const COMMON_COUNTRIES = ['GB', 'GB', 'GB', 'IE', 'FR', 'DE', 'NL', 'ES', 'IT', 'PL', 'US', 'AE', 'SG', 'CY', 'MT']

/** A small deterministic generator, so every demo seed is the same. */
function generator(seed: number) {
  let state = seed
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
  return { next, pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T }
}

export const DEMO_SERVICES = [
  { name: 'Audit', risk_level: 'medium' },
  { name: 'Bookkeeping', risk_level: 'low' },
  { name: 'Tax', risk_level: 'low' },
  { name: 'Payroll', risk_level: 'low' },
  { name: 'Company formation', risk_level: 'high' },
] as const

/** About 300 invented client relationships across types, statuses and countries, some with services and documents. */
export async function seedDemoEntities(
  trx: Knex.Transaction,
  storage: DocumentStorage,
  companyId: string,
  ownerIds: string[],
  count = 300,
): Promise<void> {
  const rnd = generator(2026)
  const services = await trx('services')
    .insert(DEMO_SERVICES.map((s) => ({ ...s, company_id: companyId })))
    .returning(['id', 'name'])
  const known = new Set(COUNTRIES.map((c) => c.code))
  const country = () => {
    const code = rnd.pick(COMMON_COUNTRIES)
    return known.has(code) ? code : 'GB'
  }
  const rows = Array.from({ length: count }, (_, i) => {
    const individual = rnd.next() < 0.55
    const base = {
      company_id: companyId,
      owner_user_id: rnd.pick(ownerIds),
      status: rnd.pick(STATUSES).value,
      notes: rnd.next() < 0.2 ? 'Introduced by an existing client. Annual review due in spring.' : '',
      updated_at: trx.raw(`now() - make_interval(hours => ?)`, [i * 7]),
    }
    if (individual) {
      const year = 1940 + Math.floor(rnd.next() * 62)
      return {
        ...base,
        kind: 'individual',
        name: `${rnd.pick(FIRST)} ${rnd.pick(LAST)}`,
        date_of_birth: `${year}-${String(1 + Math.floor(rnd.next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd.next() * 28)).padStart(2, '0')}`,
        nationality: country(),
        country_of_residence: country(),
      }
    }
    const [suffix, form] = rnd.pick(FORMS)
    return {
      ...base,
      kind: 'organisation',
      name: `${rnd.pick(WORDS)} ${rnd.pick(TRADES)} ${suffix}`,
      registration_number: String(10_000_000 + Math.floor(rnd.next() * 89_999_999)),
      country_of_incorporation: country(),
      legal_form: form,
    }
  })
  const entities: { id: string; name: string }[] = await trx('entities').insert(rows).returning(['id', 'name'])
  const allocations = entities.flatMap((e) =>
    services.filter(() => rnd.next() < 0.3).map((s) => ({ company_id: companyId, entity_id: e.id, service_id: s.id })),
  )
  if (allocations.length > 0) await trx('entity_services').insert(allocations)
  for (const entity of entities.filter(() => rnd.next() < 0.1)) {
    const text = `Engagement letter\n\nClient: ${entity.name}\nScope: annual accounts and tax returns.\n`
    const stored = await storage.put(Readable.from([Buffer.from(text)]))
    await trx('documents').insert({
      company_id: companyId,
      entity_id: entity.id,
      original_name: 'Engagement letter.txt',
      media_type: 'text/plain',
      size_bytes: stored.size,
      sha256: stored.sha256,
      storage_key: stored.key,
    })
  }
}
