import type { Db } from '../../src/db/knex.js'
import { actorOfUser, type RequestActor } from '../../src/http/actor.js'
import { type ImportResult, importList } from '../../src/screening/lists/store.js'
import type { ListEntry } from '../../src/screening/lists/types.js'
import type { Company } from './factories.js'

/** A person, a PEP and a company on a small list; clients named like them match. */
export const LISTED: ListEntry[] = [
  {
    entryId: 'os-ivan',
    schema: 'individual',
    topics: ['sanction'],
    name: 'Ivan Petrovich Sidorov',
    names: [{ name: 'Ivan Petrovich Sidorov', quality: 'strong' }],
    birthDates: ['1970-05-01'],
    countries: ['RU'],
    programs: ['RUSSIA-EO14024'],
  },
  {
    entryId: 'os-maria',
    schema: 'individual',
    topics: ['pep'],
    name: 'Maria Gonzalez Lopez',
    names: [{ name: 'Maria Gonzalez Lopez', quality: 'strong' }],
    birthDates: ['1965'],
    countries: ['MX'],
    programs: [],
  },
  {
    entryId: 'os-shadow',
    schema: 'organisation',
    topics: ['sanction'],
    name: 'Shadow Fleet Trading LLC',
    names: [
      { name: 'Shadow Fleet Trading LLC', quality: 'strong' },
      { name: 'SFT', quality: 'weak' },
    ],
    birthDates: [],
    countries: ['AE'],
    programs: ['RUSSIA-EO14024'],
  },
]

/** Imports `entries` as the next version of a small list (key `watch`) of the company. */
export function aList(db: Db, company: Company, entries: ListEntry[] = LISTED, list = 'watch'): Promise<ImportResult> {
  return importList(
    db,
    { companyId: company.id, userId: null },
    { format: 'opensanctions', fileDate: '2026-11-01', entries },
    { source: 'test', list },
  )
}

/** The company's credit balance. */
export async function creditsOf(db: Db, company: Company): Promise<number> {
  return (await db('companies').where({ id: company.id }).first('screening_credits')).screening_credits
}

export async function setCredits(db: Db, company: Company, credits: number): Promise<void> {
  await db('companies').where({ id: company.id }).update({ screening_credits: credits })
}

/** A user as the services see a signed-in one (for calling a service straight, as the demo seed does). */
export function actorFor(db: Db, user: { id: string }): Promise<RequestActor> {
  return actorOfUser(db, user.id, 'http://kyc.test')
}
