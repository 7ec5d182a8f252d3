import type { Knex } from 'knex'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { countryName, isCountryCode } from '../entities/reference.js'
import type { EntityActor } from '../entities/service.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import { isCalendarDate } from '../http/params.js'
import { markCompanyForRecheck, todayUtc } from './risk-state.js'
import { COUNTRY_LIST_KEYS, type CountryListKey, SHIPPED_COUNTRY_LISTS } from './shipped-country-lists.js'

export { COUNTRY_LIST_KEYS, type CountryListKey }

/** Each list's name, and what it is for, as pages and audit sentences say it. */
export const COUNTRY_LIST_NAMES: Record<CountryListKey, string> = {
  fatf_call_for_action: 'FATF: high-risk jurisdictions subject to a call for action',
  fatf_increased_monitoring: 'FATF: jurisdictions under increased monitoring',
  eu_high_risk: 'EU: high-risk third countries',
}

export function isCountryListKey(value: unknown): value is CountryListKey {
  return (COUNTRY_LIST_KEYS as readonly unknown[]).includes(value)
}

/** A list is "not recent" when its day is this many days past: the FATF revises its lists three times a year. */
export const LIST_STALE_DAYS = 183

export interface CountryListVersion {
  id: string
  key: CountryListKey
  version: number
  as_at: string
  source: string
  source_url: string | null
  countries: string[]
  note: string | null
  created_by_name: string | null
  created_at: Date
}

const VERSION_COLUMNS = (db: Db | Knex.Transaction) => [
  'l.id',
  'l.key',
  'l.version',
  db.raw(`to_char(l.as_at, 'YYYY-MM-DD') AS as_at`),
  'l.source',
  'l.source_url',
  'l.countries',
  'l.note',
  'u.name as created_by_name',
  'l.created_at',
]

/** The company's lists now: each one's latest version, and which lists each country is on. */
export interface CountryLists {
  lists: Record<CountryListKey, CountryListVersion>
  versions: Record<CountryListKey, number>
  /** The keys of the lists a country is on (none: an empty array). */
  listsOf(code: string | null | undefined): CountryListKey[]
}

/** Lists never change once saved: each set of versions is made into a lookup once per process. */
const made = new Map<string, CountryLists>()

function lookup(rows: CountryListVersion[]): CountryLists {
  const signature = rows.map((r) => r.id).join(',')
  let lists = made.get(signature)
  if (!lists) {
    const byCountry = new Map<string, CountryListKey[]>()
    for (const row of rows)
      for (const code of row.countries) byCountry.set(code, [...(byCountry.get(code) ?? []), row.key])
    lists = {
      lists: Object.fromEntries(rows.map((r) => [r.key, r])) as Record<CountryListKey, CountryListVersion>,
      versions: Object.fromEntries(rows.map((r) => [r.key, r.version])) as Record<CountryListKey, number>,
      listsOf: (code) => (code ? (byCountry.get(code) ?? []) : []),
    }
    if (made.size >= 500) made.clear()
    made.set(signature, lists)
  }
  return lists
}

/**
 * The company's current country lists. A company that has none yet gets the shipped ones as version 1,
 * inserted once however many requests ask at the same time (the unique (company, key, version) decides).
 */
export async function currentCountryLists(db: Db | Knex.Transaction, companyId: string): Promise<CountryLists> {
  const latest = (): Promise<CountryListVersion[]> =>
    db('country_lists as l')
      .leftJoin('users as u', 'u.id', 'l.created_by')
      .where('l.company_id', companyId)
      .distinctOn('l.key')
      .orderBy([{ column: 'l.key' }, { column: 'l.version', order: 'desc' }])
      .select(VERSION_COLUMNS(db))
  let rows = await latest()
  if (rows.length < COUNTRY_LIST_KEYS.length) {
    await db('country_lists')
      .insert(
        COUNTRY_LIST_KEYS.map((key) => ({
          company_id: companyId,
          key,
          version: 1,
          as_at: SHIPPED_COUNTRY_LISTS[key].asAt,
          source: SHIPPED_COUNTRY_LISTS[key].source,
          source_url: SHIPPED_COUNTRY_LISTS[key].sourceUrl,
          countries: [...SHIPPED_COUNTRY_LISTS[key].countries],
        })),
      )
      .onConflict(['company_id', 'key', 'version'])
      .ignore()
    rows = await latest()
  }
  return lookup(rows)
}

/** The lists of these versions (the latest of each list, in list-key order): from memory once read. */
export async function countryListsByIds(db: Db | Knex.Transaction, ids: readonly string[]): Promise<CountryLists> {
  const known = made.get(ids.join(','))
  if (known) return known
  return lookup(
    await db('country_lists as l')
      .leftJoin('users as u', 'u.id', 'l.created_by')
      .whereIn('l.id', ids)
      .orderBy('l.key')
      .select(VERSION_COLUMNS(db)),
  )
}

/** Every version of one of the company's lists, newest first. */
export async function versionsOf(db: Db, companyId: string, key: CountryListKey): Promise<CountryListVersion[]> {
  await currentCountryLists(db, companyId)
  return db('country_lists as l')
    .leftJoin('users as u', 'u.id', 'l.created_by')
    .where({ 'l.company_id': companyId, 'l.key': key })
    .orderBy('l.version', 'desc')
    .select(VERSION_COLUMNS(db))
}

/** What one version changed from the one before: the countries added and removed, by name. */
export function changesFrom(before: readonly string[] | undefined, after: readonly string[]) {
  const was = new Set(before ?? [])
  const now = new Set(after)
  return {
    added: after.filter((c) => !was.has(c)).map(countryName),
    removed: [...was].filter((c) => !now.has(c)).map(countryName),
  }
}

export interface CountryListInput {
  countries: string
  as_at: string
  source: string
  source_url: string
  note: string
  /** The version the form was shown with: a save over a newer one is refused (someone saved meanwhile). */
  based_on: string
}

const COUNTRIES_MAX = 300

/**
 * The codes typed: ISO 3166-1 alpha-2, separated by commas, spaces or lines, in any case; each once,
 * sorted. Problems are added to `errors` (every unknown code named).
 */
export function parseCountryCodes(typed: string, errors: FormErrors): string[] {
  const codes = typed
    .toUpperCase()
    .split(/[\s,;]+/)
    .filter(Boolean)
  const unknown = codes.filter((c) => !isCountryCode(c))
  if (unknown.length > 0)
    errors.add(
      'countries',
      `Use two-letter ISO 3166-1 country codes: ${[...new Set(unknown)].slice(0, 10).join(', ')} ${unknown.length === 1 ? 'is not one' : 'are not'}`,
    )
  if (codes.length > COUNTRIES_MAX) errors.add('countries', `A list holds at most ${COUNTRIES_MAX} countries`)
  return [...new Set(codes)].sort()
}

/**
 * Saves the next version of one of the company's lists, if the form is valid and was shown with the
 * version that is latest now. Audited with the version before and after; every assessed client is
 * marked for a recheck, since its recommendation may move.
 */
export async function saveCountryList(
  db: Db,
  actor: EntityActor,
  key: CountryListKey,
  input: CountryListInput,
): Promise<number> {
  const errors = new FormErrors()
  const countries = parseCountryCodes(input.countries, errors)
  if (!isCalendarDate(input.as_at)) errors.add('as_at', 'Enter the day the list is as at, like 2026-02-13')
  else if (input.as_at > todayUtc()) errors.add('as_at', 'The "as at" day cannot be in the future')
  if (!input.source) errors.add('source', 'Name the source of the list: the publication and its date')
  else if (input.source.length > 500) errors.add('source', 'The source must be 500 characters or fewer')
  if (input.source_url && !/^https?:\/\/[^\s]{1,490}$/.test(input.source_url))
    errors.add('source_url', 'Enter the address of the source, starting with https://, or leave it empty')
  if (!input.note) errors.add('note', 'Say what changed and why (for the record regulators read)')
  else if (input.note.length > 2000) errors.add('note', 'The note must be 2,000 characters or fewer')
  RuleError.throwIf(errors)
  const companyId = actor.user.companyId
  await currentCountryLists(db, companyId)
  return db.transaction(async (trx) => {
    const latest = await trx('country_lists')
      .where({ company_id: companyId, key })
      .orderBy('version', 'desc')
      .forUpdate()
      .first('version', 'countries', trx.raw(`to_char(as_at, 'YYYY-MM-DD') AS as_at`), 'source', 'source_url')
    if (String(latest.version) !== input.based_on)
      throw new RuleError(
        'countries',
        `Someone saved version ${latest.version} of this list meanwhile: look at it, then make your change again`,
        { status: 409 },
      )
    const version = latest.version + 1
    const meanwhile = () =>
      new RuleError(
        'countries',
        `Someone saved version ${version} of this list meanwhile: look at it, then make your change again`,
        {
          status: 409,
        },
      )
    // Two saves of the same version at once: the unique (company, key, version) lets one in.
    await trx('country_lists')
      .insert({
        company_id: companyId,
        key,
        version,
        as_at: input.as_at,
        source: input.source,
        source_url: input.source_url || null,
        countries,
        note: input.note,
        created_by: actor.user.id,
      })
      .catch((error: { code?: string }) => {
        throw error.code === '23505' ? meanwhile() : error
      })
    const { added, removed } = changesFrom(latest.countries, countries)
    await auditTarget(
      trx,
      actor,
      'company',
      companyId,
      'risk.country_list_saved',
      { list: COUNTRY_LIST_NAMES[key], version: latest.version, as_at: latest.as_at, source: latest.source },
      {
        list: COUNTRY_LIST_NAMES[key],
        version,
        as_at: input.as_at,
        source: input.source,
        added: added.join(', ') || 'none',
        removed: removed.join(', ') || 'none',
        note: input.note,
      },
    )
    await markCompanyForRecheck(trx, companyId)
    return version
  })
}
