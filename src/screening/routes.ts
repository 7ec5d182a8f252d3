import type { FastifyInstance, FastifyRequest } from 'fastify'
import { clientOf } from '../access/client-context.js'
import { mayRunManualSearch, reviewStepFor, SEARCH_REVIEW_PERMISSIONS } from '../access/screening.js'
import { countryName } from '../entities/reference.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import type { FormRerender } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { fields, formBody, formBodyWithRows, one, UUID_PATTERN } from '../http/schemas.js'
import type { CurrentUser } from '../types.js'
import { creditBalance, LOW_CREDITS, monthlyUse } from './credits.js'
import { listName } from './lists/store.js'
import { runManualSearch } from './manual.js'
import { profilesOf } from './profiles.js'
import { lastScreened, matchesOf, type SearchRow, searchesOfClient, searchOf, waitingFor } from './queries.js'
import { type ReviewInput, recordReview } from './review.js'
import { screeningSettings } from './settings.js'

const RATIONALE_FIELD_MAX = 8000

/** Words for a search's kind and status, as every screening page says them. */
export const SEARCH_WORDS = {
  kind: { automated: 'Automated (nightly)', manual: 'Manual', one_time: 'One-time' } as Record<string, string>,
  status: {
    clear: 'No potential match',
    open: 'Open: to review',
    awaiting_approval: 'Awaiting approval',
    closed: 'Closed',
    superseded: 'Superseded by a newer search',
  } as Record<string, string>,
  decision: { true_match: 'True match', false_match: 'False match' } as Record<string, string>,
  listName,
  countryName,
}

/** The review form's values: as typed after a refusal, else as decided before (a search sent back). */
function reviewValues(
  request: FastifyRequest,
  matches: { id: string; decision: string | null; rationale: string | null }[],
) {
  const typed = request.method === 'POST' ? request.body : undefined
  return Object.fromEntries(
    matches.map((m) => [
      m.id,
      {
        decision: typed ? text(typed, `decision-${m.id}`) : (m.decision ?? ''),
        rationale: typed ? text(typed, `rationale-${m.id}`) : (m.rationale ?? ''),
      },
    ]),
  )
}

/** What a search's page shows a reader: the search, its matches, and the review step they may take. */
export async function searchPageData(
  app: FastifyInstance,
  request: FastifyRequest,
  search: SearchRow,
  errors = new FormErrors(),
) {
  const user = signedInUser(request)
  const [matches, settings] = await Promise.all([
    matchesOf(app.db, search.id),
    screeningSettings(app.db, user.companyId),
  ])
  const allowed = reviewStepFor(user, search, settings.fourEyes)
  const typed = request.method === 'POST' ? request.body : undefined
  return {
    search,
    matches,
    fourEyes: settings.fourEyes,
    step: 'step' in allowed ? allowed.step : undefined,
    refusal: 'refusal' in allowed ? allowed.refusal : undefined,
    values: reviewValues(request, matches),
    verdict: typed ? text(typed, 'verdict') : '',
    reason: typed ? text(typed, 'reason') : '',
    errors,
    words: SEARCH_WORDS,
  }
}

async function clientSearch(app: FastifyInstance, request: FastifyRequest): Promise<SearchRow> {
  const { search: id } = request.params as { search: string }
  const entity = clientOf(request).entity
  const search = isUuid(id) ? await searchOf(app.db, entity.company_id, id, entity.id) : undefined
  if (!search) throw new NotFoundError('search')
  return search
}

/** What the Screening section offers this reader: a manual search, with the credits and the budget. */
async function manualSearchOffer(app: FastifyInstance, user: CurrentUser) {
  if (!mayRunManualSearch(user)) return undefined
  const [credits, use, profiles] = await Promise.all([
    creditBalance(app.db, user.companyId),
    monthlyUse(app.db, user.companyId, user.id),
    profilesOf(app.db, user.companyId),
  ])
  return { credits, low: credits < LOW_CREDITS, use, profiles }
}

/** A client's Screening section, its manual search, and the page of each of its searches with its review. */
export default async function screeningRoutes(app: FastifyInstance) {
  app.addWorkItem({
    order: 20,
    shownTo: (user) =>
      user.permissions.has('manage_external_searches') || user.permissions.has('check_entity_external_searches'),
    count: (_request, user) => waitingFor(app.db, user, 'open'),
    label: (n) => `screening search${n === 1 ? '' : 'es'} with potential matches to review`,
    href: '/searches?tab=open',
  })
  app.addWorkItem({
    order: 21,
    shownTo: (user) =>
      user.permissions.has('approve_entity_external_searches') || user.permissions.has('manage_external_searches'),
    count: (_request, user) => waitingFor(app.db, user, 'awaiting_approval'),
    label: (n) => `screening search${n === 1 ? '' : 'es'} awaiting your approval`,
    href: '/searches?tab=awaiting_approval',
  })

  app.addClientSection({
    id: 'screening',
    order: 15,
    template: '/screening/_client-section',
    async load(request, { entity }) {
      const user = signedInUser(request)
      const [searches, manual, screenedAt] = await Promise.all([
        searchesOfClient(app.db, entity.company_id, entity.id),
        manualSearchOffer(app, user),
        lastScreened(app.db, entity.id),
      ])
      const typed = request.method === 'POST' && request.url.endsWith('/searches') ? request.body : undefined
      return {
        searches,
        manual,
        screenedAt,
        profile: typed ? text(typed, 'profile') : '',
        words: SEARCH_WORDS,
      }
    },
  })

  const again: FormRerender = (request, reply, errors) => reply.clientPage(clientOf(request), errors)

  app.post<{ Params: { id: string } }>(
    '/entities/:id/searches',
    {
      config: { access: { permission: 'manual_external_searches', client: 'params.id' }, once: true, form: again },
      schema: { body: formBody(fields(['profile'], 100)) },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const profile = text(request.body, 'profile')
      const done = await runManualSearch(app.db, requestActor(request), entity, profile || undefined)
      const found =
        done.matches === 0
          ? 'no potential match'
          : `${done.matches} potential match${done.matches === 1 ? '' : 'es'} to review`
      reply.flash({
        kind: done.balance < LOW_CREDITS ? 'info' : 'success',
        text: `The manual search found ${found}. One credit was spent: ${done.balance} left${done.balance < LOW_CREDITS ? ', which is low: an administrator can top them up' : ''}.`,
      })
      return reply.redirect(`/entities/${entity.id}/searches/${done.searchId}`, 303)
    },
  )

  const READ = { permission: 'read_data', client: 'params.id' } as const
  app.get<{ Params: { id: string; search: string } }>(
    '/entities/:id/searches/:search',
    { config: { access: READ } },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const search = await clientSearch(app, request)
      return reply.page('screening/search', {
        title: `Screening search: ${isolate(entity.name)}`,
        entity,
        ...(await searchPageData(app, request, search)),
      })
    },
  )

  const reviewAgain: FormRerender = async (request, reply, errors) => {
    const entity = clientOf(request).entity
    const search = await clientSearch(app, request)
    return reply.page('screening/search', {
      title: `Screening search: ${isolate(entity.name)}`,
      entity,
      ...(await searchPageData(app, request, search, errors)),
    })
  }

  app.post<{ Params: { id: string; search: string } }>(
    '/entities/:id/searches/:search/review',
    {
      config: {
        access: { permission: SEARCH_REVIEW_PERMISSIONS, client: 'params.id' },
        once: true,
        form: reviewAgain,
      },
      schema: {
        body: formBodyWithRows(
          { ...fields(['step', 'verdict'], 40), reason: one(RATIONALE_FIELD_MAX) },
          {
            [`^decision-${UUID_PATTERN}$`]: 40,
            [`^rationale-${UUID_PATTERN}$`]: RATIONALE_FIELD_MAX,
          },
        ),
      },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const search = await clientSearch(app, request)
      const body = request.body as Record<string, unknown>
      const decisions: ReviewInput['decisions'] = {}
      for (const key of Object.keys(body)) {
        const id = key.match(/^decision-(.+)$/)?.[1] ?? key.match(/^rationale-(.+)$/)?.[1]
        if (id) decisions[id] = { decision: text(body, `decision-${id}`), rationale: text(body, `rationale-${id}`) }
      }
      const status = await recordReview(app.db, requestActor(request), entity.company_id, search.id, {
        step: text(body, 'step'),
        decisions,
        verdict: text(body, 'verdict'),
        reason: text(body, 'reason'),
      })
      const said: Record<string, string> = {
        closed: 'The search is closed.',
        awaiting_approval: 'Your review is recorded: the search now awaits approval by someone else.',
        open: 'The search was sent back to be checked again.',
      }
      reply.flash({ kind: 'success', text: said[status] ?? 'The review was recorded.' })
      return reply.redirect(`/entities/${entity.id}/searches/${search.id}`, 303)
    },
  )
}
