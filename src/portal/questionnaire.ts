/**
 * The client self-service questionnaire (one per client kind): a list of questions that staff edit through
 * forms, stored as a JSON Schema (draft 2020-12) that the client portal validates answers against, page by
 * page. This module converts between the two, checks a question being edited, reads answers out of a posted
 * form and validates them with Ajv; the messages a client sees are written into the schema itself
 * (ajv-errors `errorMessage`), so the stored schema is the one source of what is asked and what is refused.
 *
 * Pure: no database, no HTTP.
 */
import { isDeepStrictEqual } from 'node:util'
import { Ajv2020, type KeywordDefinition, type ValidateFunction } from 'ajv/dist/2020.js'
import ajvErrorsModule from 'ajv-errors'
import ajvFormatsModule from 'ajv-formats'
import anyAscii from 'any-ascii'
import { COUNTRIES, countryName, type EntityKind } from '../entities/reference.js'

// ajv-errors and ajv-formats are CommonJS modules whose function is also their `default` property.
const ajvErrors = ajvErrorsModule.default
const addFormats = ajvFormatsModule.default

export const QUESTION_KINDS = [
  { value: 'text', label: 'Short text' },
  { value: 'long_text', label: 'Long text' },
  { value: 'date', label: 'Date' },
  { value: 'yes_no', label: 'Yes or no' },
  { value: 'single_choice', label: 'One choice from a list' },
  { value: 'multiple_choice', label: 'Several choices from a list' },
  { value: 'country', label: 'Country' },
  { value: 'file', label: 'File upload' },
] as const
export type QuestionKind = (typeof QUESTION_KINDS)[number]['value']

export function isQuestionKind(value: unknown): value is QuestionKind {
  return QUESTION_KINDS.some((k) => k.value === value)
}
export function questionKindLabel(kind: string): string {
  return QUESTION_KINDS.find((k) => k.value === kind)?.label ?? kind
}

const CHOICE_KINDS: readonly QuestionKind[] = ['single_choice', 'multiple_choice']

export type ClientField =
  | 'name'
  | 'date_of_birth'
  | 'nationality'
  | 'country_of_residence'
  | 'registration_number'
  | 'country_of_incorporation'
  | 'legal_form'

/** Client fields a question may fill in, per client kind, with the question kinds that fit each. */
export const CLIENT_FIELDS: Record<
  EntityKind,
  readonly { value: ClientField; label: string; kinds: readonly QuestionKind[] }[]
> = {
  individual: [
    { value: 'name', label: 'Full name', kinds: ['text'] },
    { value: 'date_of_birth', label: 'Date of birth', kinds: ['date'] },
    { value: 'nationality', label: 'Nationality', kinds: ['country'] },
    { value: 'country_of_residence', label: 'Country of residence', kinds: ['country'] },
  ],
  organisation: [
    { value: 'name', label: 'Registered name', kinds: ['text'] },
    { value: 'registration_number', label: 'Registration number', kinds: ['text'] },
    { value: 'country_of_incorporation', label: 'Country of incorporation', kinds: ['country'] },
    { value: 'legal_form', label: 'Legal form', kinds: ['text'] },
  ],
}
const ALL_CLIENT_FIELDS = [...new Set(Object.values(CLIENT_FIELDS).flatMap((fields) => fields.map((f) => f.value)))]

export interface Question {
  key: string
  kind: QuestionKind
  label: string
  help: string
  required: boolean
  options: string[]
  page: number
  field: ClientField | null
}
/** The questions in the order they are asked (array order). */
export interface Questionnaire {
  kind: EntityKind
  questions: Question[]
}
/** A text, date, choice or country code; yes/no; several choices or (file questions) upload ids. */
export type Answer = string | boolean | string[]
export type Answers = Record<string, Answer>

export const LIMITS = {
  questions: 60,
  pages: 20,
  label: 200,
  help: 1000,
  options: 50,
  option: 100,
  text: 500,
  longText: 5000,
  files: 5,
} as const

/** Question keys: what newKey makes, and what a stored schema may hold (they name form fields `q-<key>`). */
export const KEY_PATTERN = '^[a-z][a-z0-9_]{0,39}$'
const KEY_RE = new RegExp(KEY_PATTERN)
const KEY_MAX = 40

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'

// ---------------------------------------------------------------------------------------------------------
// The JSON Schema

export type ErrorMessages = string | Record<string, string>

export interface PropertySchema {
  title: string
  description?: string
  'x-kyc-kind': QuestionKind
  'x-kyc-page': number
  'x-kyc-field'?: ClientField
  type: 'string' | 'boolean' | 'array'
  maxLength?: number
  format?: 'date'
  enum?: string[]
  items?: { type: 'string'; enum: string[] } | { type: 'string'; format: 'uuid' }
  uniqueItems?: true
  minItems?: number
  maxItems?: number
  errorMessage: ErrorMessages
}

export interface JsonSchemaObject {
  $schema: typeof SCHEMA_DIALECT
  type: 'object'
  additionalProperties: false
  properties: Record<string, PropertySchema>
  required: string[]
  'x-kyc-client-kind': EntityKind
  'x-kyc-order': string[]
  errorMessage: { required: Record<string, string> }
}

/**
 * ajv-errors reads `${…}` in a message as a JSON pointer to interpolate; a label is the client's text, so a
 * `${` in it is broken up with an invisible word joiner.
 */
function quoted(label: string): string {
  return `“${label.replace(/\$\{/g, '$\u2060{')}”`
}

function requiredMessage(question: Question): string {
  return question.kind === 'file' ? `Upload a file for ${quoted(question.label)}` : `Answer ${quoted(question.label)}`
}

function tooLong(question: Question, max: number): string {
  return `${quoted(question.label)} must be at most ${max} characters`
}

function propertySchema(question: Question): PropertySchema {
  const l = quoted(question.label)
  const meta = {
    title: question.label,
    ...(question.help === '' ? {} : { description: question.help }),
    'x-kyc-kind': question.kind,
    'x-kyc-page': question.page,
    ...(question.field === null ? {} : { 'x-kyc-field': question.field }),
  }
  switch (question.kind) {
    case 'text':
    case 'long_text': {
      const max = question.kind === 'text' ? LIMITS.text : LIMITS.longText
      return {
        ...meta,
        type: 'string',
        maxLength: max,
        errorMessage: { maxLength: tooLong(question, max), _: `Answer ${l} with text` },
      }
    }
    case 'date':
      return { ...meta, type: 'string', format: 'date', errorMessage: `${l} must be a real date, like 2024-03-31` }
    case 'yes_no':
      return { ...meta, type: 'boolean', errorMessage: `Answer yes or no for ${l}` }
    case 'single_choice':
      return {
        ...meta,
        type: 'string',
        enum: [...question.options],
        errorMessage: `Choose one of the options for ${l}`,
      }
    case 'multiple_choice':
      return {
        ...meta,
        type: 'array',
        items: { type: 'string', enum: [...question.options] },
        uniqueItems: true,
        minItems: question.required ? 1 : 0,
        errorMessage: {
          ...(question.required ? { minItems: `Answer ${l}` } : {}),
          _: `Choose from the options for ${l}`,
        },
      }
    case 'country':
      return {
        ...meta,
        type: 'string',
        enum: COUNTRIES.map((c) => c.code),
        errorMessage: `Choose a country from the list for ${l}`,
      }
    case 'file':
      return {
        ...meta,
        type: 'array',
        items: { type: 'string', format: 'uuid' },
        maxItems: LIMITS.files,
        minItems: question.required ? 1 : 0,
        errorMessage: {
          ...(question.required ? { minItems: `Upload a file for ${l}` } : {}),
          maxItems: `Upload at most ${LIMITS.files} files for ${l}`,
          _: `The files uploaded for ${l} were not recognised; upload them again`,
        },
      }
  }
}

/** The questionnaire as the JSON Schema that is stored and that answers are validated against. */
export function toJsonSchema(q: Questionnaire): JsonSchemaObject {
  const properties: Record<string, PropertySchema> = {}
  const requiredMessages: Record<string, string> = {}
  for (const question of q.questions) {
    properties[question.key] = propertySchema(question)
    if (question.required) requiredMessages[question.key] = requiredMessage(question)
  }
  return {
    $schema: SCHEMA_DIALECT,
    type: 'object',
    additionalProperties: false,
    properties,
    required: q.questions.filter((question) => question.required).map((question) => question.key),
    'x-kyc-client-kind': q.kind,
    'x-kyc-order': q.questions.map((question) => question.key),
    errorMessage: { required: requiredMessages },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Ajv

/** The x-kyc-* annotations: known to Ajv (so strict mode stays on) and checked for their type. */
const KYC_VOCABULARY: KeywordDefinition[] = [
  { keyword: 'x-kyc-kind', schemaType: 'string', metaSchema: { enum: QUESTION_KINDS.map((k) => k.value) } },
  { keyword: 'x-kyc-page', schemaType: 'number', metaSchema: { type: 'integer', minimum: 1 } },
  { keyword: 'x-kyc-field', schemaType: 'string', metaSchema: { enum: ALL_CLIENT_FIELDS } },
  { keyword: 'x-kyc-client-kind', schemaType: 'string', metaSchema: { enum: ['individual', 'organisation'] } },
  { keyword: 'x-kyc-order', schemaType: 'array', metaSchema: { type: 'array', items: { type: 'string' } } },
]

const ajv = new Ajv2020({ allErrors: true, strict: true })
addFormats(ajv)
ajvErrors(ajv)
ajv.addVocabulary(KYC_VOCABULARY)

/** What fromJsonSchema requires before it reads a stored schema (the exact comparison comes after). */
const STORED_SCHEMA_SHAPE = {
  type: 'object',
  required: ['properties', 'required', 'x-kyc-client-kind', 'x-kyc-order'],
  properties: {
    'x-kyc-client-kind': { enum: ['individual', 'organisation'] },
    'x-kyc-order': { type: 'array', items: { type: 'string', pattern: KEY_PATTERN }, uniqueItems: true },
    required: { type: 'array', items: { type: 'string' } },
    properties: {
      type: 'object',
      propertyNames: { pattern: KEY_PATTERN },
      additionalProperties: {
        type: 'object',
        required: ['title', 'x-kyc-kind', 'x-kyc-page'],
        properties: {
          title: { type: 'string' },
          description: { type: 'string' },
          'x-kyc-kind': { enum: QUESTION_KINDS.map((k) => k.value) },
          'x-kyc-page': { type: 'integer' },
          'x-kyc-field': { enum: ALL_CLIENT_FIELDS },
          enum: { type: 'array', items: { type: 'string' } },
          items: { type: 'object', properties: { enum: { type: 'array', items: { type: 'string' } } } },
        },
      },
    },
  },
} as const
const storedSchemaShape = ajv.compile(STORED_SCHEMA_SHAPE)

const CACHE_LIMIT = 200
const validators = new Map<string, { validate: ValidateFunction; schema: JsonSchemaObject }>()

/** A compiled validator for the schema, from a bounded cache (least recently used first out). */
function validatorFor(schema: JsonSchemaObject): ValidateFunction {
  const cacheKey = JSON.stringify(schema)
  const cached = validators.get(cacheKey)
  if (cached) {
    validators.delete(cacheKey)
    validators.set(cacheKey, cached)
    return cached.validate
  }
  const validate = ajv.compile(schema)
  validators.set(cacheKey, { validate, schema })
  while (validators.size > CACHE_LIMIT) {
    const [oldestKey, oldest] = validators.entries().next().value as [string, { schema: JsonSchemaObject }]
    validators.delete(oldestKey)
    ajv.removeSchema(oldest.schema) // Ajv keeps its own cache of every compiled schema object
  }
  return validate
}

// ---------------------------------------------------------------------------------------------------------
// Reading a stored schema

/**
 * What a schema says about its questions, without what KYC Desk's code supplies when it writes one: the
 * error messages, the length and count limits, and the list of countries. A schema stored by an earlier
 * version (before a country was added to the list, or a message reworded) still reads; answers are always
 * checked against the schema written now from its questions.
 */
function structureOf(schema: unknown): unknown {
  const strip = (value: unknown, countryProperty = false): unknown => {
    if (Array.isArray(value)) return value.map((v) => strip(v))
    if (value === null || typeof value !== 'object') return value
    const out: Record<string, unknown> = {}
    const record = value as Record<string, unknown>
    const country = record['x-kyc-kind'] === 'country'
    for (const [key, v] of Object.entries(record)) {
      if (['errorMessage', 'maxLength', 'maxItems', 'minItems'].includes(key)) continue
      if (key === 'enum' && (country || countryProperty)) continue
      out[key] = strip(v)
    }
    return out
  }
  return strip(JSON.parse(JSON.stringify(schema)))
}

/**
 * The questionnaire of a stored schema. Throws unless the schema says what toJsonSchema writes for those
 * questions (anything edited by hand is refused rather than half-read); what the code supplies (messages,
 * limits, the country list) may differ, so a schema stored by an earlier version still reads (structureOf).
 */
export function fromJsonSchema(schema: unknown): Questionnaire {
  if (!storedSchemaShape(schema)) {
    throw new Error(
      `Not a questionnaire schema: ${ajv.errorsText(storedSchemaShape.errors, { dataVar: 'schema', separator: '; ' })}`,
    )
  }
  const s = schema as unknown as JsonSchemaObject
  const required = new Set(s.required)
  const questions = s['x-kyc-order'].map((key): Question => {
    const p = Object.hasOwn(s.properties, key) ? s.properties[key] : undefined
    if (!p) throw new Error(`Not a questionnaire schema: question “${key}” is in x-kyc-order but has no property`)
    const kind = p['x-kyc-kind']
    const options =
      kind === 'single_choice' ? p.enum : kind === 'multiple_choice' && p.items && 'enum' in p.items ? p.items.enum : []
    return {
      key,
      kind,
      label: p.title,
      help: p.description ?? '',
      required: required.has(key),
      options: [...(options ?? [])],
      page: p['x-kyc-page'],
      field: p['x-kyc-field'] ?? null,
    }
  })
  const q: Questionnaire = { kind: s['x-kyc-client-kind'], questions }
  if (!isDeepStrictEqual(structureOf(toJsonSchema(q)), structureOf(schema))) {
    throw new Error('Not a questionnaire schema: it differs from what KYC Desk writes for its questions')
  }
  return q
}

// ---------------------------------------------------------------------------------------------------------
// Editing questions

/**
 * What is wrong with a question about to be added (or, with replacingKey, to replace the question of that
 * key): field name of the question editor form → message. Empty when the question can be saved.
 */
export function questionProblems(q: Questionnaire, question: Question, replacingKey?: string): Record<string, string> {
  const problems: Record<string, string> = {}
  const others = q.questions.filter((other) => other.key !== replacingKey)

  if (others.length >= LIMITS.questions) {
    problems.label = `A questionnaire can have at most ${LIMITS.questions} questions`
  } else if (question.label.trim() === '') {
    problems.label = 'Enter the question'
  } else if (question.label.length > LIMITS.label) {
    problems.label = `The question must be at most ${LIMITS.label} characters`
  } else if (!KEY_RE.test(question.key)) {
    problems.label = 'The question has no usable key; change its wording'
  } else if (others.some((other) => other.key === question.key)) {
    problems.label = 'Another question already has this key; change its wording'
  }

  if (question.help.length > LIMITS.help) problems.help = `The help text must be at most ${LIMITS.help} characters`

  if (!isQuestionKind(question.kind)) {
    problems.kind = 'Choose what kind of question this is'
  } else if (CHOICE_KINDS.includes(question.kind)) {
    const options = question.options
    if (options.length < 2) problems.options = 'Give at least 2 options to choose from'
    else if (options.length > LIMITS.options) problems.options = `Give at most ${LIMITS.options} options`
    else if (options.some((o) => o.trim() === '')) problems.options = 'Options cannot be empty'
    else if (options.some((o) => o !== o.trim())) problems.options = 'Options cannot begin or end with a space'
    else if (options.some((o) => o.length > LIMITS.option))
      problems.options = `Each option must be at most ${LIMITS.option} characters`
    else if (new Set(options).size !== options.length) problems.options = 'Each option must be different'
  } else if (question.options.length > 0) {
    problems.options = 'Only questions with a choice from a list have options'
  }

  if (!Number.isInteger(question.page) || question.page < 1 || question.page > LIMITS.pages) {
    problems.page = `The page must be a whole number from 1 to ${LIMITS.pages}`
  }

  if (question.field !== null) {
    const field = CLIENT_FIELDS[q.kind].find((f) => f.value === question.field)
    const boundBy = others.find((other) => other.field === question.field)
    if (!field) {
      problems.field = 'Choose a client detail from the list'
    } else if (!field.kinds.includes(question.kind)) {
      const kinds = field.kinds.map((k) => questionKindLabel(k).toLowerCase()).join(' or ')
      problems.field = `${field.label} can only be filled in by a question of kind ${kinds}`
    } else if (boundBy) {
      problems.field = `${field.label} is already filled in by “${boundBy.label}”`
    }
  }
  return problems
}

/** A key for a new question: the label as lowercase ASCII words joined by _, unique in the questionnaire. */
export function newKey(q: Questionnaire, label: string): string {
  let base = anyAscii(label)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (base === '') base = 'question'
  else if (!/^[a-z]/.test(base)) base = `q_${base}`
  const taken = new Set(q.questions.map((question) => question.key))
  const fit = (text: string, room: number) => text.slice(0, room).replace(/_+$/, '')
  let key = fit(base, KEY_MAX)
  for (let n = 2; taken.has(key); n++) key = `${fit(base, KEY_MAX - `_${n}`.length)}_${n}`
  return key
}

// ---------------------------------------------------------------------------------------------------------
// Pages

/** The page numbers the client goes through (file questions are asked separately). */
export function pagesOf(q: Questionnaire): number[] {
  const pages = new Set(q.questions.filter((question) => question.kind !== 'file').map((question) => question.page))
  return [...pages].sort((a, b) => a - b)
}

export function questionsOnPage(q: Questionnaire, page: number): Question[] {
  return q.questions.filter((question) => question.kind !== 'file' && question.page === page)
}

export function fileQuestions(q: Questionnaire): Question[] {
  return q.questions.filter((question) => question.kind === 'file')
}

// ---------------------------------------------------------------------------------------------------------
// Answers

/** The form field of a question. */
export function fieldName(question: Pick<Question, 'key'>): string {
  return `q-${question.key}`
}

/** The answers to the given questions in a posted form (fields `q-<key>`); blank answers are left out. */
export function answersFromForm(questions: Question[], body: Record<string, unknown>): Answers {
  const answers: Answers = {}
  for (const question of questions) {
    const name = fieldName(question)
    const value = Object.hasOwn(body, name) ? body[name] : undefined
    switch (question.kind) {
      case 'file':
        break
      case 'yes_no':
        if (value === 'yes') answers[question.key] = true
        else if (value === 'no') answers[question.key] = false
        break
      case 'multiple_choice': {
        const values = (Array.isArray(value) ? value : [value])
          .filter((v): v is string => typeof v === 'string')
          .map((v) => v.trim())
          .filter((v) => v !== '')
        if (values.length > 0) answers[question.key] = values
        break
      }
      default:
        if (typeof value === 'string' && value.trim() !== '') answers[question.key] = value.trim()
    }
  }
  return answers
}

/**
 * Problems with the answers to `opts.questions` (default: all questions), as form field (`q-<key>`) →
 * message; empty when valid. Answers to other questions are not looked at. A draft (complete: false) may
 * leave questions unanswered. Blank text counts as no answer.
 */
export function validateAnswers(
  q: Questionnaire,
  answers: Answers,
  opts: { questions?: Question[]; complete: boolean },
): Record<string, string> {
  const keys = new Set((opts.questions ?? q.questions).map((question) => question.key))
  const asked = q.questions
    .filter((question) => keys.has(question.key))
    .map((question) => (opts.complete ? question : { ...question, required: false }))
  const data: Answers = {}
  for (const question of asked) {
    if (!Object.hasOwn(answers, question.key)) continue
    const answer = answers[question.key]
    if (answer === undefined || (typeof answer === 'string' && answer.trim() === '')) continue
    data[question.key] = answer
  }
  const validate = validatorFor(toJsonSchema({ kind: q.kind, questions: asked }))
  if (validate(data)) return {}
  const problems: Record<string, string> = {}
  for (const error of validate.errors ?? []) {
    const key = errorKey(error)
    if (key !== undefined && !Object.hasOwn(problems, `q-${key}`))
      problems[`q-${key}`] = error.message ?? 'Check this answer'
  }
  return problems
}

/** The question key an (ajv-errors) error is about: the property it is under, or the missing property. */
function errorKey(error: { instancePath: string; params: Record<string, unknown> }): string | undefined {
  const first = error.instancePath.split('/')[1]
  if (first) return first.replace(/~1/g, '/').replace(/~0/g, '~')
  const causes = error.params.errors
  if (Array.isArray(causes)) {
    for (const cause of causes) {
      const missing = (cause as { params?: { missingProperty?: unknown } }).params?.missingProperty
      if (typeof missing === 'string') return missing
    }
  }
  return undefined
}

/** An answer for display. */
export function answerText(question: Question, answer: Answer | undefined): string {
  if (answer === undefined) return ''
  if (typeof answer === 'boolean') return answer ? 'Yes' : 'No'
  if (Array.isArray(answer)) {
    if (question.kind === 'file') return answer.length === 1 ? '1 file' : `${answer.length} files`
    return answer.join(', ')
  }
  if (question.kind === 'country') return countryName(answer)
  return answer
}

// ---------------------------------------------------------------------------------------------------------
// The starter questionnaires

function aQuestion(
  key: string,
  kind: QuestionKind,
  label: string,
  extra: Partial<Omit<Question, 'key' | 'kind' | 'label'>> = {},
): Question {
  return { key, kind, label, help: '', required: true, options: [], page: 1, field: null, ...extra }
}

/** A believable questionnaire to start from, for the given kind of client. */
export function defaultQuestionnaire(kind: EntityKind): Questionnaire {
  if (kind === 'individual') {
    return {
      kind,
      questions: [
        aQuestion('full_name', 'text', 'Full name', {
          field: 'name',
          help: 'As it appears on your passport or ID card',
        }),
        aQuestion('date_of_birth', 'date', 'Date of birth', { field: 'date_of_birth' }),
        aQuestion('nationality', 'country', 'Nationality', { field: 'nationality' }),
        aQuestion('country_of_residence', 'country', 'Country of residence', { field: 'country_of_residence' }),
        aQuestion('occupation', 'text', 'Occupation', { page: 2 }),
        aQuestion('source_of_funds', 'single_choice', 'Main source of the funds you will use', {
          page: 2,
          options: ['Salary', 'Business income', 'Investments', 'Inheritance', 'Other'],
        }),
        aQuestion('politically_exposed', 'yes_no', 'Are you a politically exposed person?', {
          page: 2,
          help:
            'Someone who holds or has held a prominent public function, such as a head of state, minister, member ' +
            'of parliament, senior judge or senior official of a state-owned company, or a close family member or ' +
            'close associate of such a person.',
        }),
        aQuestion('id_document', 'file', 'Identity document', {
          help: 'A clear copy of your passport or national ID card',
        }),
        aQuestion('proof_of_address', 'file', 'Proof of address', {
          help: 'A utility bill or bank statement from the last three months',
        }),
      ],
    }
  }
  return {
    kind,
    questions: [
      aQuestion('registered_name', 'text', 'Registered name', { field: 'name' }),
      aQuestion('registration_number', 'text', 'Registration number', { field: 'registration_number' }),
      aQuestion('country_of_incorporation', 'country', 'Country of incorporation', {
        field: 'country_of_incorporation',
      }),
      aQuestion('legal_form', 'text', 'Legal form', {
        field: 'legal_form',
        help: 'For example: private limited company',
      }),
      aQuestion('nature_of_business', 'long_text', 'Nature of business', { page: 2 }),
      aQuestion('beneficial_owners', 'long_text', 'Ultimate beneficial owners', {
        page: 2,
        help:
          'Everyone who ultimately owns or controls more than 25% of the shares or voting rights, directly or ' +
          'through other companies: full name, date of birth, nationality and percentage held.',
      }),
      aQuestion('certificate_of_incorporation', 'file', 'Certificate of incorporation'),
      aQuestion('register_of_shareholders', 'file', 'Register of shareholders', { required: false }),
    ],
  }
}
