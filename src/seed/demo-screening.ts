import type { Db } from '../db/knex.js'
import { actorOfUser } from '../http/actor.js'
import { topUpCredits } from '../screening/credits.js'
import { parseListPaths } from '../screening/lists/parse.js'
import { SHIPPED_LIST_FILES } from '../screening/lists/shipped.js'
import { importList, sourceOf } from '../screening/lists/store.js'
import { runOneTimeSearch } from '../screening/manual.js'
import { screenCompany } from '../screening/nightly.js'
import { recordReview } from '../screening/review.js'
import { setFourEyes } from '../screening/settings.js'

/** Demo clients whose names are on the shipped lists (one with a typo), so screening has something to show. */
const LISTED_CLIENTS = [
  {
    kind: 'individual',
    name: 'Erik Badege',
    date_of_birth: '1971-03-14',
    nationality: 'CD',
    country_of_residence: 'RW',
  },
  { kind: 'organisation', name: 'Banco Nacional de Cuba', country_of_incorporation: 'CU', legal_form: 'Bank' },
] as const

/**
 * The demo company's screening, through the same services as the app: the shipped lists imported, credits
 * topped up, four-eyes review on, the nightly run done once (so every client has a search and two have
 * potential matches), one of those checked by the compliance officer and awaiting the administrator's
 * approval, and a one-time search.
 */
export async function seedDemoScreening(
  db: Db,
  companyId: string,
  users: { admin: string; compliance: string },
): Promise<void> {
  const [admin, compliance] = [await actorOfUser(db, users.admin), await actorOfUser(db, users.compliance)]
  for (const parsed of await parseListPaths([...SHIPPED_LIST_FILES]))
    await importList(db, { companyId, userId: users.admin }, parsed, {
      source: `${sourceOf(parsed)} (shipped)`,
    })
  await topUpCredits(db, admin, { amount: '40', note: 'Demo starter pack' })
  await setFourEyes(db, admin, true)
  await db('entities').insert(
    LISTED_CLIENTS.map((c) => ({ ...c, company_id: companyId, owner_user_id: users.compliance, status: 'prospect' })),
  )
  await screenCompany(db, companyId)
  const badege = await db('screening_searches as s')
    .join('entities as e', 'e.id', 's.entity_id')
    .where({ 's.company_id': companyId, 'e.name': 'Erik Badege', 's.status': 'open' })
    .first('s.id')
  if (badege) {
    const matches: { id: string }[] = await db('screening_matches').where({ search_id: badege.id }).select('id')
    await recordReview(db, compliance, companyId, badege.id, {
      step: 'check',
      decisions: Object.fromEntries(
        matches.map((m) => [
          m.id,
          {
            decision: 'true_match',
            rationale:
              'Same name but for one letter, born 1971, Congolese national living in Rwanda: this is the listed person.',
          },
        ]),
      ),
    })
  }
  await runOneTimeSearch(db, compliance, {
    name: 'Kim Jong Un',
    kind: 'individual',
    date_of_birth: '',
    country: 'KP',
    profile: '',
  })
}
