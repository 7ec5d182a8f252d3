import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { clientMayEdit, type PortalState } from '../access/portal.js'
import { ALLOWED_DESCRIPTION } from '../documents/file-types.js'
import { receiveUpload } from '../documents/receive.js'
import { COUNTRIES } from '../entities/reference.js'
import { FormErrors } from '../forms/form-errors.js'
import { RuleError } from '../forms/rule-error.js'
import { isUuid, NotFoundError } from '../http/params.js'
import { formBody, formBodyWithRows, one, oneOrMany } from '../http/schemas.js'
import {
  clearPortalCookie,
  endPortalSession,
  type PortalSession,
  setPortalCookie,
  setPortalFlash,
} from '../identity/portal-sessions.js'
import { isSecretShape } from '../identity/secrets.js'
import { csrfTokens } from '../plugins/app/csrf.js'
import {
  addUpload,
  openLink,
  type PortalActor,
  removeUpload,
  saveAnswers,
  submitRequest,
  uploadsOf,
} from './filling.js'
import {
  type Answers,
  answersFromForm,
  answerText,
  fieldName,
  fileQuestions,
  KEY_PATTERN,
  LIMITS,
  pagesOf,
  type Question,
  questionsOnPage,
  validateAnswers,
} from './questionnaire.js'
import { questionnaireOfRequest, requestOfSession, requestOfToken } from './requests.js'
import { portalSettings } from './settings.js'

const PORTAL = { access: 'portal' } as const
/** Opening links: a token cannot be guessed, and trying is slowed down all the same. */
const LINK_RATE = { max: 20, timeWindow: '1 minute' }
/** Portal pages, per address: far above what a person filling in a form does. */
const PAGE_RATE = { max: 300, timeWindow: '1 minute' }
const ANSWER_FIELD = `^q-${KEY_PATTERN.slice(1, -1)}$`

function sessionOf(request: FastifyRequest): PortalSession {
  if (!request.portal) throw new Error('portal route without its session: the guard should have refused it')
  return request.portal
}

function actorOf(request: FastifyRequest): PortalActor {
  return { session: sessionOf(request), ip: request.ip }
}

/** Everything every portal page shows: the request, its questionnaire, the company's words, the steps. */
async function portalContext(app: FastifyInstance, request: FastifyRequest) {
  const session = sessionOf(request)
  const portalRequest = await requestOfSession(app.db, session)
  const [settings, names, uploads] = await Promise.all([
    portalSettings(app.db, session.companyId),
    app
      .db('entities as e')
      .join('companies as co', 'co.id', 'e.company_id')
      .where({ 'e.id': portalRequest.entity_id, 'e.company_id': session.companyId })
      .first('e.name as client_name', 'co.name as company_name'),
    uploadsOf(app.db, session.companyId, portalRequest.id),
  ])
  const questionnaire = questionnaireOfRequest(portalRequest)
  const pages = pagesOf(questionnaire)
  const files = fileQuestions(questionnaire)
  const steps = [
    ...pages.map((page, i) => ({
      href: `/portal/pages/${page}`,
      label: `Questions, part ${i + 1} of ${pages.length}`,
    })),
    ...(files.length > 0 ? [{ href: '/portal/documents', label: 'Documents' }] : []),
    { href: '/portal/review', label: 'Check and send' },
  ]
  return {
    portalRequest,
    questionnaire,
    settings,
    companyName: names.company_name as string,
    clientName: names.client_name as string,
    uploads,
    pages,
    steps,
    editable: clientMayEdit(portalRequest.state),
    reasons: portalRequest.update_reasons,
    answerText,
    fieldName,
    countries: COUNTRIES.map((c) => ({ value: c.code, label: c.name })),
    maxUploadMb: Math.round(app.config.maxUploadBytes / 1024 / 1024),
    allowedTypes: ALLOWED_DESCRIPTION,
    maxFiles: LIMITS.files,
  }
}

type Context = Awaited<ReturnType<typeof portalContext>>

/** What a page's form shows: what was typed (after a refusal), or the saved answers. */
function shownAnswers(request: FastifyRequest, context: Context, questions: Question[]): Answers {
  if (request.method === 'POST') return answersFromForm(questions, request.body as Record<string, unknown>)
  return context.portalRequest.answers as Answers
}

/** A link's page when it no longer works: why, and whom to ask. */
async function linkEndedPage(
  app: FastifyInstance,
  reply: FastifyReply,
  state: PortalState | 'unknown',
  companyId?: string,
) {
  const settings = companyId ? await portalSettings(app.db, companyId) : undefined
  const status = state === 'unknown' ? 404 : 410
  return reply.code(status).page('portal/ended', {
    title: state === 'approved' ? 'This request is complete' : 'This link no longer works',
    reason: state,
    contact: settings?.contact,
    layout: 'portal',
  })
}

/**
 * The self-service portal, as the client sees it. A link's token opens a Continue page that changes nothing
 * (mail scanners open links); its POST starts a portal session. Every other page needs that session, which
 * decides the one request it shows: no portal URL names a request, a client or anything of staff.
 */
export default async function portalRoutes(app: FastifyInstance) {
  // Nothing here may leak the token: not to another site (Referrer-Policy), not to a cache.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/p/') || request.url.startsWith('/portal')) {
      reply.header('Referrer-Policy', 'no-referrer')
    }
  })

  app.get<{ Params: { token: string } }>(
    '/p/:token',
    { config: { access: 'public', rateLimit: LINK_RATE } },
    async (request, reply) => {
      const { token } = request.params
      const found = isSecretShape(token) ? await requestOfToken(app.db, token) : undefined
      if (!found) return linkEndedPage(app, reply, 'unknown')
      if (found.state !== 'submitted' && !clientMayEdit(found.state)) {
        return linkEndedPage(app, reply, found.state, found.company_id)
      }
      return reply.page('portal/continue', {
        title: `${found.company_name}: secure portal`,
        companyName: found.company_name,
        action: `/p/${token}`,
        needsCsrf: true,
        layout: 'portal',
      })
    },
  )

  app.post<{ Params: { token: string } }>(
    '/p/:token',
    { config: { access: 'public', rateLimit: LINK_RATE } },
    async (request, reply) => {
      const { token } = request.params
      if (!isSecretShape(token)) return linkEndedPage(app, reply, 'unknown')
      const opened = await openLink(app.db, token, await csrfTokens.secret(), request.ip)
      if ('refused' in opened) {
        const found = opened.refused === 'unknown' ? undefined : await requestOfToken(app.db, token)
        return linkEndedPage(app, reply, opened.refused, found?.company_id)
      }
      setPortalCookie(reply, opened.secret, app.config.production)
      return reply.redirect('/portal', 303)
    },
  )

  app.get('/portal', { config: { ...PORTAL, rateLimit: PAGE_RATE } }, async (request, reply) => {
    const context = await portalContext(app, request)
    return reply.page('portal/start', { title: `${context.companyName}: your questionnaire`, ...context })
  })

  const pageOf = (context: Context, param: string): { page: number; questions: Question[] } => {
    const page = /^[1-9][0-9]?$/.test(param) ? Number(param) : Number.NaN
    if (!context.pages.includes(page)) throw new NotFoundError('page')
    return { page, questions: questionsOnPage(context.questionnaire, page) }
  }

  const questionsPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const context = await portalContext(app, request)
    const { page, questions } = pageOf(context, (request.params as { page: string }).page)
    const index = context.pages.indexOf(page)
    return reply.page('portal/page', {
      title: `Questions, part ${index + 1} of ${context.pages.length}`,
      ...context,
      page,
      questions,
      answers: shownAnswers(request, context, questions),
      errors,
      previous: index > 0 ? `/portal/pages/${context.pages[index - 1]}` : '/portal',
    })
  }

  app.get<{ Params: { page: string } }>(
    '/portal/pages/:page',
    { config: { ...PORTAL, rateLimit: PAGE_RATE } },
    (request, reply) => questionsPage(request, reply),
  )

  app.post<{ Params: { page: string }; Body: Record<string, unknown> }>(
    '/portal/pages/:page',
    {
      config: { ...PORTAL, rateLimit: PAGE_RATE, form: questionsPage },
      schema: { body: formBodyWithRows({ action: one(10) }, { [ANSWER_FIELD]: oneOrMany(LIMITS.longText) }) },
    },
    async (request, reply) => {
      const context = await portalContext(app, request)
      const { page, questions } = pageOf(context, request.params.page)
      const complete = request.body.action !== 'save'
      // Several values where a question takes one (not from our form): refused, so no answer is lost to it.
      const errors = new FormErrors()
      for (const q of questions) {
        if (q.kind !== 'multiple_choice' && Array.isArray(request.body[fieldName(q)]))
          errors.add(fieldName(q), `Give one answer to “${q.label}”`)
      }
      RuleError.throwIf(errors)
      await saveAnswers(app.db, actorOf(request), questions, answersFromForm(questions, request.body), complete)
      if (!complete) {
        await setPortalFlash(app.db, sessionOf(request), {
          kind: 'success',
          text: 'Your answers are saved. You can close this page and come back with the link in your email.',
        })
        return reply.redirect(`/portal/pages/${page}`, 303)
      }
      const next = context.steps[context.steps.findIndex((s) => s.href === `/portal/pages/${page}`) + 1]
      return reply.redirect(next?.href ?? '/portal/review', 303)
    },
  )

  const documentsPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    const context = await portalContext(app, request)
    return reply.page('portal/documents', {
      title: 'Documents',
      ...context,
      files: fileQuestions(context.questionnaire),
      errors,
    })
  }

  app.get('/portal/documents', { config: { ...PORTAL, rateLimit: PAGE_RATE } }, (request, reply) =>
    documentsPage(request, reply),
  )

  app.post<{ Params: { key: string } }>(
    '/portal/documents/:key',
    { config: { ...PORTAL, rateLimit: PAGE_RATE, multipart: true, form: documentsPage } },
    async (request, reply) => {
      const { key } = request.params
      const upload = await receiveUpload(request, app.storage, app.config.maxUploadBytes).catch((error) => {
        // The upload form of each question is its own: the refusal goes beside that question's field.
        if (error instanceof RuleError) throw new RuleError(`q-${key}`, error.message)
        throw error
      })
      await addUpload(app.db, actorOf(request), key, upload)
      await setPortalFlash(app.db, sessionOf(request), { kind: 'success', text: `${upload.name} was uploaded.` })
      return reply.redirect(`/portal/documents#q-${key}`, 303)
    },
  )

  app.post<{ Params: { upload: string } }>(
    '/portal/uploads/:upload/remove',
    { config: { ...PORTAL, rateLimit: PAGE_RATE, form: documentsPage }, schema: { body: formBody() } },
    async (request, reply) => {
      const { upload } = request.params
      if (!isUuid(upload)) throw new NotFoundError('upload')
      await removeUpload(app.db, app.storage, actorOf(request), upload)
      await setPortalFlash(app.db, sessionOf(request), { kind: 'success', text: 'The file was removed.' })
      return reply.redirect('/portal/documents', 303)
    },
  )

  const reviewPage = async (request: FastifyRequest, reply: FastifyReply, errors?: FormErrors) => {
    const context = await portalContext(app, request)
    const problems = context.editable
      ? validateAnswers(context.questionnaire, context.portalRequest.answers as Answers, { complete: true })
      : {}
    const where = (key: string) => {
      const q = context.questionnaire.questions.find((x) => x.key === key)
      return q?.kind === 'file' ? `/portal/documents#q-${key}` : `/portal/pages/${q?.page}#q-${key}`
    }
    return reply.page('portal/review', {
      title: context.editable
        ? 'Check your answers and send them'
        : context.portalRequest.state === 'expired'
          ? 'Your answers'
          : 'What you sent',
      ...context,
      problems: Object.entries(problems).map(([field, message]) => ({ href: where(field.slice(2)), message })),
      errors: errors ?? new FormErrors(),
    })
  }

  app.get('/portal/review', { config: { ...PORTAL, rateLimit: PAGE_RATE } }, (request, reply) =>
    reviewPage(request, reply),
  )

  app.post(
    '/portal/submit',
    { config: { ...PORTAL, rateLimit: PAGE_RATE, form: reviewPage }, schema: { body: formBody() } },
    async (request, reply) => {
      await submitRequest(app.db, actorOf(request), app.config.publicUrl)
      await setPortalFlash(app.db, sessionOf(request), {
        kind: 'success',
        text: 'Thank you: your answers were sent. You will hear from us if anything needs updating.',
      })
      return reply.redirect('/portal/review', 303)
    },
  )

  app.post('/portal/sign-out', { config: PORTAL, schema: { body: formBody() } }, async (request, reply) => {
    const session = sessionOf(request)
    const settings = await portalSettings(app.db, session.companyId)
    await endPortalSession(app.db, session)
    clearPortalCookie(reply, app.config.production)
    return reply.page('portal/ended', {
      title: 'You have left the portal',
      reason: 'signed_out',
      contact: settings.contact,
      layout: 'portal',
    })
  })
}
