import type { Knex } from 'knex'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import type { RequestActor } from '../http/actor.js'
import { DEFAULT_MATCH_OPTIONS } from './match/name-index.js'

type Conn = Db | Knex.Transaction

/** A search profile: which lists a search reads, its threshold, and whether date of birth and country count. */
export interface SearchProfile {
  id: string
  name: string
  /** List keys; empty: every list the company has. */
  lists: string[]
  threshold: number
  use_birth_date: boolean
  use_country: boolean
  is_default: boolean
}

/** What a search keeps of its profile: the profile can change or go later, the search's record cannot. */
export interface ProfileSnapshot {
  id: string
  name: string
  lists: string[]
  threshold: number
  useBirthDate: boolean
  useCountry: boolean
}

export function snapshotOf(profile: SearchProfile): ProfileSnapshot {
  return {
    id: profile.id,
    name: profile.name,
    lists: profile.lists,
    threshold: profile.threshold,
    useBirthDate: profile.use_birth_date,
    useCountry: profile.use_country,
  }
}

/** What a profile's matching depends on (not its name): its lists, threshold, and use of date of birth and country. */
export function matchingKey(profile: ProfileSnapshot): string {
  return JSON.stringify([profile.lists, profile.threshold, profile.useBirthDate, profile.useCountry])
}

/** Whether two profiles match alike. */
export function sameMatching(a: ProfileSnapshot, b: ProfileSnapshot): boolean {
  return matchingKey(a) === matchingKey(b)
}

const COLUMNS = ['id', 'name', 'lists', 'threshold', 'use_birth_date', 'use_country', 'is_default'] as const

const shaped = (row: SearchProfile): SearchProfile => ({ ...row, threshold: Number(row.threshold) })

/**
 * The company's profiles, the default first. A company that has none gets "Standard" (every list, the
 * matcher's default threshold, date of birth and country used), created once however many ask at once.
 */
export async function profilesOf(db: Conn, companyId: string): Promise<SearchProfile[]> {
  const read = async () =>
    (
      await db('screening_profiles')
        .where({ company_id: companyId })
        .orderBy([{ column: 'is_default', order: 'desc' }, { column: 'name' }])
        .select(...COLUMNS)
    ).map(shaped)
  const found = await read()
  if (found.length > 0) return found
  await db.raw(
    `INSERT INTO screening_profiles (company_id, name, threshold, use_birth_date, use_country, is_default)
     VALUES (?, 'Standard', ?, ?, ?, true) ON CONFLICT DO NOTHING`,
    [companyId, DEFAULT_MATCH_OPTIONS.threshold, DEFAULT_MATCH_OPTIONS.useBirthDate, DEFAULT_MATCH_OPTIONS.useCountry],
  )
  return read()
}

/** The company's default profile. */
export async function defaultProfile(db: Conn, companyId: string): Promise<SearchProfile> {
  return (await profilesOf(db, companyId))[0] as SearchProfile
}

/** One of the company's profiles, or undefined. */
export async function profileById(db: Conn, companyId: string, id: string): Promise<SearchProfile | undefined> {
  return (await profilesOf(db, companyId)).find((p) => p.id === id)
}

export interface ProfileInput {
  name: string
  lists: string[]
  threshold: string
  use_birth_date: boolean
  use_country: boolean
  is_default: boolean
}

/** Checks a profile form against the lists the company has; the threshold as a number. */
function validProfile(input: ProfileInput, knownLists: readonly string[]): number {
  const errors = new FormErrors()
  if (!input.name) errors.add('name', 'Give the profile a name')
  else if (input.name.length > 100) errors.add('name', 'The name must be 100 characters or fewer')
  const unknown = input.lists.filter((l) => !knownLists.includes(l))
  if (unknown.length > 0) errors.add('lists', `Choose among the company's lists (${unknown.join(', ')} is not one)`)
  const threshold = Number(input.threshold)
  if (!/^(0(\.\d{1,3})?|1(\.0{1,3})?)$/.test(input.threshold) || threshold < 0.5 || threshold > 1)
    errors.add('threshold', 'Enter a threshold between 0.5 and 1, like 0.85')
  RuleError.throwIf(errors)
  return threshold
}

/**
 * Creates a profile (id undefined) or changes one, audited with before and after. Making a profile the
 * default takes it from the one that was; the default itself cannot stop being the default except so.
 */
export async function saveProfile(
  db: Db,
  actor: RequestActor,
  id: string | undefined,
  input: ProfileInput,
  knownLists: readonly string[],
): Promise<string> {
  const threshold = validProfile(input, knownLists)
  const companyId = actor.user.companyId
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 14))', [`screening-profiles:${companyId}`])
    const before = id
      ? await trx('screening_profiles')
          .where({ company_id: companyId, id })
          .first(...COLUMNS)
      : undefined
    if (id && !before) throw new RuleError('name', 'This profile was deleted meanwhile', { status: 409 })
    const row = {
      name: input.name,
      lists: input.lists,
      threshold,
      use_birth_date: input.use_birth_date,
      use_country: input.use_country,
    }
    const isDefault = input.is_default || Boolean(before?.is_default)
    if (input.is_default && !before?.is_default)
      await trx('screening_profiles').where({ company_id: companyId, is_default: true }).update({ is_default: false })
    const saved = await (id
      ? trx('screening_profiles')
          .where({ company_id: companyId, id })
          .update({ ...row, is_default: isDefault, updated_at: trx.fn.now() }, ['id'])
      : trx('screening_profiles').insert({ ...row, company_id: companyId, is_default: isDefault }, ['id'])
    ).catch((error: { code?: string }) => {
      throw error.code === '23505' ? new RuleError('name', 'Another profile already has this name') : error
    })
    const profileId = (saved[0] as { id: string }).id
    await auditTarget(
      trx,
      actor,
      'company',
      companyId,
      id ? 'screening.profile_changed' : 'screening.profile_created',
      before ? { ...before, threshold: Number(before.threshold) } : undefined,
      { id: profileId, ...row, is_default: isDefault },
    )
    return profileId
  })
}
