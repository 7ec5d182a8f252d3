/**
 * The self-service questionnaire: question list ⇄ JSON Schema (exact round trip, tampering refused), the
 * question editor's checks, keys, pages, reading a posted form and validating answers with the messages
 * written into the schema.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import t from 'tap'
import { countryName } from '../../src/entities/reference.js'
import {
  answersFromForm,
  answerText,
  CLIENT_FIELDS,
  defaultQuestionnaire,
  fileQuestions,
  fromJsonSchema,
  LIMITS,
  newKey,
  pagesOf,
  type Question,
  type Questionnaire,
  questionProblems,
  questionsOnPage,
  toJsonSchema,
  validateAnswers,
} from '../../src/portal/questionnaire.js'

const UPLOAD_ID = '0b6f4a52-5a3e-4c1b-9d8e-3f2a1c0d9e7b'

function aQuestion(fields: Partial<Question> & Pick<Question, 'key' | 'kind' | 'label'>): Question {
  return { help: '', required: false, options: [], page: 1, field: null, ...fields }
}

/** The individual starter, edited: a question added, one removed, one changed, the order shuffled. */
function anEditedQuestionnaire(): Questionnaire {
  const q = defaultQuestionnaire('individual')
  const questions = q.questions.filter((question) => question.key !== 'occupation')
  questions.splice(
    1,
    0,
    aQuestion({
      key: 'languages',
      kind: 'multiple_choice',
      label: 'Languages you speak',
      help: 'Tick all that apply',
      options: ['English', 'French', 'Deutsch'],
      page: 3,
      required: true,
    }),
    aQuestion({ key: 'notes', kind: 'long_text', label: 'Anything else?', page: 3 }),
    aQuestion({ key: 'extra_document', kind: 'file', label: 'Another document' }),
  )
  const dob = questions.find((question) => question.key === 'date_of_birth')
  if (dob) Object.assign(dob, { required: false, help: 'Day, month and year', page: 2 })
  return { kind: 'individual', questions }
}

t.test('defaults: believable, two pages each, every question passes the editor checks', async (t) => {
  for (const kind of ['individual', 'organisation'] as const) {
    const q = defaultQuestionnaire(kind)
    t.same(pagesOf(q), [1, 2], `${kind}: two pages`)
    t.ok(fileQuestions(q).length >= 2, `${kind}: asks for documents`)
    t.equal(new Set(q.questions.map((question) => question.key)).size, q.questions.length, `${kind}: keys unique`)
    for (const question of q.questions) {
      t.same(questionProblems(q, question, question.key), {}, `${kind}: ${question.key} passes`)
    }
    t.same(
      q.questions.filter((question) => question.field !== null).map((question) => question.field),
      CLIENT_FIELDS[kind].map((f) => f.value),
      `${kind}: every client field is filled in`,
    )
  }
  const individual = defaultQuestionnaire('individual')
  t.same(individual.questions.find((question) => question.key === 'source_of_funds')?.options, [
    'Salary',
    'Business income',
    'Investments',
    'Inheritance',
    'Other',
  ])
  const organisation = defaultQuestionnaire('organisation')
  t.equal(organisation.questions.find((question) => question.key === 'register_of_shareholders')?.required, false)
})

t.test('round trip: fromJsonSchema(toJsonSchema(q)) is q, also through JSON', async (t) => {
  const cases: [string, Questionnaire][] = [
    ['individual starter', defaultQuestionnaire('individual')],
    ['organisation starter', defaultQuestionnaire('organisation')],
    ['edited', anEditedQuestionnaire()],
    ['empty', { kind: 'organisation', questions: [] }],
  ]
  for (const [name, q] of cases) {
    const schema = toJsonSchema(q)
    t.strictSame(fromJsonSchema(schema), q, `${name}: round trip`)
    t.strictSame(fromJsonSchema(JSON.parse(JSON.stringify(schema))), q, `${name}: round trip through JSON`)
    // Stored as jsonb, the keys come back in another order: still read.
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(schema))).reverse())
    t.strictSame(fromJsonSchema(reordered), q, `${name}: key order does not matter`)
  }
})

t.test('the schema: the documented shape, and a valid draft 2020-12 schema for a fresh Ajv', async (t) => {
  const q = anEditedQuestionnaire()
  const schema = toJsonSchema(q)
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
  t.equal(schema.additionalProperties, false)
  t.equal(schema['x-kyc-client-kind'], 'individual')
  t.same(
    schema['x-kyc-order'],
    q.questions.map((question) => question.key),
  )
  t.same(
    schema.required,
    q.questions.filter((question) => question.required).map((question) => question.key),
  )
  t.match(schema.properties.full_name, {
    title: 'Full name',
    type: 'string',
    maxLength: 500,
    'x-kyc-kind': 'text',
    'x-kyc-page': 1,
    'x-kyc-field': 'name',
  })
  t.notOk('description' in (schema.properties.notes ?? {}), 'no description when there is no help')
  t.notOk('x-kyc-field' in (schema.properties.notes ?? {}), 'no x-kyc-field when not bound')
  t.match(schema.properties.notes, { type: 'string', maxLength: 5000 })
  t.match(schema.properties.date_of_birth, { type: 'string', format: 'date', description: 'Day, month and year' })
  t.match(schema.properties.politically_exposed, { type: 'boolean' })
  t.match(schema.properties.source_of_funds, { type: 'string', enum: ['Salary', 'Business income'] })
  t.match(schema.properties.languages, {
    type: 'array',
    items: { type: 'string', enum: ['English', 'French', 'Deutsch'] },
    uniqueItems: true,
    minItems: 1,
  })
  t.ok((schema.properties.nationality?.enum ?? []).includes('GB'), 'countries are ISO codes')
  t.match(schema.properties.id_document, { type: 'array', items: { format: 'uuid' }, maxItems: 5, minItems: 1 })
  t.match(schema.properties.extra_document, { minItems: 0 })
  t.same(schema.errorMessage.required.id_document, 'Upload a file for “Identity document”')

  const fresh = new Ajv2020()
  for (const kind of ['individual', 'organisation'] as const) {
    t.equal(fresh.validateSchema(toJsonSchema(defaultQuestionnaire(kind))), true, `${kind}: valid schema`)
  }
  t.equal(fresh.validateSchema(schema), true, 'edited: valid schema')
})

t.test('fromJsonSchema refuses anything it did not write', async (t) => {
  const fresh = () => JSON.parse(JSON.stringify(toJsonSchema(defaultQuestionnaire('individual'))))
  const tampered: [string, (s: ReturnType<typeof fresh>) => unknown][] = [
    ['not an object', () => 'a string'],
    ['null', () => null],
    [
      'unknown kind',
      (s) => {
        s.properties.occupation['x-kyc-kind'] = 'essay'
        return s
      },
    ],
    [
      'missing x-kyc-kind',
      (s) => {
        delete s.properties.occupation['x-kyc-kind']
        return s
      },
    ],
    [
      'an extra property not in the order',
      (s) => {
        s.properties.shoe_size = { ...s.properties.occupation, title: 'Shoe size' }
        return s
      },
    ],
    [
      'an extra keyword on a question',
      (s) => {
        s.properties.occupation.pattern = '^a'
        return s
      },
    ],
    [
      'an extra keyword at the top',
      (s) => {
        s.$id = 'https://example.test/q'
        return s
      },
    ],
    [
      'a key in the order without a property',
      (s) => {
        s['x-kyc-order'].push('ghost')
        return s
      },
    ],
    [
      'additional properties allowed',
      (s) => {
        s.additionalProperties = true
        return s
      },
    ],
    [
      'an unknown client kind',
      (s) => {
        s['x-kyc-client-kind'] = 'trust'
        return s
      },
    ],
    [
      'a bad key',
      (s) => {
        s.properties['Bad Key'] = s.properties.occupation
        delete s.properties.occupation
        s['x-kyc-order'] = s['x-kyc-order'].map((k: string) => (k === 'occupation' ? 'Bad Key' : k))
        s.required = s.required.map((k: string) => (k === 'occupation' ? 'Bad Key' : k))
        return s
      },
    ],
  ]
  for (const [name, tamper] of tampered) {
    t.throws(() => fromJsonSchema(tamper(fresh())), Error, name)
  }
  // What the code supplies may differ in a schema stored by an earlier version: it still reads, the same.
  const older = fresh()
  older.properties.occupation.maxLength = 100000
  older.errorMessage.required.occupation = 'Tell us or else'
  older.properties.nationality.enum = ['DE', 'FR']
  t.same(fromJsonSchema(older), fromJsonSchema(fresh()), 'other limits, messages and countries: the same questions')
  t.throws(
    () =>
      fromJsonSchema(
        (() => {
          const s = fresh()
          delete s.properties.occupation['x-kyc-kind']
          return s
        })(),
      ),
    /x-kyc-kind/,
    'says what is missing',
  )
})

t.test('answersFromForm: fields q-<key>, trimmed, blanks left out, yes/no and several choices coerced', async (t) => {
  const q = anEditedQuestionnaire()
  const answers = answersFromForm(q.questions, {
    'q-full_name': '  Ada Lovelace ',
    'q-date_of_birth': '1815-12-10',
    'q-nationality': '',
    'q-country_of_residence': '   ',
    'q-languages': 'English',
    'q-notes': '\n',
    'q-source_of_funds': 'Salary',
    'q-politically_exposed': 'no',
    'q-id_document': UPLOAD_ID,
    full_name: 'not prefixed',
    'q-unknown': 'ignored',
  })
  t.strictSame(answers, {
    full_name: 'Ada Lovelace',
    date_of_birth: '1815-12-10',
    languages: ['English'],
    source_of_funds: 'Salary',
    politically_exposed: false,
  })
  t.strictSame(
    answersFromForm(q.questions, {
      'q-politically_exposed': 'yes',
      'q-languages': ['English', ' French ', ''],
    }),
    { languages: ['English', 'French'], politically_exposed: true },
  )
  t.strictSame(
    answersFromForm(q.questions, { 'q-politically_exposed': 'maybe', 'q-languages': [''], 'q-full_name': ['x'] }),
    {},
    'anything else is left out',
  )
})

t.test('validateAnswers: complete answers pass; a draft may leave questions out', async (t) => {
  const q = defaultQuestionnaire('individual')
  const complete = {
    full_name: 'Ada Lovelace',
    date_of_birth: '1815-12-10',
    nationality: 'GB',
    country_of_residence: 'GB',
    occupation: 'Mathematician',
    source_of_funds: 'Inheritance',
    politically_exposed: false,
    id_document: [UPLOAD_ID],
    proof_of_address: [UPLOAD_ID, '1b6f4a52-5a3e-4c1b-9d8e-3f2a1c0d9e7b'],
  }
  t.same(validateAnswers(q, complete, { complete: true }), {})
  t.same(validateAnswers(q, {}, { complete: false }), {}, 'an empty draft is fine')
  t.same(validateAnswers(q, { full_name: 'Ada' }, { complete: false }), {})

  const missing = validateAnswers(q, { full_name: 'Ada', politically_exposed: true }, { complete: true })
  t.same(Object.keys(missing).sort(), [
    'q-country_of_residence',
    'q-date_of_birth',
    'q-id_document',
    'q-nationality',
    'q-occupation',
    'q-proof_of_address',
    'q-source_of_funds',
  ])
  t.equal(missing['q-occupation'], 'Answer “Occupation”')
  t.equal(missing['q-id_document'], 'Upload a file for “Identity document”')
  t.same(
    validateAnswers(q, { ...complete, occupation: '   ' }, { complete: true }),
    { 'q-occupation': 'Answer “Occupation”' },
    'blank text is no answer',
  )
  t.same(
    validateAnswers(q, { ...complete, id_document: [] }, { complete: true }),
    { 'q-id_document': 'Upload a file for “Identity document”' },
    'an empty list of files is no file',
  )
  t.same(validateAnswers(q, { ...complete, id_document: [] }, { complete: false }), {}, 'unless a draft')
  t.same(
    validateAnswers(
      q,
      { ...complete, id_document: ['a', 'b', 'c', 'd', 'e', 'f'].map(() => UPLOAD_ID) },
      { complete: true },
    ),
    { 'q-id_document': 'Upload at most 5 files for “Identity document”' },
  )
  t.match(validateAnswers(q, { ...complete, id_document: ['../../etc/passwd'] }, { complete: true }), {
    'q-id_document': /Identity document/,
  })
  t.same(validateAnswers(q, { ...complete, shoe_size: '42' }, { complete: true }), {}, 'other answers not looked at')
})

t.test('validateAnswers: wrong answers refused with messages naming the question', async (t) => {
  const q = anEditedQuestionnaire()
  const check = (answers: Record<string, string | boolean | string[]>) =>
    validateAnswers(q, answers, { complete: false })
  t.same(check({ date_of_birth: '2024-02-30' }), {
    'q-date_of_birth': '“Date of birth” must be a real date, like 2024-03-31',
  })
  t.same(check({ date_of_birth: '31/03/2024' }), {
    'q-date_of_birth': '“Date of birth” must be a real date, like 2024-03-31',
  })
  t.same(check({ date_of_birth: '2024-02-29' }), {}, 'a leap day is a real date')
  t.same(check({ source_of_funds: 'Lottery' }), {
    'q-source_of_funds': `Choose one of the options for “${q.questions.find((x) => x.key === 'source_of_funds')?.label}”`,
  })
  t.same(check({ languages: ['English', 'Klingon'] }), {
    'q-languages': 'Choose from the options for “Languages you speak”',
  })
  t.same(check({ languages: ['English', 'English'] }), {
    'q-languages': 'Choose from the options for “Languages you speak”',
  })
  t.same(check({ nationality: 'XX' }), { 'q-nationality': 'Choose a country from the list for “Nationality”' })
  t.same(check({ nationality: 'gb' }), { 'q-nationality': 'Choose a country from the list for “Nationality”' })
  t.same(check({ full_name: 'x'.repeat(LIMITS.text) }), {}, 'exactly at the limit')
  t.same(check({ full_name: 'x'.repeat(LIMITS.text + 1) }), {
    'q-full_name': '“Full name” must be at most 500 characters',
  })
  t.same(check({ notes: 'x'.repeat(LIMITS.longText + 1) }), {
    'q-notes': '“Anything else?” must be at most 5000 characters',
  })
  t.same(check({ politically_exposed: 'yes' }), {
    'q-politically_exposed': 'Answer yes or no for “Are you a politically exposed person?”',
  })
  t.same(check({ full_name: true }), { 'q-full_name': 'Answer “Full name” with text' })
  t.same(check({ languages: [] }), {}, 'no languages in a draft')
  t.same(validateAnswers(q, { languages: [] }, { complete: true, questions: questionsOnPage(q, 3) }), {
    'q-languages': 'Answer “Languages you speak”',
  })

  const several = check({ date_of_birth: '2024-13-01', nationality: 'ZZ', full_name: 'x'.repeat(600) })
  t.same(Object.keys(several).sort(), ['q-date_of_birth', 'q-full_name', 'q-nationality'], 'all problems at once')
})

t.test('validateAnswers: only the questions asked (a page) are validated', async (t) => {
  const q = anEditedQuestionnaire()
  t.same(pagesOf(q), [1, 2, 3])
  t.same(
    questionsOnPage(q, 3).map((question) => question.key),
    ['languages', 'notes'],
  )
  t.same(
    fileQuestions(q).map((question) => question.key),
    ['extra_document', 'id_document', 'proof_of_address'],
  )
  const answers = { date_of_birth: 'not a date', languages: ['French'] }
  t.same(validateAnswers(q, answers, { complete: true, questions: questionsOnPage(q, 3) }), {})
  t.same(Object.keys(validateAnswers(q, answers, { complete: true, questions: questionsOnPage(q, 1) })).sort(), [
    'q-country_of_residence',
    'q-full_name',
    'q-nationality',
  ])
  t.same(validateAnswers(q, answers, { complete: true, questions: questionsOnPage(q, 2) }), {
    'q-date_of_birth': '“Date of birth” must be a real date, like 2024-03-31',
    'q-politically_exposed': 'Answer “Are you a politically exposed person?”',
    'q-source_of_funds': `Answer “${q.questions.find((x) => x.key === 'source_of_funds')?.label}”`,
  })
  t.same(validateAnswers(q, answers, { complete: true, questions: fileQuestions(q) }), {
    'q-id_document': 'Upload a file for “Identity document”',
    'q-proof_of_address': 'Upload a file for “Proof of address”',
  })
  // The same page again comes from the cache and gives the same answer.
  t.same(validateAnswers(q, answers, { complete: true, questions: questionsOnPage(q, 3) }), {})
})

t.test('validateAnswers: a label is the client’s text, never an ajv-errors template', async (t) => {
  const LABEL = 'Cost in \u0024{/cost} or \u0024{0}' // ${…} is an ajv-errors template
  const q: Questionnaire = {
    kind: 'organisation',
    questions: [aQuestion({ key: 'cost', kind: 'text', label: LABEL, required: true })],
  }
  t.equal(fromJsonSchema(toJsonSchema(q)).questions[0]?.label, LABEL)
  const problems = validateAnswers(q, {}, { complete: true })
  t.match(problems['q-cost'], /^Answer “Cost in \$\u2060\{\/cost\} or \$\u2060\{0\}”$/)
})

t.test('questionProblems: the question editor’s checks', async (t) => {
  const q = defaultQuestionnaire('individual')
  const fresh = (fields: Partial<Question> = {}) =>
    aQuestion({ key: 'favourite_colour', kind: 'text', label: 'Favourite colour', ...fields })
  t.same(questionProblems(q, fresh()), {})

  t.same(questionProblems(q, fresh({ label: '  ' })), { label: 'Enter the question' })
  t.match(questionProblems(q, fresh({ label: 'x'.repeat(201) })), { label: /at most 200/ })
  t.match(questionProblems(q, fresh({ help: 'x'.repeat(1001) })), { help: /at most 1000/ })
  t.match(questionProblems(q, fresh({ key: 'occupation' })), { label: /already has this key/ })
  t.same(questionProblems(q, fresh({ key: 'occupation' }), 'occupation'), {}, 'replacing itself')

  t.match(questionProblems(q, fresh({ kind: 'single_choice', options: ['Red'] })), { options: /at least 2/ })
  t.match(questionProblems(q, fresh({ kind: 'multiple_choice', options: [] })), { options: /at least 2/ })
  t.match(questionProblems(q, fresh({ kind: 'single_choice', options: ['Red', 'Red'] })), { options: /different/ })
  t.match(questionProblems(q, fresh({ kind: 'single_choice', options: ['Red', ''] })), { options: /empty/ })
  t.match(questionProblems(q, fresh({ kind: 'single_choice', options: ['Red', 'x'.repeat(101)] })), {
    options: /at most 100/,
  })
  const many = Array.from({ length: 51 }, (_, i) => `Option ${i}`)
  t.match(questionProblems(q, fresh({ kind: 'single_choice', options: many })), { options: /at most 50/ })
  t.same(questionProblems(q, fresh({ kind: 'single_choice', options: many.slice(0, 50) })), {})
  t.match(questionProblems(q, fresh({ options: ['Red', 'Blue'] })), { options: /Only questions with a choice/ })

  t.match(questionProblems(q, fresh({ page: 0 })), { page: /1 to 20/ })
  t.match(questionProblems(q, fresh({ page: 21 })), { page: /1 to 20/ })
  t.match(questionProblems(q, fresh({ page: 1.5 })), { page: /1 to 20/ })
  t.match(questionProblems(q, fresh({ kind: 'essay' as Question['kind'] })), { kind: /kind of question/ })

  // Client fields: one question each, of a kind that fits, of the questionnaire's client kind.
  t.match(questionProblems(q, fresh({ field: 'nationality', kind: 'country' })), {
    field: 'Nationality is already filled in by “Nationality”',
  })
  const nationality = q.questions.find((question) => question.field === 'nationality')
  t.ok(nationality)
  if (nationality) t.same(questionProblems(q, { ...nationality, label: 'Citizenship' }, nationality.key), {})
  t.match(questionProblems(q, fresh({ field: 'date_of_birth' })), {
    field: /only be filled in by a question of kind date/,
  })
  t.match(questionProblems(q, fresh({ field: 'legal_form' })), { field: /from the list/ }, 'an organisation field')
  const empty: Questionnaire = { kind: 'individual', questions: [] }
  t.same(questionProblems(empty, fresh({ field: 'name' })), {})
  t.match(questionProblems(empty, fresh({ field: 'name', kind: 'long_text' })), { field: /kind short text/ })

  const full: Questionnaire = {
    kind: 'organisation',
    questions: Array.from({ length: LIMITS.questions }, (_, i) => fresh({ key: `q${i}`, label: `Question ${i}` })),
  }
  t.match(questionProblems(full, fresh()), { label: /at most 60 questions/ })
  t.same(questionProblems(full, fresh({ key: 'q0' }), 'q0'), {}, 'editing one of 60 is fine')
})

t.test('newKey: lowercase ascii, starts with a letter, at most 40 characters, unique', async (t) => {
  const q = defaultQuestionnaire('individual')
  t.equal(newKey(q, 'Größe'), 'grosse')
  t.equal(newKey(q, 'Страна проживания'), 'strana_prozhivaniya')
  t.equal(newKey(q, '  What is your job? '), 'what_is_your_job')
  t.equal(newKey(q, '2nd nationality'), 'q_2nd_nationality')
  t.equal(newKey(q, '???'), 'question')
  t.equal(newKey(q, 'Occupation'), 'occupation_2')
  const long = 'A very long question label that goes on and on and on'
  const first = newKey(q, long)
  t.ok(first.length <= 40)
  t.match(first, /^[a-z][a-z0-9_]*$/)
  const withFirst: Questionnaire = {
    ...q,
    questions: [...q.questions, aQuestion({ key: first, kind: 'text', label: long })],
  }
  const second = newKey(withFirst, long)
  t.ok(second.length <= 40)
  t.match(second, /_2$/)
  const withBoth: Questionnaire = {
    ...withFirst,
    questions: [...withFirst.questions, aQuestion({ key: second, kind: 'text', label: long })],
  }
  t.match(newKey(withBoth, long), /_3$/)
})

t.test('answerText: answers for display', async (t) => {
  const q = anEditedQuestionnaire()
  const question = (key: string) => q.questions.find((x) => x.key === key) as Question
  t.equal(answerText(question('politically_exposed'), true), 'Yes')
  t.equal(answerText(question('politically_exposed'), false), 'No')
  t.equal(answerText(question('nationality'), 'GB'), countryName('GB'))
  t.equal(answerText(question('languages'), ['English', 'French']), 'English, French')
  t.equal(answerText(question('full_name'), 'Ada'), 'Ada')
  t.equal(answerText(question('full_name'), undefined), '')
  t.equal(answerText(question('id_document'), [UPLOAD_ID]), '1 file')
})
