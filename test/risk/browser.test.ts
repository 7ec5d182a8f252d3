import t from 'tap'
import type { PermissionKey } from '../../src/access/permissions.js'
import { saveAssessment } from '../../src/risk/service.js'
import { follow, mainText, signInByKeyboard, statusText } from '../browser/flows.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { anEntity, initialiseSharing } from '../helpers/entities.js'
import { aCompany, aService, aShare, aUser, type Company, clientAccessOn, type User } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  const rulesPage = { title: 'Risk rules', h1: 'Risk rules' }

  /**
   * Harbour Trust: a trust with a high-risk service and over 1 million a year. Under the default rules
   * Customer 7, Geography 2, Products and services 7, Delivery channel 3, Transactions 7: Medium, 5.2.
   */
  const harbourTrust = async (company: Company, owner: User) => {
    const client = await anEntity(db, { company, owner, name: 'Harbour Trust', kind: 'organisation' })
    await db('entities').where({ id: client.id }).update({ legal_form: 'Trust', volume_band: 'over_1m' })
    const service = await aService(db, { company, name: 'Payroll', riskLevel: 'high' })
    await db('entity_services').insert({ company_id: company.id, entity_id: client.id, service_id: service.id })
    return { client, service }
  }

  /** A firm with client access on, whose Harbour Trust is shared with `user` only (besides its owner). */
  const aFirm = async (s: BrowserSession, user: { name: string; permissions: PermissionKey[] }) => {
    const company = await aCompany(db, `Tidewater Advisers ${tag(s)}`)
    await clientAccessOn(db, company)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    const person = await aUser(db, { company, ...user })
    const { client } = await harbourTrust(company, admin)
    const other = await anEntity(db, { company, owner: admin, name: 'Cedar Ltd' })
    await initialiseSharing(db, client, other)
    await aShare(db, { company, client, user: person })
    return { company, admin, person, client }
  }

  /** A client's saved assessments, oldest first, as the database holds them (free of ids and times). */
  const assessmentsOf = async (client: { id: string }) =>
    (
      await db('risk_assessments as a')
        .join('users as u', 'u.id', 'a.created_by')
        .join('risk_rule_sets as r', 'r.id', 'a.rule_set_id')
        .where('a.entity_id', client.id)
        .orderBy('a.created_at')
        .select('a.*', 'u.name as by', 'r.version as rule_set_version')
    ).map((a) => ({
      classification: a.classification,
      overridden: a.overridden,
      rationale: a.rationale,
      result: a.result,
      recommended: a.recommendation.classification,
      by: a.by,
      rule_set_version: a.rule_set_version,
    }))

  /** The rows of a table shown now, each as its cells' text. */
  const rowsOf = async (s: BrowserSession, name: string) =>
    s.page
      .getByRole('table', { name, exact: true })
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()),
        ),
      )
  const pillarTable = 'Recommended score of each risk pillar, and why'
  const recommendedPillars = [
    ['Customer', '7', 'The legal form is a trust or a foundation (score 7)'],
    ['Geography', '2', 'No rule applies: the base score.'],
    ['Products and services', '7', 'A service of the client is high risk (score 7)'],
    ['Delivery channel', '3', 'No rule applies: the base score.'],
    ['Transactions', '7', 'Expected yearly volume over 1 million (score 7)'],
  ]

  await suite.flow('an assessor reads the recommendation and saves it', async (s, t) => {
    const { person, client } = await aFirm(s, {
      name: 'Cara Carrier',
      permissions: ['read_data', 'carry_out_risk_assessments'],
    })
    await signInByKeyboard(s, t, person)
    await follow(s, 'link', 'Clients')
    await s.check(t, { title: 'Client relationships', h1: 'Client relationships', status: 200 })
    await follow(s, 'link', client.name)
    const page = { title: client.name, h1: client.name }
    await s.check(t, { ...page, status: 200 })

    const before = await mainText(s)
    t.match(before, 'No risk assessment has been saved for this client yet.', 'nothing saved yet')
    t.match(
      before,
      'Recommended: Medium risk, overall score 5.2 (rule set version 1',
      'the recommendation is stated with its rule set version',
    )
    t.strictSame(await rowsOf(s, pillarTable), recommendedPillars, 'each pillar’s score and why')
    t.equal(
      await s.page.getByRole('heading', { name: 'Override the recommendation' }).count(),
      0,
      'an assessor who may not override is offered no override',
    )

    await follow(s, 'button', 'Save the recommended assessment')
    await s.check(t, { ...page, status: 200 })
    t.equal(s.path, `/entities/${client.id}`, 'back on the client’s page')
    t.equal(await statusText(s), 'The risk assessment was saved: medium risk.', 'the status region confirms it')
    const rows = await assessmentsOf(client)
    t.strictSame(
      rows,
      [
        {
          classification: 'medium',
          overridden: false,
          rationale: null,
          result: {
            pillars: { customer: 7, geography: 2, products: 7, delivery: 3, transactions: 7 },
            overall: 5.2,
            classification: 'medium',
          },
          recommended: 'medium',
          by: 'Cara Carrier',
          rule_set_version: 1,
        },
      ],
      'the database holds one assessment of the client, not overridden',
    )
    const due = await db('risk_assessments')
      .where({ entity_id: client.id })
      .first(db.raw(`to_char(review_due_on, 'YYYY-MM-DD') AS due`))
    t.equal(Number(due.due.slice(0, 4)) - new Date().getUTCFullYear(), 2, 'Medium: reviewed again in two years')
    const after = await mainText(s)
    t.match(
      after,
      'Current assessment: Medium risk (overall score 5.2), saved by Cara Carrier on',
      'the page shows the saved classification',
    )
    t.match(after, `Next review by ${due.due}.`, 'and its next review')
    t.notMatch(after, 'No risk assessment has been saved', 'no longer unassessed')
    return { status: await statusText(s), rows }
  })

  await suite.flow(
    'an overrider changes a score, is asked for the rationale, then saves the override',
    async (s, t) => {
      const { person, client } = await aFirm(s, { name: 'Otto Override', permissions: ['override_risk_assessments'] })
      await signInByKeyboard(s, t, person)
      await s.goto(`/entities/${client.id}`)
      const page = { title: client.name, h1: client.name }
      await s.check(t, { ...page, status: 200 })
      t.strictSame(await rowsOf(s, pillarTable), recommendedPillars, 'the recommendation, pillar by pillar')
      const override = s.page.locator('form[action$="/risk/override"]')
      t.equal(await override.getByLabel('Products and services').inputValue(), '7', 'the form starts as recommended')
      t.equal(await override.getByLabel('Overall classification').inputValue(), 'medium')

      await override.getByLabel('Products and services').selectOption('3')
      await override.getByLabel('Overall classification').selectOption('low')
      await follow(s, 'button', 'Save the override')
      const refused = await s.check(t, { ...page, status: 422 })
      const alerts = refused.tree.filter((n) => n.role === 'alert')
      t.strictSame(
        alerts.map((n) => n.name),
        ['There is a problem'],
        'an error summary is announced',
      )
      if (s.mode.javaScriptEnabled) t.ok(alerts[0]?.focused, 'the error summary has focus')
      t.ok(
        await s.page.evaluate(() =>
          document.querySelector('main h1')?.nextElementSibling?.matches('.error-summary[role="alert"]'),
        ),
        'the error summary comes first, straight after the heading',
      )
      const summary = s.page.locator('.error-summary')
      t.strictSame(
        await summary
          .getByRole('link')
          .evaluateAll((links) => links.map((a) => [a.textContent, a.getAttribute('href')])),
        [['Enter the rationale for the override', '#rationale']],
        'it links to the rationale field',
      )
      const rationale = refused.tree.find((n) => n.role === 'textbox' && n.name === 'Rationale')
      t.match(rationale?.description, 'Error: Enter the rationale for the override', 'the field says what is wrong')
      t.equal(await override.getByLabel('Products and services').inputValue(), '3', 'the score changed is kept')
      t.equal(await override.getByLabel('Customer').inputValue(), '7', 'the others as they were')
      t.equal(await override.getByLabel('Overall classification').inputValue(), 'low', 'the classification is kept')
      t.strictSame(await assessmentsOf(client), [], 'nothing is saved')

      await s.tabTo('link', 'Enter the rationale for the override')
      await s.page.keyboard.press('Enter')
      t.equal(await s.focused(), 'textarea#rationale', 'the error link puts the cursor in the rationale')
      await s.page.keyboard.type('Payroll here is for two employees only.')
      await follow(s, 'button', 'Save the override')
      await s.check(t, { ...page, status: 200 })
      t.equal(s.path, `/entities/${client.id}`, 'back on the client’s page')
      t.equal(await statusText(s), 'The override was saved: low risk.', 'the status region confirms it')
      const after = await mainText(s)
      t.match(
        after,
        'Current assessment: Low risk (overall score 4.4), overridden, saved by Otto Override',
        'the page shows the override',
      )
      t.match(after, 'Rationale: Payroll here is for two employees only.', 'with its rationale')
      t.equal(await s.page.locator('.error-summary').count(), 0, 'and no error any more')
      const rows = await assessmentsOf(client)
      t.strictSame(
        rows,
        [
          {
            classification: 'low',
            overridden: true,
            rationale: 'Payroll here is for two employees only.',
            result: {
              pillars: { customer: 7, geography: 2, products: 3, delivery: 3, transactions: 7 },
              overall: 4.4,
              classification: 'low',
            },
            recommended: 'medium',
            by: 'Otto Override',
            rule_set_version: 1,
          },
        ],
        'the database holds the override, its rationale and the changed score',
      )
      return { status: await statusText(s), rows }
    },
  )

  /** An assessment saved as Carry Out saves it, by `user`, straight through the service. */
  const savedAssessment = async (company: Company, user: User, client: { id: string }) => {
    const permissions = new Set<PermissionKey>(['system_administrator'])
    const actor = {
      user: {
        id: user.id,
        companyId: company.id,
        companyName: company.name,
        name: user.name,
        email: user.email,
        granted: permissions,
        permissions,
        shareAllClients: false,
        company: { clientAccessEnabled: false, allowSharing: true, allowAccessRequests: false },
        twoFactor: { companyRequires: 'off' as const, enrolled: false },
      },
      ip: '127.0.0.1',
    }
    await saveAssessment(db, actor, await db('entities').where({ id: client.id }).first())
  }

  await suite.flow('an administrator edits the draft rules, runs them on the clients and publishes', async (s, t) => {
    const company = await aCompany(db, `Rulemakers ${tag(s)}`)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    const { client: harbour } = await harbourTrust(company, admin)
    // Customer 3 (no legal form), Geography 2, Products 7, Delivery 3, Transactions 7: 4.4, Low.
    const osprey = await anEntity(db, { company, owner: admin, name: 'Osprey Freight', kind: 'organisation' })
    await db('entities').where({ id: osprey.id }).update({ volume_band: 'over_1m' })
    const payroll = await db('services').where({ company_id: company.id }).first('id')
    await db('entity_services').insert({ company_id: company.id, entity_id: osprey.id, service_id: payroll.id })
    await anEntity(db, { company, owner: admin, name: 'Nia Okafor' }) // 2.2, Low
    await savedAssessment(company, admin, harbour)
    const saved = await db('risk_assessments').where({ entity_id: harbour.id }).select()
    t.equal(saved.length, 1, 'Harbour Trust has a saved assessment')

    await signInByKeyboard(s, t, admin)
    await follow(s, 'link', 'Settings')
    await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
    await follow(s, 'link', 'Risk rules')
    await s.check(t, { ...rulesPage, status: 200 })
    t.match(await mainText(s), 'Published: version 1, with 12 rules.', 'the published version is stated')
    t.match(await mainText(s), 'Start a draft from the published version', 'there is no draft yet')
    const medium = s.page.getByLabel('Medium from an overall score of')
    const productsWeight = s.page.locator('#weight_products')
    t.equal(await medium.inputValue(), '5', 'the form starts from the published thresholds')
    t.equal(await productsWeight.inputValue(), '1', 'and weights')

    await medium.selectOption('4')
    await productsWeight.focus()
    await s.page.keyboard.press('ControlOrMeta+A')
    await s.page.keyboard.type('2')
    await follow(s, 'button', 'Save the draft')
    await s.check(t, { ...rulesPage, status: 200 })
    t.equal(s.path, '/settings/risk/dry-run', 'saving the draft leads to its dry run')
    t.equal(
      await statusText(s),
      'The draft was saved. Run it on your clients before you publish it.',
      'the status region confirms it',
    )
    t.equal(await medium.inputValue(), '4', 'the draft form shows the draft')
    t.equal(await productsWeight.inputValue(), '2')
    const dry = await mainText(s)
    t.match(
      dry,
      'On your 3 client relationships, the draft would change the recommended classification of 1.',
      'the dry run counts the clients that change',
    )
    const counts = await rowsOf(s, 'Recommended classifications, published version and draft')
    t.strictSame(
      counts,
      [
        ['Low', '2', '1'],
        ['Medium', '1', '2'],
        ['High', '0', '0'],
      ],
      'Low, Medium and High before and after',
    )
    const changes = await s.page
      .getByRole('heading', { name: 'Clients whose classification would change' })
      .locator('xpath=following-sibling::ul[1]/li')
      .allTextContents()
    t.strictSame(
      changes.map((c) => c.replace(/\s+/g, ' ').trim()),
      ['Osprey Freight: Low to Medium'],
      'the client that changes',
    )
    const draft = await db('risk_rule_sets').where({ company_id: company.id }).whereNull('version').first()
    t.match(draft?.definition, { thresholds: { medium: 4, high: 7 } }, 'the database holds the draft')
    t.equal(draft?.definition.weights.products, 2)
    t.strictSame(
      await db('risk_rule_sets').where({ company_id: company.id }).whereNotNull('version').pluck('version'),
      [1],
      'not published yet',
    )

    await follow(s, 'button', 'Publish the draft as version 2')
    await s.check(t, { ...rulesPage, status: 200 })
    t.equal(s.path, '/settings/risk', 'back on the rules')
    t.equal(
      await statusText(s),
      'The draft is published as version 2. Saved assessments are unchanged.',
      'the status region confirms it',
    )
    t.match(await mainText(s), 'Published: version 2, with 12 rules.', 'version 2 is the published one')
    t.match(await mainText(s), 'Start a draft from the published version', 'and there is no draft any more')
    const versions = await db('risk_rule_sets')
      .where({ company_id: company.id })
      .orderBy('version')
      .select('version', 'published_by', 'definition')
    t.strictSame(
      versions.map((v) => v.version),
      [1, 2],
      'the database holds version 2 beside version 1, and no draft',
    )
    t.equal(versions[1]?.published_by, admin.id, 'published by the administrator')
    t.match(versions[1]?.definition, { thresholds: { medium: 4 }, weights: { products: 2 } }, 'with the change')
    t.match(versions[0]?.definition, { thresholds: { medium: 5 }, weights: { products: 1 } }, 'version 1 unchanged')
    t.strictSame(
      await db('risk_assessments').where({ entity_id: harbour.id }).select(),
      saved,
      'the saved assessment is unchanged',
    )

    await s.goto(`/entities/${harbour.id}`)
    await s.check(t, { title: harbour.name, h1: harbour.name, status: 200 })
    const client = await mainText(s)
    t.match(
      client,
      'Current assessment: Medium risk (overall score 5.2), saved by Ada Brennan',
      'the client keeps its saved assessment',
    )
    t.match(
      client,
      'Recommended: Medium risk, overall score 5.5 (rule set version 2',
      'the recommendation follows version 2',
    )
    return {
      counts,
      changes,
      versions: versions.map((v) => ({ version: v.version, thresholds: v.definition.thresholds })),
      assessments: await assessmentsOf(harbour),
    }
  })

  await suite.validateSavedPages()
}
