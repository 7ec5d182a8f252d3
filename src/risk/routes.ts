import type { FastifyInstance, FastifyRequest } from 'fastify'
import { clientOf } from '../access/client-context.js'
import { FormErrors, text } from '../forms/form-errors.js'
import { isolate } from '../forms/names.js'
import { type FormRerender, RuleError } from '../forms/rule-error.js'
import { requestActor } from '../http/actor.js'
import { isCalendarDate, NotFoundError, signedInUser } from '../http/params.js'
import { fields, formBody, one, query } from '../http/schemas.js'
import { comparison, countriesOnLists, FORCED_HIGH_WORDS } from './compare.js'
import { COUNTRY_LIST_KEYS, COUNTRY_LIST_NAMES } from './country-lists.js'
import {
  CLASSIFICATIONS,
  type Classification,
  MAX_SCORE,
  MIN_SCORE,
  PILLAR_LABELS,
  PILLARS,
  type Pillar,
  type RuleSetDefinition,
} from './evaluate.js'
import { overrideEnded, sameRecommendation, todayUtc } from './risk-state.js'
import { draftOf, dryRun, publishDraft, saveDraft } from './rule-sets.js'
import {
  assessmentsOf,
  currentRuleSet,
  type OverrideInput,
  recommend,
  resultOf,
  type SavedAssessment,
  saveAssessment,
} from './service.js'

const RATIONALE_MAX = 4000
/** The scores a select offers, 1 to 9, as text. */
const SCORE_CHOICES = Array.from({ length: MAX_SCORE - MIN_SCORE + 1 }, (_, i) => String(MIN_SCORE + i))
const ADMIN = { access: { permission: 'system_administrator' } } as const
const RULES_MAX = 200_000
const DRAFT_FIELDS = ['aggregation', 'medium', 'high', ...PILLARS.flatMap((p) => [`weight_${p}`, `base_${p}`])] as const
const OVERRIDE_FIELDS = ['classification', 'expires_on'] as const
const CARRY_OUT = { permission: 'carry_out_risk_assessments', client: 'params.id' } as const
const OVERRIDE = { permission: 'override_risk_assessments', client: 'params.id' } as const

/** The override form as typed (after a refusal) or as recommended (at first). */
function overrideValues(
  request: FastifyRequest,
  recommended: { pillars: Record<Pillar, number>; classification: string },
) {
  const typed = request.method === 'POST' && request.url.endsWith('/risk/override') ? request.body : undefined
  return {
    pillars: Object.fromEntries(PILLARS.map((p) => [p, typed ? text(typed, p) : String(recommended.pillars[p])])),
    classification: typed ? text(typed, 'classification') : recommended.classification,
    rationale: typed ? text(typed, 'rationale') : '',
    expires_on: typed ? text(typed, 'expires_on') : '',
  }
}

export default async function riskRoutes(app: FastifyInstance) {
  app.addClientSection({
    id: 'risk',
    order: 10,
    template: '/risk/_client-section',
    async load(request, { entity }) {
      const user = signedInUser(request)
      const [{ ruleSet, lists, facts, recommendation }, assessments] = await Promise.all([
        recommend(app.db, entity),
        assessmentsOf(app.db, entity.company_id, entity.id),
      ])
      const recommended = resultOf(recommendation)
      const current = assessments[0]
      return {
        // The rules recommend something else now than when the current assessment was saved.
        outOfDate: current ? !sameRecommendation(current.recommendation, recommendation) : false,
        // An override whose end day has passed: the recommendation applies again.
        overrideEnded: Boolean(current?.overridden && overrideEnded(current.override_expires_on)),
        ruleSetVersion: ruleSet.version,
        listVersions: COUNTRY_LIST_KEYS.map((k) => ({
          name: COUNTRY_LIST_NAMES[k],
          version: lists.versions[k],
          as_at: lists.lists[k].as_at,
        })),
        countriesOnLists: countriesOnLists(facts),
        recommendation,
        current,
        history: assessments,
        pillars: PILLARS.map((p) => ({ key: p, label: PILLAR_LABELS[p] })),
        forcedHighWords: FORCED_HIGH_WORDS,
        scores: SCORE_CHOICES,
        classifications: CLASSIFICATIONS,
        values: user.permissions.has('override_risk_assessments') ? overrideValues(request, recommended) : undefined,
      }
    },
  })

  // Two of the client's saved assessments side by side (the current and the one before, unless chosen).
  app.get<{ Params: { id: string }; Querystring: { a?: string; b?: string } }>(
    '/entities/:id/risk/compare',
    {
      config: { access: { permission: 'read_data', client: 'params.id' } },
      schema: { querystring: query(fields(['a', 'b'], 100)) },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const history = await assessmentsOf(app.db, entity.company_id, entity.id)
      const pick = (id: string | undefined, fallback: SavedAssessment | undefined) => {
        if (id === undefined || id === '') return fallback
        const found = history.find((h) => h.id === id)
        if (!found) throw new NotFoundError('risk assessment')
        return found
      }
      const earlier = pick(request.query.a, history[1])
      const later = pick(request.query.b, history[0])
      const title = `Compare risk assessments: ${isolate(entity.name)}`
      // Fewer than two saved: the page says so.
      if (!earlier || !later) return reply.page('risk/compare-none', { title, entity })
      return reply.page('risk/compare', {
        title,
        entity,
        history,
        earlier,
        later,
        rows: comparison(earlier, later),
      })
    },
  )

  /** The client's page again after a refused form, the override's fields as typed. */
  const again: FormRerender = (request, reply, errors) => reply.clientPage(clientOf(request), errors)

  app.post<{ Params: { id: string } }>(
    '/entities/:id/risk',
    {
      config: { access: CARRY_OUT, once: true, form: again },
      // The override's fields are named here only to be refused: a post that sends a score is told so.
      schema: {
        body: formBody({ ...fields([...PILLARS, ...OVERRIDE_FIELDS], 100), rationale: one(RATIONALE_MAX * 4) }),
      },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const sent = request.body as Record<string, unknown>
      if ([...PILLARS, ...OVERRIDE_FIELDS, 'rationale'].some((field) => sent[field] !== undefined))
        throw new RuleError(
          'risk',
          'Saving the recommendation takes no score or classification: to change one, override it',
        )
      const saved = await saveAssessment(app.db, requestActor(request), entity)
      reply.flash({ kind: 'success', text: `The risk assessment was saved: ${saved.classification} risk.` })
      return reply.redirect(`/entities/${entity.id}#risk`, 303)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/entities/:id/risk/override',
    {
      config: { access: OVERRIDE, once: true, form: again },
      schema: {
        body: formBody({
          ...fields([...PILLARS, 'classification', 'expires_on'], 100),
          rationale: one(RATIONALE_MAX * 4),
        }),
      },
    },
    async (request, reply) => {
      const entity = clientOf(request).entity
      const body = request.body
      const errors = new FormErrors()
      const pillars = {} as Record<Pillar, number>
      for (const p of PILLARS) {
        const n = Number(text(body, p))
        if (!Number.isInteger(n) || n < MIN_SCORE || n > MAX_SCORE)
          errors.add(p, `Choose a score from ${MIN_SCORE} to ${MAX_SCORE} for ${PILLAR_LABELS[p]}`)
        pillars[p] = n
      }
      const classification = text(body, 'classification')
      if (!(CLASSIFICATIONS as readonly string[]).includes(classification))
        errors.add('classification', 'Choose the overall classification')
      const rationale = text(body, 'rationale')
      if (!rationale) errors.add('rationale', 'Enter the rationale for the override')
      else if (rationale.length > RATIONALE_MAX)
        errors.add('rationale', `Enter a rationale of at most ${RATIONALE_MAX.toLocaleString('en-GB')} characters`)
      const expires = text(body, 'expires_on')
      if (expires && (!isCalendarDate(expires) || expires <= todayUtc()))
        errors.add('expires_on', 'Enter a day after today, as year-month-day, like 2027-06-30, or leave it empty')
      RuleError.throwIf(errors)
      const input: OverrideInput = {
        pillars,
        classification: classification as Classification,
        rationale,
        expiresOn: expires || null,
      }
      const saved = await saveAssessment(app.db, requestActor(request), entity, input)
      reply.flash({ kind: 'success', text: `The override was saved: ${saved.classification} risk.` })
      return reply.redirect(`/entities/${entity.id}#risk`, 303)
    },
  )
}

/** The draft form's fields as text, from a rule set (to show) or from a post (as typed). */
function draftValues(source: { definition?: RuleSetDefinition; body?: unknown }) {
  const d = source.definition
  if (d) {
    return {
      aggregation: d.aggregation,
      medium: String(d.thresholds.medium),
      high: String(d.thresholds.high),
      ...Object.fromEntries(
        PILLARS.flatMap((p) => [
          [`weight_${p}`, String(d.weights[p])],
          [`base_${p}`, String(d.base[p])],
        ]),
      ),
      rules: JSON.stringify(d.rules, null, 2),
    } as Record<string, string>
  }
  return Object.fromEntries([...DRAFT_FIELDS, 'rules'].map((f) => [f, text(source.body, f)])) as Record<string, string>
}

/** A rule set from the draft form, or the form's errors, each on its field. */
function definitionFrom(values: Record<string, string>): RuleSetDefinition {
  const errors = new FormErrors()
  const int = (field: string, min: number, max: number, message: string) => {
    const n = Number(values[field])
    if (values[field] === '' || !Number.isInteger(n) || n < min || n > max) errors.add(field, message)
    return n
  }
  let rules: unknown = []
  try {
    rules = JSON.parse(values.rules || '[]')
  } catch (error) {
    errors.add('rules', `Enter the rules as JSON: ${(error as Error).message}`)
  }
  const definition = {
    aggregation: values.aggregation as RuleSetDefinition['aggregation'],
    weights: Object.fromEntries(
      PILLARS.map((p) => [p, int(`weight_${p}`, 0, 100, `Enter a weight from 0 to 100 for ${PILLAR_LABELS[p]}`)]),
    ),
    base: Object.fromEntries(
      PILLARS.map((p) => [p, int(`base_${p}`, MIN_SCORE, MAX_SCORE, `Choose a base score for ${PILLAR_LABELS[p]}`)]),
    ),
    thresholds: {
      medium: int('medium', MIN_SCORE, MAX_SCORE, 'Choose the score from which a client is Medium'),
      high: int('high', MIN_SCORE, MAX_SCORE, 'Choose the score from which a client is High'),
    },
    rules,
  } as RuleSetDefinition
  if (values.aggregation !== 'weighted_average' && values.aggregation !== 'maximum')
    errors.add('aggregation', 'Choose how the overall score is made')
  RuleError.throwIf(errors)
  return definition
}

export async function riskSettingsRoutes(app: FastifyInstance) {
  const settingsPage = async (
    request: FastifyRequest,
    opts: { values?: Record<string, string>; errors?: FormErrors; run?: boolean } = {},
  ) => {
    const user = signedInUser(request)
    const [published, draft] = await Promise.all([
      currentRuleSet(app.db, user.companyId),
      draftOf(app.db, user.companyId),
    ])
    const editing = draft?.definition ?? published.definition
    return {
      title: 'Risk rules',
      published,
      draft,
      values: opts.values ?? draftValues({ definition: editing }),
      errors: opts.errors ?? new FormErrors(),
      run: opts.run && draft ? await dryRun(app.db, user, published.definition, draft.definition) : undefined,
      pillars: PILLARS.map((p) => ({ key: p, label: PILLAR_LABELS[p] })),
      scores: SCORE_CHOICES,
      classifications: CLASSIFICATIONS,
    }
  }
  const draftAgain: FormRerender = async (request, reply, errors) =>
    reply.page('risk/settings', await settingsPage(request, { values: draftValues({ body: request.body }), errors }))

  app.get('/settings/risk', { config: ADMIN }, async (request, reply) =>
    reply.page('risk/settings', await settingsPage(request)),
  )

  app.get('/settings/risk/dry-run', { config: ADMIN }, async (request, reply) =>
    reply.page('risk/settings', await settingsPage(request, { run: true })),
  )

  app.post(
    '/settings/risk/draft',
    {
      config: { ...ADMIN, form: draftAgain },
      schema: { body: formBody({ ...fields([...DRAFT_FIELDS], 20), rules: one(RULES_MAX) }) },
    },
    async (request, reply) => {
      const definition = definitionFrom(draftValues({ body: request.body }))
      await saveDraft(app.db, requestActor(request), definition)
      reply.flash({ kind: 'success', text: 'The draft was saved. Run it on your clients before you publish it.' })
      return reply.redirect('/settings/risk/dry-run#dry-run', 303)
    },
  )

  app.post(
    '/settings/risk/publish',
    { config: { ...ADMIN, form: draftAgain }, schema: { body: formBody() } },
    async (request, reply) => {
      const version = await publishDraft(app.db, requestActor(request))
      reply.flash({
        kind: 'success',
        text: `The draft is published as version ${version}. Saved assessments are unchanged.`,
      })
      return reply.redirect('/settings/risk', 303)
    },
  )
}
