/**
 * The field components of views/components/, each rendered from examples (every state a form uses: a
 * value, a hint, an error) on one page in the real layout, and put through the browser suite's checks:
 * axe-core (WCAG 2.2 AA with target-size), the keyboard, the accessibility tree and the Nu HTML Checker,
 * with JavaScript on and off. A component without an example here fails the test, so a new one gets one.
 * (No example field is named `status`: that id belongs to the layout's status region.)
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'
import { FormErrors } from '../../src/forms/form-errors.js'
import { fmt } from '../../src/plugins/app/render.js'
import { barChart } from '../../src/reports/chart.js'
import { browserSuite } from '../helpers/browser.js'

/** Each component's examples: its parameters, in the object its include() takes. */
const EXAMPLES: Record<string, Record<string, unknown>[]> = {
  'text-field': [
    { field: { name: 'name', label: 'Name', value: 'Ada Lovelace', autocomplete: 'off' } },
    { field: { name: 'amount', label: 'Credits to add', value: '50', inputmode: 'numeric' } },
    {
      field: {
        name: 'email',
        label: 'Email address',
        type: 'email',
        value: 'not-an-email',
        hint: 'We send the invitation here.',
        error: 'Enter an email address like name@example.com',
      },
    },
  ],
  'textarea-field': [
    { area: { name: 'notes', label: 'Notes', value: 'Met on Monday' } },
    {
      area: {
        name: 'reason',
        label: 'Reason',
        rows: 3,
        hint: 'Sent to the requester.',
        error: 'Enter at most 2,000 characters',
      },
    },
  ],
  'select-field': [
    {
      select: {
        name: 'relationship',
        label: 'Relationship status',
        value: 'b',
        options: [
          { value: 'a', label: 'Prospect' },
          { value: 'b', label: 'Serviced client' },
        ],
      },
    },
    {
      select: {
        name: 'share_with',
        label: 'Share with',
        empty: 'Choose',
        groups: [
          { label: 'Groups', options: [{ value: 'group:1', label: 'Audit team' }] },
          { label: 'Users', options: [{ value: 'user:1', label: 'Ada' }] },
        ],
        error: 'Choose a user or a group',
      },
    },
    {
      select: {
        name: 'owner',
        label: 'Owner',
        value: 'u1',
        options: [{ value: 'u1', label: 'Ada' }],
        disabled: true,
        hint: 'Only administrators choose another owner.',
      },
    },
  ],
  'choice-fields': [
    {
      choice: {
        type: 'radio',
        name: 'kind',
        legend: 'Type of client',
        value: 'individual',
        options: [
          { value: 'individual', label: 'Individual' },
          { value: 'non_individual', label: 'Non-individual' },
        ],
        afterHint: 'Fill the section that matches.',
      },
    },
    {
      choice: {
        type: 'checkbox',
        name: 'members',
        idPrefix: 'member',
        legend: 'Members',
        bdi: true,
        hint: 'Tick who belongs.',
        value: ['u2'],
        options: [
          { value: 'u1', label: 'Ada', note: 'ada@example.test' },
          { value: 'u2', label: 'مريم', note: 'maryam@example.test' },
        ],
        error: 'Choose at least one member',
      },
    },
  ],
  'checkbox-field': [
    { box: { name: 'digest', label: 'Receive daily digest', checked: true } },
    {
      box: {
        name: 'share_all',
        label: 'Share all clients with this user',
        hint: 'Every client relationship.',
        error: 'This could not be saved',
      },
    },
  ],
  'file-field': [
    {
      file: {
        name: 'file',
        label: 'Upload a document',
        hint: 'PDF or PNG; at most 20 MB.',
        error: 'The file is empty: choose a file with content',
      },
    },
    { file: { name: 'files', label: 'List files', hint: 'OFAC’s CSV files together.', multiple: true } },
  ],
  'error-summary': [
    {
      summary: {
        errors: new FormErrors()
          .add('email', 'Enter an email address like name@example.com')
          .add('notes', 'Enter at most 2,000 characters'),
      },
    },
  ],
  csrf: [{ csrfToken: 'example-token', fmt }],
  status: [{ status: { kind: 'success', text: 'Saved.' } }],
  'list-range': [
    { range: { from: 1, to: 3, total: 3, moreThan: false, one: 'user', many: 'users' }, fmt },
    { range: { from: 1, to: 1, total: 1, moreThan: false, one: 'user', many: 'users' }, fmt },
    {
      range: {
        from: 51,
        to: 100,
        total: 3214,
        moreThan: false,
        one: 'client relationship',
        many: 'client relationships',
        search: { label: 'names containing', term: 'שלום trading' },
      },
      fmt,
    },
    { range: { from: 1, to: 50, total: 1000, moreThan: true, one: 'client', many: 'clients' }, fmt },
  ],
  pagination: [
    {
      pager: {
        prevUrl: '/test-only/components?page=1',
        nextUrl: '/test-only/components?page=3',
        label: 'Example pages',
        page: 2,
        pages: 3,
      },
    },
  ],
  'bar-chart': [
    {
      chart: barChart({
        id: 'example-risk-chart',
        title: 'Clients by risk classification',
        rows: [
          { label: 'Low', value: 1204, href: '/entities?risk=low' },
          { label: 'Medium', value: 40, href: '/entities?risk=medium' },
          { label: 'High', value: 7, href: '/entities?risk=high' },
        ],
      }),
    },
    { chart: barChart({ id: 'example-empty-chart', title: 'Searches with a match this month', rows: [] }) },
  ],
}

const components = readdirSync(path.join(ROOT_DIR, 'views', 'components'))
  .filter((f) => f.endsWith('.eta'))
  .map((f) => f.replace(/\.eta$/, ''))

t.test('every component has an example', async (t) => {
  t.same(
    components.filter((c) => !EXAMPLES[c]),
    [],
    'add examples for these to test/views/components.test.ts',
  )
})

/** One page of every example, in the app's own layout (its CSS, skip link, landmarks). */
function examplesPage(app: FastifyInstance) {
  app.get('/test-only/components', { config: { access: 'public' } }, async (_request, reply) => {
    const parts: string[] = []
    for (const name of components) {
      for (const example of EXAMPLES[name] ?? []) parts.push(await reply.viewAsync(`components/${name}`, example))
    }
    const body = `<h1>Components</h1>\n<form method="post" action="/nowhere" novalidate>\n${parts.join('\n')}\n<button type="submit">Send</button>\n</form>`
    const html = await reply.viewAsync('layouts/main', { title: 'Components', body, user: null, nav: { main: [] } })
    return reply.type('text/html; charset=utf-8').send(html)
  })
}

const suite = await browserSuite(t, { extraRoutes: examplesPage })
if (suite) {
  await suite.flow('a contributor checks every component and its states', async (s, t) => {
    await s.goto('/test-only/components')
    await s.check(t, { title: 'Components', h1: 'Components', status: 200 })
    return { path: s.path }
  })
  await suite.validateSavedPages()
}
