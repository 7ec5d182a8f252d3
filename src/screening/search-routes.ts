import type { FastifyInstance, FastifyRequest } from 'fastify'
import { mayReviewSearches, SEARCH_REVIEW_PERMISSIONS } from '../access/screening.js'
import { companyUsers } from '../audit/queries.js'
import { COUNTRIES } from '../entities/reference.js'
import { FormErrors, text } from '../forms/form-errors.js'
import type { FormRerender } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { sendCsv } from '../http/csv.js'
import { isCalendarDate, isUuid, NotFoundError, oneOf, pageNumber, signedInUser, withQuery } from '../http/params.js'
import { fields, formBody, query } from '../http/schemas.js'
import { deleteOneTimeSearch, runOneTimeSearch } from './manual.js'
import { profilesOf } from './profiles.js'
import {
  matchesOf,
  oneTimeSearches,
  SEARCH_TABS,
  type SearchLogFilters,
  type SearchRow,
  type SearchTab,
  searchesPage,
  searchLog,
  searchOf,
} from './queries.js'
import { SEARCH_WORDS } from './routes.js'
import { screeningSettings } from './settings.js'

const PAGE = 25
const ONE_TIME_FIELDS = ['name', 'kind', 'date_of_birth', 'country', 'profile'] as const
const LOG_FIELDS = ['kind', 'user', 'name', 'from', 'to', 'page'] as const
const ADMIN = { access: { permission: 'system_administrator' } } as const

const TAB_WORDS: Record<SearchTab, string> = {
  open: 'Open',
  awaiting_approval: 'Awaiting approval',
  closed: 'Closed',
}

function logFilters(q: Record<string, string | undefined>): { filters: SearchLogFilters; errors: FormErrors } {
  const errors = new FormErrors()
  for (const field of ['from', 'to'] as const)
    if (q[field] && !isCalendarDate(q[field])) errors.add(field, 'Enter the day as year-month-day, like 2026-11-24')
  if (isCalendarDate(q.from) && isCalendarDate(q.to) && q.from > q.to)
    errors.add('to', 'The last day comes before the first: no search can match')
  return {
    filters: {
      kind: oneOf(['automated', 'manual', 'one_time'] as const, q.kind) ?? '',
      user: isUuid(q.user) ? q.user : '',
      name: (q.name ?? '').trim().slice(0, 200),
      from: isCalendarDate(q.from) ? q.from : '',
      to: isCalendarDate(q.to) ? q.to : '',
      page: pageNumber(q.page),
    },
    errors,
  }
}

/** The Searches page, one-time searches, and the search log. */
export default async function searchRoutes(app: FastifyInstance) {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/searches',
    {
      config: { access: { permission: SEARCH_REVIEW_PERMISSIONS } },
      schema: { querystring: query(fields(['tab', 'kind', 'client', 'page'], 200)) },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const tab = oneOf(SEARCH_TABS, request.query.tab) ?? 'open'
      const kind = oneOf(['automated', 'manual'] as const, request.query.kind)
      const client = (request.query.client ?? '').trim().slice(0, 200)
      const page = pageNumber(request.query.page)
      const [rows, settings] = await Promise.all([
        searchesPage(app.db, user, { tab, kind, client, page }, PAGE),
        screeningSettings(app.db, user.companyId),
      ])
      const q = { tab, kind, client: client || undefined }
      return reply.page('screening/searches', {
        title: 'Searches',
        tab,
        tabs: SEARCH_TABS.map((t) => ({
          key: t,
          // Under four-eyes review an open search awaits its first review, the check.
          label: t === 'open' && settings.fourEyes ? 'Awaiting check' : TAB_WORDS[t],
          url: withQuery('/searches', {}, { tab: t }),
        })),
        kind: kind ?? '',
        client,
        rows: rows.slice(0, PAGE),
        mayReview: mayReviewSearches(user, settings.fourEyes),
        fourEyes: settings.fourEyes,
        words: SEARCH_WORDS,
        prevUrl: page > 1 ? withQuery('/searches', q, { page: page - 1 }) : undefined,
        nextUrl: rows.length > PAGE ? withQuery('/searches', q, { page: page + 1 }) : undefined,
      })
    },
  )

  // One-time searches.
  const VIEW = { access: { permission: 'view_one_time_searches' } } as const
  const CREATE = { access: { permission: 'create_one_time_searches' } } as const
  const oneTimeOf = async (request: FastifyRequest): Promise<SearchRow> => {
    const { search: id } = request.params as { search: string }
    const search = isUuid(id) ? await searchOf(app.db, signedInUser(request).companyId, id, null) : undefined
    if (!search) throw new NotFoundError('one-time search')
    return search
  }

  app.get<{ Querystring: { page?: string } }>(
    '/one-time-searches',
    { config: VIEW, schema: { querystring: query(fields(['page'], 10)) } },
    async (request, reply) => {
      const user = signedInUser(request)
      const page = pageNumber(request.query.page)
      const rows = await oneTimeSearches(app.db, user.companyId, page, PAGE)
      return reply.page('screening/one-time-searches', {
        title: 'One-time searches',
        rows: rows.slice(0, PAGE),
        words: SEARCH_WORDS,
        prevUrl: page > 1 ? `/one-time-searches?page=${page - 1}` : undefined,
        nextUrl: rows.length > PAGE ? `/one-time-searches?page=${page + 1}` : undefined,
      })
    },
  )

  const newPage = async (request: FastifyRequest, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const typed = request.method === 'POST' ? request.body : undefined
    return {
      title: 'New one-time search',
      values: Object.fromEntries(
        ONE_TIME_FIELDS.map((f) => [f, typed ? text(typed, f) : f === 'kind' ? 'individual' : '']),
      ),
      profiles: user.permissions.has('manual_external_searches') ? await profilesOf(app.db, user.companyId) : [],
      countries: COUNTRIES,
      errors,
    }
  }
  const newAgain: FormRerender = async (request, reply, errors) =>
    reply.page('screening/one-time-new', await newPage(request, errors))

  app.get('/one-time-searches/new', { config: CREATE }, async (request, reply) =>
    reply.page('screening/one-time-new', await newPage(request)),
  )

  app.post(
    '/one-time-searches/new',
    {
      config: { ...CREATE, once: true, form: newAgain },
      schema: { body: formBody(fields([...ONE_TIME_FIELDS], 2000)) },
    },
    async (request, reply) => {
      const user = signedInUser(request)
      const values = Object.fromEntries(ONE_TIME_FIELDS.map((f) => [f, text(request.body, f)])) as Record<
        (typeof ONE_TIME_FIELDS)[number],
        string
      >
      // Choosing the profile is Manual External Searches / Override Profile's; anyone else gets the default.
      if (!user.permissions.has('manual_external_searches')) values.profile = ''
      const id = await runOneTimeSearch(app.db, requestActor(request), values)
      reply.flash({ kind: 'success', text: 'The one-time search was recorded.' })
      return reply.redirect(`/one-time-searches/${id}`, 303)
    },
  )

  app.get<{ Params: { search: string } }>('/one-time-searches/:search', { config: VIEW }, async (request, reply) => {
    const search = await oneTimeOf(request)
    return reply.page('screening/one-time-search', {
      title: `One-time search: ${search.query.name}`,
      search,
      matches: await matchesOf(app.db, search.id),
      words: SEARCH_WORDS,
    })
  })

  const DELETE = { access: { permission: 'delete_one_time_searches' } } as const
  app.get<{ Params: { search: string } }>(
    '/one-time-searches/:search/delete',
    { config: DELETE },
    async (request, reply) => {
      const search = await oneTimeOf(request)
      return reply.page('screening/one-time-delete', { title: 'Delete a one-time search', search })
    },
  )

  app.post<{ Params: { search: string } }>(
    '/one-time-searches/:search/delete',
    { config: DELETE, schema: { body: formBody() } },
    async (request, reply) => {
      const search = await oneTimeOf(request)
      await deleteOneTimeSearch(app.db, requestActor(request), search.id)
      reply.flash({ kind: 'success', text: `The one-time search of ${search.query.name} was deleted for good.` })
      return reply.redirect('/one-time-searches', 303)
    },
  )

  // The search log, and its export.
  const LOG_QUERY = query(fields([...LOG_FIELDS], 200))
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/settings/search-log',
    { config: ADMIN, schema: { querystring: LOG_QUERY } },
    async (request, reply) => {
      const user = signedInUser(request)
      const { filters, errors } = logFilters(request.query)
      const [rows, users] = await Promise.all([
        searchLog(app.db, user, filters)
          .offset((filters.page - 1) * PAGE)
          .limit(PAGE + 1) as Promise<SearchRow[]>,
        companyUsers(app.db, user.companyId),
      ])
      const q = { ...filters, page: undefined }
      return reply.page('screening/search-log', {
        title: 'Search log',
        filters,
        typed: { from: request.query.from ?? '', to: request.query.to ?? '' },
        errors,
        users,
        rows: rows.slice(0, PAGE),
        words: SEARCH_WORDS,
        csvUrl: withQuery('/settings/search-log.csv', q, {}),
        prevUrl: filters.page > 1 ? withQuery('/settings/search-log', q, { page: filters.page - 1 }) : undefined,
        nextUrl: rows.length > PAGE ? withQuery('/settings/search-log', q, { page: filters.page + 1 }) : undefined,
      })
    },
  )

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/settings/search-log.csv',
    { config: ADMIN, schema: { querystring: LOG_QUERY } },
    async (request, reply) => {
      const user = signedInUser(request)
      const { filters } = logFilters(request.query)
      async function* rows() {
        for (let offset = 0; ; offset += 1000) {
          const batch: SearchRow[] = await searchLog(app.db, user, filters).offset(offset).limit(1000)
          for (const s of batch)
            yield [
              s.created_at.toISOString(),
              SEARCH_WORDS.kind[s.kind],
              s.created_by_name ?? 'The system (nightly)',
              s.entity_name ?? '',
              s.query.name,
              s.query.schema ?? '',
              s.query.birthDate ?? '',
              s.query.country ?? '',
              s.profile.name,
              s.profile.threshold,
              Object.entries(s.list_versions)
                .map(([l, v]) => `${l} v${v}`)
                .join('; '),
              s.match_count,
              s.top_score ?? '',
              SEARCH_WORDS.status[s.status],
              s.id,
            ]
          if (batch.length < 1000) return
        }
      }
      return sendCsv(
        reply,
        'search-log',
        [
          'Time (UTC)',
          'Search',
          'Who',
          'Client',
          'Name searched',
          'Type',
          'Date of birth',
          'Country',
          'Profile',
          'Threshold',
          'List versions',
          'Potential matches',
          'Top score',
          'Status',
          'Search id',
        ],
        rows(),
      )
    },
  )
}
