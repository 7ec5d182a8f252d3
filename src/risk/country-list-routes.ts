import type { FastifyInstance, FastifyRequest } from 'fastify'
import { countryName } from '../entities/reference.js'
import { FormErrors, text } from '../forms/form-errors.js'
import type { FormRerender } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { NotFoundError, signedInUser } from '../http/params.js'
import { fields, formBody } from '../http/schemas.js'
import {
  COUNTRY_LIST_KEYS,
  COUNTRY_LIST_NAMES,
  type CountryListInput,
  type CountryListKey,
  type CountryListVersion,
  changesFrom,
  currentCountryLists,
  isCountryListKey,
  LIST_STALE_DAYS,
  saveCountryList,
  versionsOf,
} from './country-lists.js'
import { todayUtc } from './risk-state.js'

const ADMIN = { access: { permission: 'system_administrator' } } as const
const LIST_FIELDS = ['countries', 'as_at', 'source', 'source_url', 'note', 'based_on'] as const

/** How many days ago a list's "as at" day was, and whether that is long enough to say so. */
function age(asAt: string): { days: number; stale: boolean } {
  const days = Math.floor((Date.parse(todayUtc()) - Date.parse(asAt)) / 86_400_000)
  return { days, stale: days > LIST_STALE_DAYS }
}

/** A version as its page shows it: the countries by name, and what it changed from the version before. */
function shown(v: CountryListVersion, before: CountryListVersion | undefined) {
  return {
    ...v,
    names: v.countries.map(countryName).sort((a, b) => a.localeCompare(b, 'en')),
    ...changesFrom(before?.countries, v.countries),
    ...age(v.as_at),
  }
}

function keyOf(request: FastifyRequest): CountryListKey {
  const key = (request.params as { list?: string }).list
  if (!isCountryListKey(key)) throw new NotFoundError('country list')
  return key
}

/** Settings → Country lists: the lists the rules read, their versions, and a new version of each. */
export default async function countryListRoutes(app: FastifyInstance) {
  app.get('/settings/country-lists', { config: ADMIN }, async (request, reply) => {
    const lists = await currentCountryLists(app.db, signedInUser(request).companyId)
    return reply.page('risk/country-lists', {
      title: 'Country lists',
      lists: COUNTRY_LIST_KEYS.map((k) => ({ ...shown(lists.lists[k], undefined), name: COUNTRY_LIST_NAMES[k] })),
    })
  })

  const listPage = async (
    request: FastifyRequest,
    opts: { values?: Record<string, string>; errors?: FormErrors } = {},
  ) => {
    const key = keyOf(request)
    const versions = await versionsOf(app.db, signedInUser(request).companyId, key)
    const latest = versions[0] as CountryListVersion
    const all = versions.map((v, i) => shown(v, versions[i + 1]))
    return {
      title: COUNTRY_LIST_NAMES[key],
      key,
      name: COUNTRY_LIST_NAMES[key],
      current: all[0],
      versions: all,
      values: opts.values ?? {
        countries: latest.countries.join(' '),
        as_at: latest.as_at,
        source: latest.source,
        source_url: latest.source_url ?? '',
        note: '',
        based_on: String(latest.version),
      },
      errors: opts.errors ?? new FormErrors(),
    }
  }
  const typed = (body: unknown) =>
    Object.fromEntries(LIST_FIELDS.map((f) => [f, text(body, f)])) as unknown as CountryListInput
  const listAgain: FormRerender = async (request, reply, errors, refusal) => {
    const values = typed(request.body) as unknown as Record<string, string>
    // Refused because someone saved meanwhile: the form now builds on their version.
    const page = await listPage(request, { errors })
    return reply.page('risk/country-list', {
      ...page,
      values: { ...values, based_on: refusal?.status === 409 ? page.values.based_on : values.based_on },
    })
  }

  app.get<{ Params: { list: string } }>('/settings/country-lists/:list', { config: ADMIN }, async (request, reply) =>
    reply.page('risk/country-list', await listPage(request)),
  )

  app.post<{ Params: { list: string } }>(
    '/settings/country-lists/:list',
    {
      config: { ...ADMIN, form: listAgain },
      schema: { body: formBody(fields([...LIST_FIELDS], 4000)) },
    },
    async (request, reply) => {
      const key = keyOf(request)
      const version = await saveCountryList(app.db, requestActor(request), key, typed(request.body))
      reply.flash({
        kind: 'success',
        text: `${COUNTRY_LIST_NAMES[key]}: version ${version} was saved. Assessed clients are being rechecked against it.`,
      })
      return reply.redirect(`/settings/country-lists/${key}`, 303)
    },
  )
}
