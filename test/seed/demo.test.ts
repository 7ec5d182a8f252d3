import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { DEFAULT_RULE_SET } from '../../src/risk/default-rules.js'
import { seedDemoCompany } from '../../src/seed/demo.js'
import { FileSystemStorage } from '../../src/storage/document-storage.js'
import { testDatabase } from '../helpers/database.js'

t.test('the demo company: clients, services, documents and risk assessments, seeded once', async (t) => {
  const { db } = await testDatabase(t)
  const dir = mkdtempSync(path.join(tmpdir(), 'kyc-demo-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const storage = new FileSystemStorage(dir)
  await Promise.all([seedDemoCompany(db, storage), seedDemoCompany(db, storage)])
  const [company] = await db('companies').select('id')
  t.equal(Number((await db('companies').count('* as n'))[0]?.n), 1, 'two starts at once seed one company')
  const count = async (table: string, where: Record<string, unknown> = {}) =>
    Number(
      (
        await db(table)
          .where({ company_id: company.id, ...where })
          .count('* as n')
      )[0]?.n,
    )
  t.equal(await count('entities'), 302, '300 invented clients and two named like listed ones')
  t.ok((await count('entity_services')) > 100, 'services allocated')
  t.ok((await count('documents')) > 10, 'documents')
  t.ok((await count('entities', { pep: true })) > 0, 'some politically exposed persons')
  const assessments = await count('risk_assessments')
  t.ok(assessments > 60 && assessments < 150, `${assessments} saved risk assessments`)
  const overridden = await db('risk_assessments')
    .where({ company_id: company.id, overridden: true })
    .select('rationale')
  t.ok(
    overridden.length > 0 && overridden.every((o) => o.rationale.length > 10),
    'some overridden, each with a rationale',
  )
  const classes = await db('risk_assessments')
    .where({ company_id: company.id })
    .distinct('classification')
    .pluck('classification')
  t.same(classes.sort(), ['high', 'low', 'medium'], 'every classification is there')
  const [ruleSet] = await db('risk_rule_sets').where({ company_id: company.id }).select('version', 'definition')
  t.same(ruleSet, { version: 1, definition: DEFAULT_RULE_SET }, 'the default rule set, published as version 1')

  // Screening: the shipped lists, credits, four-eyes on, every client screened once, a review under way.
  t.match(
    await db('screening_list_versions')
      .where({ company_id: company.id })
      .orderBy('list')
      .select('list', 'version', 'entry_count'),
    [
      { list: 'ofac-sdn', version: 1, entry_count: 8976 },
      { list: 'un', version: 1, entry_count: 1003 },
    ],
  )
  t.match(await db('companies').where({ id: company.id }).first(), { screening_credits: 40, screening_four_eyes: true })
  t.equal(await count('screening_searches', { kind: 'automated' }), 302, 'every client screened by the nightly run')
  t.ok((await count('screening_searches', { status: 'open' })) >= 1, 'a search with potential matches to review')
  t.equal(await count('screening_searches', { status: 'awaiting_approval' }), 1, 'one checked, awaiting approval')
  t.equal(await count('screening_searches', { kind: 'one_time' }), 1, 'a one-time search')

  // The portal: its settings, and a request in each of three states, the approved one's document filed.
  t.match(await db('portal_settings').where({ company_id: company.id }).first(), { link_valid_days: 14 })
  t.same(
    (await db('portal_requests').where({ company_id: company.id }).pluck('status')).sort(),
    ['approved', 'opened', 'sent']
      .sort()
      .map((s) => (s === 'opened' ? 'submitted' : s))
      .sort(),
  )
  t.equal(await count('portal_uploads'), 2, 'two certificates uploaded')
  t.equal(Number((await db('portal_uploads').whereNotNull('document_id').count('* as n'))[0]?.n), 1, 'one filed')
})
