import type { Db } from '../db/knex.js'
import { isCountryCode } from '../entities/reference.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'
import { isCalendarDate } from '../http/params.js'
import { recordSpend, spendCredit } from './credits.js'
import type { ScreeningQuery } from './match/types.js'
import { profileById, profilesOf, type SearchProfile, sameMatching, snapshotOf } from './profiles.js'
import { companyIndex, matchWith, queryOf, type ScreenedClient, versionsRead } from './provider.js'
import { recordSearch, screenClient, searchAudit } from './searches.js'

/** The profile a search uses: the one chosen (by a user who may choose), else the company's default. */
async function chosenProfile(db: Db, companyId: string, chosen: string | undefined): Promise<SearchProfile> {
  if (chosen) {
    const profile = await profileById(db, companyId, chosen)
    if (!profile) throw new RuleError('profile', 'Choose one of the search profiles')
    return profile
  }
  return (await profilesOf(db, companyId))[0] as SearchProfile
}

async function indexWithLists(db: Db, companyId: string, field: string) {
  const index = await companyIndex(db, companyId)
  if (Object.keys(index.listVersions).length === 0)
    throw new RuleError(field, 'No sanctions or PEP lists are imported yet: an administrator imports them first')
  return index
}

/**
 * A manual search of one client (Manual External Searches): spends one credit, screens the client now
 * under the chosen profile, and records the search, the credit and an audit row in one transaction; a
 * refusal (no credit, budget used) spends nothing and records nothing.
 */
export async function runManualSearch(
  db: Db,
  actor: RequestActor,
  client: ScreenedClient & { id: string },
  profileId: string | undefined,
): Promise<{ searchId: string; matches: number; balance: number }> {
  const companyId = actor.user.companyId
  const profile = snapshotOf(await chosenProfile(db, companyId, profileId))
  const nightly = snapshotOf(await chosenProfile(db, companyId, undefined))
  const index = await indexWithLists(db, companyId, 'profile')
  return db.transaction(async (trx) => {
    const balance = await spendCredit(trx, actor, 'profile')
    const query = queryOf(client)
    const { searchId, matches } = await screenClient(trx, index, {
      companyId,
      entityId: client.id,
      query,
      profile,
      kind: 'manual',
      createdBy: actor.user.id,
      asNightly: sameMatching(profile, nightly),
    })
    await recordSpend(trx, actor, balance, searchId)
    await searchAudit(trx, actor, { id: searchId, entity_id: client.id }, 'screening.manual_search', undefined, {
      profile: profile.name,
      matches: matches.length,
      credits_left: balance,
    })
    return { searchId, matches: matches.length, balance }
  })
}

export interface OneTimeInput {
  name: string
  kind: string
  date_of_birth: string
  country: string
  profile: string
}

/** The query a one-time search form describes, checked. */
export function oneTimeQuery(input: OneTimeInput): ScreeningQuery {
  const errors = new FormErrors()
  if (!input.name) errors.add('name', 'Enter the name to screen')
  else if (input.name.length > 300) errors.add('name', 'The name must be 300 characters or fewer')
  if (input.kind !== 'individual' && input.kind !== 'organisation')
    errors.add('kind', 'Choose whether the name is of an individual or an organisation')
  if (input.date_of_birth && !isCalendarDate(input.date_of_birth))
    errors.add('date_of_birth', 'Enter the date of birth as a real date, like 1984-03-27, or leave it empty')
  else if (input.date_of_birth && input.kind === 'organisation')
    errors.add('date_of_birth', 'Only an individual has a date of birth')
  const country = input.country.toUpperCase()
  if (country && !isCountryCode(country)) errors.add('country', 'Choose a country from the list, or leave it empty')
  RuleError.throwIf(errors)
  return {
    name: input.name,
    schema: input.kind as 'individual' | 'organisation',
    ...(input.date_of_birth ? { birthDate: input.date_of_birth } : {}),
    ...(country ? { country } : {}),
  }
}

/** A one-time search of a name that is not a client (Create One-Time Searches): recorded, audited, no credit. */
export async function runOneTimeSearch(db: Db, actor: RequestActor, input: OneTimeInput): Promise<string> {
  const query = oneTimeQuery(input)
  const companyId = actor.user.companyId
  const profile = snapshotOf(await chosenProfile(db, companyId, input.profile || undefined))
  const index = await indexWithLists(db, companyId, 'name')
  const matches = matchWith(index, query, profile)
  return db.transaction(async (trx) => {
    const searchId = await recordSearch(trx, {
      companyId,
      kind: 'one_time',
      entityId: null,
      query,
      profile,
      listVersions: versionsRead(index, profile),
      matches,
      createdBy: actor.user.id,
    })
    await searchAudit(trx, actor, { id: searchId, entity_id: null }, 'screening.one_time_search', undefined, {
      name: query.name,
      profile: profile.name,
      matches: matches.length,
    })
    return searchId
  })
}

/** Deletes a one-time search for good (Delete One-Time Searches); the audit row keeps what it was. */
export async function deleteOneTimeSearch(db: Db, actor: RequestActor, searchId: string): Promise<void> {
  await db.transaction(async (trx) => {
    const search = await trx('screening_searches')
      .where({ company_id: actor.user.companyId, id: searchId, kind: 'one_time' })
      .forUpdate()
      .first('id', 'query', 'match_count', 'created_at')
    if (!search) throw new RuleError('search', 'This one-time search was already deleted', { status: 409 })
    await trx('screening_searches').where({ id: search.id }).delete()
    await searchAudit(
      trx,
      actor,
      { id: search.id, entity_id: null },
      'screening.one_time_search_deleted',
      { name: search.query.name, matches: search.match_count, created_at: search.created_at },
      undefined,
    )
  })
}
