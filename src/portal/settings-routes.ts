/**
 * Settings → Self-service portal (manage_self_service): the portal's introduction, contact details and link
 * validity, and the two questionnaires (individuals, organisations), edited one question at a time. Every
 * questionnaire form carries the version it was shown with; a change built on an older one is refused with
 * 409 and the page shown again, as it is now (src/portal/settings.ts changeQuestionnaire).
 */
import { isDeepStrictEqual } from 'node:util'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { EntityKind } from '../entities/reference.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { type FormRerender, RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { NotFoundError, signedInUser } from '../http/params.js'
import { fields, formBody } from '../http/schemas.js'
import {
  CLIENT_FIELDS,
  type ClientField,
  fileQuestions,
  KEY_PATTERN,
  LIMITS,
  newKey,
  pagesOf,
  QUESTION_KINDS,
  type Question,
  type QuestionKind,
  type Questionnaire,
  questionKindLabel,
  toJsonSchema,
} from './questionnaire.js'
import {
  changeQuestionnaire,
  checkQuestion,
  portalSettings,
  questionnaireOf,
  savePortalSettings,
  validatePortalSettings,
} from './settings.js'

const ACCESS = { access: { permission: 'manage_self_service' } } as const

/** The questionnaires, by the client kind of their URL, with the words a page uses for them. */
const KINDS: Record<EntityKind, { plural: string; heading: string }> = {
  individual: { plural: 'individuals', heading: 'Individuals' },
  organisation: { plural: 'organisations', heading: 'Organisations' },
}
const KIND_VALUES = Object.keys(KINDS) as EntityKind[]
const KEY_RE = new RegExp(KEY_PATTERN)
const CHOICE_KINDS: readonly string[] = ['single_choice', 'multiple_choice']
/** The new-question form's URL segment: a question keyed `new` would be hidden behind it. */
const RESERVED_KEYS = new Set(['new'])

const SETTINGS_FIELDS = ['intro', 'contact', 'link_valid_days'] as const
const QUESTION_FIELDS = ['label', 'kind', 'help', 'required', 'options', 'page', 'field'] as const
const SETTINGS_BODY = formBody(fields(SETTINGS_FIELDS))
const QUESTION_BODY = formBody({ ...fields(QUESTION_FIELDS), ...fields(['version'], 20) })
const VERSION_BODY = formBody(fields(['version'], 20))
const MOVE_BODY = formBody(fields(['version', 'direction'], 20))

type KindParams = { kind: string }
type QuestionParams = { kind: string; key: string }

/** The questionnaire kind of the URL; anything else is a page that does not exist. */
function kindOf(request: FastifyRequest): EntityKind {
  const kind = (request.params as Partial<KindParams>).kind
  if (!KIND_VALUES.includes(kind as EntityKind)) throw new NotFoundError('questionnaire')
  return kind as EntityKind
}

/** The question key of the URL, when it has a key's shape (whether it exists is for the caller to see). */
function keyOf(request: FastifyRequest): string {
  const key = (request.params as Partial<QuestionParams>).key
  if (typeof key !== 'string' || !KEY_RE.test(key)) throw new NotFoundError('question')
  return key
}

function questionIn(questionnaire: Questionnaire, key: string): Question {
  const question = questionnaire.questions.find((q) => q.key === key)
  if (!question) throw new NotFoundError('question')
  return question
}

/** The questionnaire version a form was shown with. */
function shownVersion(body: unknown): number {
  const value = text(body, 'version')
  if (!/^\d{1,9}$/.test(value)) {
    throw new RuleError(
      'questions',
      'This form was sent without the version of the questionnaire it showed: open the page again, then make your change.',
    )
  }
  return Number(value)
}

const questionnaireUrl = (kind: EntityKind) => `/settings/portal/questionnaires/${kind}`
const questionUrl = (kind: EntityKind, key: string) => `${questionnaireUrl(kind)}/questions/${key}`

/** What a client field is, and which question kinds may fill it in, as the field select shows it. */
function clientFieldLabel(field: (typeof CLIENT_FIELDS)[EntityKind][number]): string {
  return `${field.label} (${field.kinds.map((k) => questionKindLabel(k).toLowerCase()).join(' or ')})`
}

/** The question editor's fields as text, as typed or as stored. */
interface QuestionValues {
  label: string
  kind: string
  help: string
  required: boolean
  options: string
  page: string
  field: string
}

function valuesOf(question: Question): QuestionValues {
  return {
    label: question.label,
    kind: question.kind,
    help: question.help,
    required: question.required,
    options: question.options.join('\n'),
    page: String(question.page),
    field: question.field ?? '',
  }
}

function typedValues(body: unknown): QuestionValues {
  const raw = (field: string) => {
    const value = (body as Record<string, unknown> | undefined)?.[field]
    return typeof value === 'string' ? value : ''
  }
  return {
    label: text(body, 'label'),
    kind: text(body, 'kind'),
    help: raw('help').trim(),
    required: text(body, 'required') === 'yes',
    options: raw('options'),
    page: text(body, 'page'),
    field: text(body, 'field'),
  }
}

/** The question a posted editor form describes (its key aside), for checkQuestion to judge. */
function questionFrom(values: QuestionValues, key: string): Question {
  const options = CHOICE_KINDS.includes(values.kind)
    ? values.options
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '')
    : []
  // File questions are asked on the Documents step: their page matters to nobody, so a blank one is page 1.
  const pageText = values.page === '' && values.kind === 'file' ? '1' : values.page
  return {
    key,
    kind: values.kind as QuestionKind,
    label: values.label,
    help: values.help.replace(/\r\n/g, '\n'),
    required: values.required,
    options,
    page: /^\d{1,2}$/.test(pageText) ? Number(pageText) : Number.NaN,
    field: values.field === '' ? null : (values.field as ClientField),
  }
}

export default async function portalSettingsRoutes(app: FastifyInstance) {
  // ---------------------------------------------------------------------------------------------------
  // The settings page: the portal's words, link validity, and the two questionnaires in brief.

  const settingsPage = async (request: FastifyRequest, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const [settings, ...questionnaires] = await Promise.all([
      portalSettings(app.db, user.companyId),
      ...KIND_VALUES.map((kind) => questionnaireOf(app.db, user.companyId, kind)),
    ])
    const typed = request.method === 'POST' ? request.body : undefined
    return {
      title: 'Self-service portal',
      values: typed
        ? Object.fromEntries(SETTINGS_FIELDS.map((f) => [f, text(typed, f)]))
        : { intro: settings.intro, contact: settings.contact, link_valid_days: String(settings.linkValidDays) },
      questionnaires: KIND_VALUES.map((kind, i) => {
        const { questionnaire, version } = questionnaires[i] as Awaited<ReturnType<typeof questionnaireOf>>
        return {
          kind,
          ...KINDS[kind],
          url: questionnaireUrl(kind),
          version,
          questions: questionnaire.questions.length,
          pages: pagesOf(questionnaire).length,
          files: fileQuestions(questionnaire).length,
        }
      }),
      errors,
    }
  }
  const settingsAgain: FormRerender = async (request, reply, errors) =>
    reply.page('portal/settings', await settingsPage(request, errors))

  app.get('/settings/portal', { config: ACCESS }, async (request, reply) =>
    reply.page('portal/settings', await settingsPage(request)),
  )

  app.post(
    '/settings/portal',
    { config: { ...ACCESS, once: true, form: settingsAgain }, schema: { body: SETTINGS_BODY } },
    async (request, reply) => {
      const body = request.body
      const values = validatePortalSettings({
        intro: text(body, 'intro'),
        contact: text(body, 'contact'),
        link_valid_days: text(body, 'link_valid_days'),
      })
      const changed = await savePortalSettings(app.db, requestActor(request), values)
      reply.flash({ kind: 'success', text: changed ? 'The portal settings were saved.' : 'Nothing was changed.' })
      return reply.redirect('/settings/portal', 303)
    },
  )

  // ---------------------------------------------------------------------------------------------------
  // A questionnaire: its questions in order, each with its actions.

  const questionnairePage = async (request: FastifyRequest, kind: EntityKind, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const { questionnaire, version } = await questionnaireOf(app.db, user.companyId, kind)
    const fieldLabels = new Map(CLIENT_FIELDS[kind].map((f) => [f.value as string, f.label]))
    const last = questionnaire.questions.length - 1
    return {
      title: `Questionnaire for ${KINDS[kind].plural}`,
      kind,
      ...KINDS[kind],
      url: questionnaireUrl(kind),
      version,
      pages: pagesOf(questionnaire).length,
      files: fileQuestions(questionnaire).length,
      rows: questionnaire.questions.map((q, i) => ({
        key: q.key,
        label: q.label,
        kindLabel: questionKindLabel(q.kind),
        where: q.kind === 'file' ? 'Documents step' : `Page ${q.page}`,
        required: q.required ? 'Yes' : 'No',
        fills: q.field === null ? '—' : (fieldLabels.get(q.field) ?? q.field),
        url: questionUrl(kind, q.key),
        first: i === 0,
        last: i === last,
      })),
      errors,
    }
  }
  /** The questionnaire page again, as it is now, with what was refused. */
  const questionnaireAgain: FormRerender = async (request, reply, errors) => {
    const kind = kindOf(request)
    keyOf(request) // a key of no key's shape is a page not found, even when the body was refused too
    return reply.page('portal/settings-questionnaire', await questionnairePage(request, kind, errors))
  }

  app.get<{ Params: KindParams }>('/settings/portal/questionnaires/:kind', { config: ACCESS }, async (request, reply) =>
    reply.page('portal/settings-questionnaire', await questionnairePage(request, kindOf(request))),
  )

  app.get<{ Params: KindParams }>(
    '/settings/portal/questionnaires/:kind/schema.json',
    { config: ACCESS },
    async (request, reply) => {
      const kind = kindOf(request)
      const { questionnaire } = await questionnaireOf(app.db, signedInUser(request).companyId, kind)
      return reply
        .type('application/schema+json; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="questionnaire-${kind}.schema.json"`)
        .header('Cache-Control', 'private, no-store')
        .send(JSON.stringify(toJsonSchema(questionnaire), null, 2))
    },
  )

  // ---------------------------------------------------------------------------------------------------
  // The question editor: a new question, or one of the questionnaire's.

  const questionPage = async (
    request: FastifyRequest,
    kind: EntityKind,
    opts: { key?: string; errors?: FormErrors; values?: QuestionValues; version?: number } = {},
  ) => {
    const user = signedInUser(request)
    const { questionnaire, version } = await questionnaireOf(app.db, user.companyId, kind)
    const editing = opts.key === undefined ? undefined : questionIn(questionnaire, opts.key)
    const values: QuestionValues =
      opts.values ??
      (editing
        ? valuesOf(editing)
        : { label: '', kind: 'text', help: '', required: true, options: '', page: '1', field: '' })
    const boundBy = (field: string) =>
      questionnaire.questions.find((q) => q.field === field && q.key !== editing?.key)?.label
    return {
      title: editing ? `Edit the question “${isolate(editing.label)}”` : `New question for ${KINDS[kind].plural}`,
      kind,
      ...KINDS[kind],
      url: questionnaireUrl(kind),
      action: editing ? questionUrl(kind, editing.key) : `${questionnaireUrl(kind)}/questions/new`,
      editing,
      version: opts.version ?? version,
      values,
      kinds: QUESTION_KINDS.map((k) => ({ value: k.value, label: k.label })),
      clientFields: CLIENT_FIELDS[kind].map((f) => {
        const taken = boundBy(f.value)
        return {
          value: f.value,
          label:
            taken === undefined ? clientFieldLabel(f) : `${clientFieldLabel(f)}, now filled in by “${isolate(taken)}”`,
        }
      }),
      limits: LIMITS,
      errors: opts.errors ?? new FormErrors(),
    }
  }
  /**
   * The editor again, with what was typed. After a 409 it carries the questionnaire's current version, so
   * saving again is a deliberate choice; when the question itself is gone, the questionnaire is shown.
   */
  const questionAgain: FormRerender = async (request, reply, errors, refusal) => {
    const kind = kindOf(request)
    const key = (request.params as Partial<QuestionParams>).key === undefined ? undefined : keyOf(request)
    const stale = refusal?.status === 409
    const posted = /^\d{1,9}$/.test(text(request.body, 'version')) ? Number(text(request.body, 'version')) : undefined
    if (key !== undefined && stale) {
      const { questionnaire } = await questionnaireOf(app.db, signedInUser(request).companyId, kind)
      if (!questionnaire.questions.some((q) => q.key === key))
        return reply.page('portal/settings-questionnaire', await questionnairePage(request, kind, errors))
    }
    return reply.page(
      'portal/question',
      await questionPage(request, kind, {
        key,
        errors,
        values: typedValues(request.body),
        version: stale ? undefined : posted,
      }),
    )
  }

  app.get<{ Params: KindParams }>(
    '/settings/portal/questionnaires/:kind/questions/new',
    { config: ACCESS },
    async (request, reply) => reply.page('portal/question', await questionPage(request, kindOf(request))),
  )

  app.post<{ Params: KindParams }>(
    '/settings/portal/questionnaires/:kind/questions/new',
    { config: { ...ACCESS, once: true, form: questionAgain }, schema: { body: QUESTION_BODY } },
    async (request, reply) => {
      const kind = kindOf(request)
      const version = shownVersion(request.body)
      const values = typedValues(request.body)
      let added: Question | undefined
      await changeQuestionnaire(app.db, requestActor(request), kind, version, 'portal.question_added', (q) => {
        let key = newKey(q, values.label)
        if (RESERVED_KEYS.has(key)) key = newKey(q, `${values.label} question`)
        added = questionFrom(values, key)
        checkQuestion(q, added)
        return { ...q, questions: [...q.questions, added] }
      })
      reply.flash({ kind: 'success', text: `The question “${isolate(values.label)}” was added.` })
      return reply.redirect(`${questionnaireUrl(kind)}#questions`, 303)
    },
  )

  app.get<{ Params: QuestionParams }>(
    '/settings/portal/questionnaires/:kind/questions/:key',
    { config: ACCESS },
    async (request, reply) =>
      reply.page('portal/question', await questionPage(request, kindOf(request), { key: keyOf(request) })),
  )

  app.post<{ Params: QuestionParams }>(
    '/settings/portal/questionnaires/:kind/questions/:key',
    { config: { ...ACCESS, once: true, form: questionAgain }, schema: { body: QUESTION_BODY } },
    async (request, reply) => {
      const kind = kindOf(request)
      const key = keyOf(request)
      const version = shownVersion(request.body)
      const values = typedValues(request.body)
      const question = questionFrom(values, key)
      // Saved as it was shown, unchanged: nothing to save, audit or count as a new version.
      const current = await questionnaireOf(app.db, signedInUser(request).companyId, kind)
      const before = current.questionnaire.questions.find((q) => q.key === key)
      if (current.version === version && before && isDeepStrictEqual(before, question)) {
        reply.flash({ kind: 'success', text: 'Nothing was changed.' })
        return reply.redirect(`${questionnaireUrl(kind)}#questions`, 303)
      }
      await changeQuestionnaire(app.db, requestActor(request), kind, version, 'portal.question_changed', (q) => {
        questionIn(q, key)
        checkQuestion(q, question, key)
        return { ...q, questions: q.questions.map((other) => (other.key === key ? question : other)) }
      })
      reply.flash({ kind: 'success', text: `The question “${isolate(question.label)}” was saved.` })
      return reply.redirect(`${questionnaireUrl(kind)}#questions`, 303)
    },
  )

  // ---------------------------------------------------------------------------------------------------
  // Moving a question up or down, and removing one.

  app.post<{ Params: QuestionParams }>(
    '/settings/portal/questionnaires/:kind/questions/:key/move',
    { config: { ...ACCESS, once: true, form: questionnaireAgain }, schema: { body: MOVE_BODY } },
    async (request, reply) => {
      const kind = kindOf(request)
      const key = keyOf(request)
      const direction = text(request.body, 'direction')
      if (direction !== 'up' && direction !== 'down')
        throw new RuleError('questions', 'Choose whether to move the question up or down')
      const version = shownVersion(request.body)
      let moved: Question | undefined
      await changeQuestionnaire(app.db, requestActor(request), kind, version, 'portal.question_moved', (q) => {
        moved = questionIn(q, key)
        const from = q.questions.indexOf(moved)
        const to = direction === 'up' ? from - 1 : from + 1
        if (to < 0 || to >= q.questions.length) {
          throw new RuleError(
            'questions',
            `“${isolate(moved.label)}” is already the ${direction === 'up' ? 'first' : 'last'} question`,
          )
        }
        const questions = [...q.questions]
        ;[questions[from], questions[to]] = [questions[to] as Question, moved]
        return { ...q, questions }
      })
      reply.flash({
        kind: 'success',
        text: `The question “${isolate(moved?.label ?? key)}” was moved ${direction}.`,
      })
      return reply.redirect(`${questionnaireUrl(kind)}#questions`, 303)
    },
  )

  const removePage = async (request: FastifyRequest, kind: EntityKind, key: string, errors = new FormErrors()) => {
    const user = signedInUser(request)
    const { questionnaire, version } = await questionnaireOf(app.db, user.companyId, kind)
    const question = questionIn(questionnaire, key)
    return {
      title: `Remove the question “${isolate(question.label)}”?`,
      kind,
      ...KINDS[kind],
      url: questionnaireUrl(kind),
      action: `${questionUrl(kind, key)}/remove`,
      question,
      fills: question.field === null ? undefined : CLIENT_FIELDS[kind].find((f) => f.value === question.field)?.label,
      only: questionnaire.questions.length === 1,
      version,
      errors,
    }
  }
  /** The confirmation again, as the questionnaire is now; the questionnaire itself when the question is gone. */
  const removeAgain: FormRerender = async (request, reply, errors, refusal) => {
    const kind = kindOf(request)
    const key = keyOf(request)
    const { questionnaire } = await questionnaireOf(app.db, signedInUser(request).companyId, kind)
    if (refusal?.status === 409 && !questionnaire.questions.some((q) => q.key === key))
      return reply.page('portal/settings-questionnaire', await questionnairePage(request, kind, errors))
    return reply.page('portal/question-remove', await removePage(request, kind, key, errors))
  }

  app.get<{ Params: QuestionParams }>(
    '/settings/portal/questionnaires/:kind/questions/:key/remove',
    { config: ACCESS },
    async (request, reply) =>
      reply.page('portal/question-remove', await removePage(request, kindOf(request), keyOf(request))),
  )

  app.post<{ Params: QuestionParams }>(
    '/settings/portal/questionnaires/:kind/questions/:key/remove',
    { config: { ...ACCESS, once: true, form: removeAgain }, schema: { body: VERSION_BODY } },
    async (request, reply) => {
      const kind = kindOf(request)
      const key = keyOf(request)
      const version = shownVersion(request.body)
      let removed: Question | undefined
      await changeQuestionnaire(app.db, requestActor(request), kind, version, 'portal.question_removed', (q) => {
        removed = questionIn(q, key)
        if (q.questions.length === 1) {
          throw new RuleError(
            'questions',
            'A questionnaire needs at least one question: add another one before removing this one',
          )
        }
        return { ...q, questions: q.questions.filter((other) => other.key !== key) }
      })
      reply.flash({ kind: 'success', text: `The question “${isolate(removed?.label ?? key)}” was removed.` })
      return reply.redirect(`${questionnaireUrl(kind)}#questions`, 303)
    },
  )
}
