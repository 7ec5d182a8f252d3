import { Readable } from 'node:stream'
import type { Knex } from 'knex'
import { COUNTRIES, STATUSES } from '../entities/reference.js'
import { currentCountryLists } from '../risk/country-lists.js'
import { evaluate } from '../risk/evaluate.js'
import { currentRuleSet, factsOf, REVIEW_YEARS, resultOf } from '../risk/service.js'
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

/**
 * What the risk rules read of the demo clients (delivery channel, expected volume, cash, a few PEPs), and a
 * saved assessment for about a third of them: most as recommended by the company's rule set, some
 * overridden with a rationale, by the compliance officer. Its own generator, so that the clients above
 * stay the same.
 */
export async function seedDemoRisk(trx: Knex.Transaction, companyId: string, assessorId: string): Promise<void> {
  const rnd = generator(4242)
  const entities: { id: string }[] = await trx('entities').where({ company_id: companyId }).orderBy('name').select('id')
  const channels = ['face_to_face', 'face_to_face', 'remote_verified', 'intermediary', null] as const
  const bands = ['under_10k', 'under_10k', '10k_100k', '10k_100k', '100k_1m', 'over_1m', null] as const
  for (const e of entities) {
    await trx('entities')
      .where({ id: e.id })
      .update({
        delivery_channel: rnd.pick(channels),
        volume_band: rnd.pick(bands),
        cash_intensive: rnd.next() < 0.08,
        pep: rnd.next() < 0.03,
      })
  }
  const [ruleSet, lists] = await Promise.all([currentRuleSet(trx, companyId), currentCountryLists(trx, companyId)])
  for (const e of entities.filter(() => rnd.next() < 0.35)) {
    const facts = await factsOf(trx, companyId, e.id)
    const recommendation = evaluate(ruleSet.definition, facts)
    const recommended = resultOf(recommendation)
    // Some overrides, as a compliance officer makes them: up after adverse press, down for a small engagement.
    const override = recommended.classification !== 'high' && rnd.next() < 0.15
    const raised = recommended.classification === 'low'
    const result = override
      ? { ...recommended, classification: raised ? ('medium' as const) : ('low' as const) }
      : recommended
    const daysAgo = Math.floor(rnd.next() * 300)
    await trx('risk_assessments').insert({
      company_id: companyId,
      entity_id: e.id,
      rule_set_id: ruleSet.id,
      country_list_versions: JSON.stringify(lists.versions),
      facts: JSON.stringify(facts),
      recommendation: JSON.stringify(recommendation),
      result: JSON.stringify(result),
      classification: result.classification,
      overridden: override,
      rationale: override
        ? raised
          ? 'Adverse press coverage found during onboarding: monitor more closely until the next review.'
          : 'Long-standing client; the services are small and paid by bank transfer.'
        : null,
      // Reviewed from the day it was saved, up to 300 days ago.
      review_due_on: trx.raw(
        `((now() - make_interval(days => ?)) AT TIME ZONE 'UTC')::date + make_interval(years => ?)`,
        [daysAgo, REVIEW_YEARS[result.classification]],
      ),
      created_by: assessorId,
      created_at: trx.raw(`now() - make_interval(days => ?)`, [daysAgo]),
    })
  }
  // Each assessed client's state, checked by the app's first recheck (src/risk/risk-state.ts).
  await trx.raw(
    `INSERT INTO entity_risk (entity_id, company_id, assessment_id, saved_classification, review_due_on,
       recommended_classification, classification, needs_check)
     SELECT DISTINCT ON (a.entity_id) a.entity_id, a.company_id, a.id, a.classification, a.review_due_on,
       a.recommendation->>'classification', a.classification, true
     FROM risk_assessments a WHERE a.company_id = ? ORDER BY a.entity_id, a.created_at DESC, a.id DESC`,
    [companyId],
  )
}
