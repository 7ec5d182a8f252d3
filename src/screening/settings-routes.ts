import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FormErrors, text } from '../forms/form-errors.js'
import { type FormRerender, RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, pageNumber, signedInUser } from '../http/params.js'
import { fields, formBody, formBodyWithRows, many, query, UUID_PATTERN } from '../http/schemas.js'
import { LOW_CREDITS, ledgerPage, topUpCredits } from './credits.js'
import { parseListFiles } from './lists/parse.js'
import {
  type ImportResult,
  importList,
  importSentence,
  LIST_KEY_PATTERN,
  listName,
  listVersions,
  sourceOf,
} from './lists/store.js'
import { ListFormatError } from './lists/types.js'
import { type ProfileInput, profilesOf, saveProfile } from './profiles.js'
import { currentListVersions } from './provider.js'
import { screeningSettings, setFourEyes, setManualSearchBudget } from './settings.js'

const ADMIN = { access: { permission: 'system_administrator' } } as const
const PROFILE_FIELDS = ['name', 'threshold', 'use_birth_date', 'use_country', 'is_default'] as const
/** The most files one import takes (OFAC's four and the UN's one), and the largest file. */
const UPLOAD_LIMITS = { files: 5, fileSize: 200 * 1024 * 1024 }
const LEDGER_PAGE = 50

/** Users who may run manual searches, with their monthly budget. */
function manualSearchers(app: FastifyInstance, companyId: string) {
  return app
    .db('users as u')
    .where({ 'u.company_id': companyId, 'u.active': true })
    .whereExists(
      app
        .db('user_permissions as p')
        .whereRaw('p.user_id = u.id')
        .whereIn('p.permission', ['manual_external_searches', 'system_administrator']),
    )
    .orderByRaw('lower(u.name), u.id')
    .select<{ id: string; name: string; manual_search_budget: number | null }[]>(
      'u.id',
      'u.name',
      'u.manual_search_budget',
    )
}

/** Settings → Screening: four-eyes review, credits, budgets, profiles; and Screening lists, with the import. */
export default async function screeningSettingsRoutes(app: FastifyInstance) {
  const settingsPage = async (request: FastifyRequest, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const [settings, profiles, searchers, lists] = await Promise.all([
      screeningSettings(app.db, user.companyId),
      profilesOf(app.db, user.companyId),
      manualSearchers(app, user.companyId),
      currentListVersions(app.db, user.companyId),
    ])
    const typed = request.method === 'POST' ? request.body : undefined
    return {
      title: 'Screening',
      settings,
      low: settings.credits < LOW_CREDITS,
      profiles,
      searchers,
      lists: Object.keys(lists),
      listName,
      values: {
        amount: typed ? text(typed, 'amount') : '',
        note: typed ? text(typed, 'note') : '',
        budgets: Object.fromEntries(
          searchers.map((s) => [
            s.id,
            typed && text(typed, 'user') === s.id
              ? text(typed, `budget-${s.id}`)
              : s.manual_search_budget === null
                ? ''
                : String(s.manual_search_budget),
          ]),
        ),
      },
      errors,
    }
  }
  const settingsAgain: FormRerender = async (request, reply, errors) =>
    reply.page('screening/settings', await settingsPage(request, errors))

  app.get('/settings/screening', { config: ADMIN }, async (request, reply) =>
    reply.page('screening/settings', await settingsPage(request)),
  )

  app.post(
    '/settings/screening/four-eyes',
    { config: { ...ADMIN, form: settingsAgain }, schema: { body: formBody(fields(['four_eyes'], 10)) } },
    async (request, reply) => {
      const on = text(request.body, 'four_eyes') === 'on'
      const changed = await setFourEyes(app.db, requestActor(request), on)
      reply.flash({
        kind: 'success',
        text: changed
          ? `Four-eyes review is ${on ? 'on: a search is checked by one person and approved by another' : 'off: Manage External Searches resolves a search alone'}.`
          : 'Nothing changed.',
      })
      return reply.redirect('/settings/screening', 303)
    },
  )

  app.post(
    '/settings/screening/credits',
    {
      config: { ...ADMIN, once: true, form: settingsAgain },
      schema: { body: formBody({ ...fields(['amount'], 20), ...fields(['note'], 2000) }) },
    },
    async (request, reply) => {
      const balance = await topUpCredits(app.db, requestActor(request), {
        amount: text(request.body, 'amount'),
        note: text(request.body, 'note'),
      })
      reply.flash({ kind: 'success', text: `Credits topped up: the balance is now ${balance}.` })
      return reply.redirect('/settings/screening#credits', 303)
    },
  )

  app.post(
    '/settings/screening/budget',
    {
      config: { ...ADMIN, form: settingsAgain },
      schema: { body: formBodyWithRows(fields(['user'], 100), { [`^budget-${UUID_PATTERN}$`]: 20 }) },
    },
    async (request, reply) => {
      const userId = text(request.body, 'user')
      if (!isUuid(userId)) throw new NotFoundError('user')
      const budget = await setManualSearchBudget(
        app.db,
        requestActor(request),
        userId,
        text(request.body, `budget-${userId}`),
      )
      reply.flash({
        kind: 'success',
        text:
          budget === null
            ? 'The monthly budget was removed: no limit.'
            : `The monthly budget is now ${budget} manual searches.`,
      })
      return reply.redirect('/settings/screening#budgets', 303)
    },
  )

  app.get<{ Querystring: { page?: string } }>(
    '/settings/screening/credits',
    { config: ADMIN, schema: { querystring: query(fields(['page'], 10)) } },
    async (request, reply) => {
      const user = signedInUser(request)
      const page = pageNumber(request.query.page)
      const rows = await ledgerPage(app.db, user.companyId, page, LEDGER_PAGE)
      const settings = await screeningSettings(app.db, user.companyId)
      return reply.page('screening/credits', {
        title: 'Screening credits',
        balance: settings.credits,
        rows: rows.slice(0, LEDGER_PAGE),
        prevUrl: page > 1 ? `/settings/screening/credits?page=${page - 1}` : undefined,
        nextUrl: rows.length > LEDGER_PAGE ? `/settings/screening/credits?page=${page + 1}` : undefined,
      })
    },
  )

  // Profiles: a new one, and each one's page.
  const profileValues = (request: FastifyRequest, profile?: Awaited<ReturnType<typeof profilesOf>>[number]) => {
    if (request.method === 'POST') {
      const body = request.body as Record<string, unknown>
      const lists = body.lists
      return {
        ...Object.fromEntries(PROFILE_FIELDS.map((f) => [f, text(body, f)])),
        lists: Array.isArray(lists) ? lists.map(String) : [],
      }
    }
    return {
      name: profile?.name ?? '',
      threshold: profile ? String(profile.threshold) : '0.88',
      use_birth_date: profile && !profile.use_birth_date ? '' : 'on',
      use_country: profile && !profile.use_country ? '' : 'on',
      is_default: profile?.is_default ? 'on' : '',
      lists: profile?.lists ?? [],
    }
  }
  const profileOf = async (request: FastifyRequest) => {
    const id = (request.params as { profile?: string }).profile
    if (id === undefined) return undefined
    const profile = isUuid(id)
      ? (await profilesOf(app.db, signedInUser(request).companyId)).find((p) => p.id === id)
      : undefined
    if (!profile) throw new NotFoundError('search profile')
    return profile
  }
  const profilePage = async (request: FastifyRequest, errors = new FormErrors()) => {
    const profile = await profileOf(request)
    const lists = Object.keys(await currentListVersions(app.db, signedInUser(request).companyId))
    return {
      title: profile ? `Search profile: ${profile.name}` : 'New search profile',
      profile,
      lists: lists.map((l) => ({ value: l, label: listName(l) })),
      values: profileValues(request, profile),
      errors,
    }
  }
  const profileAgain: FormRerender = async (request, reply, errors) =>
    reply.page('screening/profile', await profilePage(request, errors))
  const profileBody = formBody({ ...fields([...PROFILE_FIELDS], 200), lists: many(40) })
  const saveFrom = async (request: FastifyRequest, id: string | undefined) => {
    const values = profileValues(request)
    const input: ProfileInput = {
      name: values.name as string,
      threshold: values.threshold as string,
      lists: values.lists as string[],
      use_birth_date: values.use_birth_date === 'on',
      use_country: values.use_country === 'on',
      is_default: values.is_default === 'on',
    }
    const known = Object.keys(await currentListVersions(app.db, signedInUser(request).companyId))
    await saveProfile(app.db, requestActor(request), id, input, known)
    return input.name
  }

  app.get('/settings/screening/profiles/new', { config: ADMIN }, async (request, reply) =>
    reply.page('screening/profile', await profilePage(request)),
  )
  app.post(
    '/settings/screening/profiles/new',
    { config: { ...ADMIN, once: true, form: profileAgain }, schema: { body: profileBody } },
    async (request, reply) => {
      const name = await saveFrom(request, undefined)
      reply.flash({ kind: 'success', text: `The search profile “${name}” was created.` })
      return reply.redirect('/settings/screening#profiles', 303)
    },
  )
  app.get<{ Params: { profile: string } }>(
    '/settings/screening/profiles/:profile',
    { config: ADMIN },
    async (request, reply) => reply.page('screening/profile', await profilePage(request)),
  )
  app.post<{ Params: { profile: string } }>(
    '/settings/screening/profiles/:profile',
    { config: { ...ADMIN, form: profileAgain }, schema: { body: profileBody } },
    async (request, reply) => {
      const profile = await profileOf(request)
      const name = await saveFrom(request, profile?.id)
      reply.flash({ kind: 'success', text: `The search profile “${name}” was saved.` })
      return reply.redirect('/settings/screening#profiles', 303)
    },
  )

  // Lists: every version of every list, and the import.
  const listsPage = async (request: FastifyRequest, errors = new FormErrors()) => {
    const versions = await listVersions(app.db, signedInUser(request).companyId)
    const byList = new Map<string, typeof versions>()
    for (const v of versions) byList.set(v.list, [...(byList.get(v.list) ?? []), v])
    return {
      title: 'Screening lists',
      lists: [...byList.entries()].map(([list, vs]) => ({ list, name: listName(list), current: vs[0], versions: vs })),
      listKey: request.method === 'POST' ? ((request.body as { list?: string } | undefined)?.list ?? '') : '',
      errors,
    }
  }
  const listsAgain: FormRerender = async (request, reply, errors) =>
    reply.page('screening/lists', await listsPage(request, errors))

  app.get('/settings/screening-lists', { config: ADMIN }, async (request, reply) =>
    reply.page('screening/lists', await listsPage(request)),
  )

  app.post(
    '/settings/screening-lists',
    { config: { ...ADMIN, multipart: UPLOAD_LIMITS, once: true, form: listsAgain } },
    async (request, reply) => {
      if (!request.isMultipart()) throw new RuleError('files', 'Choose the list files to import')
      const dir = await mkdtemp(path.join(tmpdir(), 'kyc-lists-'))
      try {
        const files: { name: string; path: string }[] = []
        let listKey = ''
        try {
          for await (const part of request.multipartParts ?? request.parts()) {
            if (part.type === 'field') {
              if (part.fieldname === 'list' && typeof part.value === 'string') listKey = part.value.trim()
              continue
            }
            if (part.fieldname !== 'files' || !part.filename) {
              part.file.resume()
              continue
            }
            const stored = path.join(dir, String(files.length))
            await pipeline(part.file, createWriteStream(stored))
            if (part.file.truncated)
              throw new RuleError('files', `${part.filename} is larger than ${UPLOAD_LIMITS.fileSize / 1024 / 1024} MB`)
            files.push({ name: path.basename(part.filename), path: stored })
          }
        } catch (error) {
          const code = (error as { code?: string }).code
          if (code === 'FST_FILES_LIMIT')
            throw new RuleError(
              'files',
              `Import at most ${UPLOAD_LIMITS.files} files at a time (OFAC’s four and the UN’s)`,
            )
          if (code === 'FST_REQ_FILE_TOO_LARGE')
            throw new RuleError('files', `A file is larger than ${UPLOAD_LIMITS.fileSize / 1024 / 1024} MB`)
          throw error
        }
        // What was typed, for the form shown again after a refusal.
        request.body = { list: listKey }
        if (files.length === 0) throw new RuleError('files', 'Choose the list files to import')
        if (listKey && !LIST_KEY_PATTERN.test(listKey))
          throw new RuleError('list', 'Name the list with lower-case letters, digits and hyphens, like eu-fsf')
        let parsed: Awaited<ReturnType<typeof parseListFiles>>
        try {
          parsed = await parseListFiles(files.map((f) => ({ name: f.name, open: () => createReadStream(f.path) })))
        } catch (error) {
          if (error instanceof ListFormatError) throw new RuleError('files', `Nothing was imported: ${error.message}`)
          throw error
        }
        // Every list of one upload in one transaction: a failure leaves each list as it was.
        const user = signedInUser(request)
        const results = await app.db.transaction(async (trx) => {
          const done: ImportResult[] = []
          for (const list of parsed)
            done.push(
              await importList(trx, { companyId: user.companyId, userId: user.id, ip: request.ip }, list, {
                source: sourceOf(list),
                list: listKey || undefined,
              }),
            )
          return done
        })
        const said = results.map(importSentence)
        reply.flash({ kind: 'success', text: `Imported. ${said.join('. ')}.` })
        return reply.redirect('/settings/screening-lists', 303)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  )
}
