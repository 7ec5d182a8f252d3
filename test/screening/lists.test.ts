/**
 * Screening lists (issue 14): importing the shipped OFAC and UN files and an OpenSanctions file through the
 * Screening lists page, versions with what they added, changed and removed, refusals that change nothing, an
 * import that fails half-way, who may import, and the command line.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { PERMISSION_KEYS } from '../../src/access/permissions.js'
import { ROOT_DIR } from '../../src/config.js'
import { parseListPaths } from '../../src/screening/lists/parse.js'
import { SHIPPED_LIST_FILES } from '../../src/screening/lists/shipped.js'
import { importList } from '../../src/screening/lists/store.js'
import type { ListEntry, ParsedList } from '../../src/screening/lists/types.js'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { aUser, PASSWORD, twoCompanies } from '../helpers/factories.js'

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'opensanctions-targets.simple.csv')
const OFAC_FILES = SHIPPED_LIST_FILES.filter((file) => path.basename(file).startsWith('ofac-'))
const UN_FILE = SHIPPED_LIST_FILES.find((file) => path.basename(file).startsWith('un-')) as string
const OFAC_NAME = 'OFAC Specially Designated Nationals (SDN)'
const UN_NAME = 'UN Security Council Consolidated List'

interface UploadFile {
  filename: string
  content: Buffer
}

const fileOf = (file: string): UploadFile => ({ filename: path.basename(file), content: readFileSync(file) })

/** A multipart/form-data body with fields first, then several files, as a browser sends a multiple file input. */
function filesBody(
  fields: [string, string][],
  files: UploadFile[],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----kyclists${Math.random().toString(16).slice(2)}`
  const chunks: Buffer[] = []
  for (const [name, value] of fields)
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  for (const file of files)
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${file.filename}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    )
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** Sends the import form with these files (and the OpenSanctions list's name when given), as read just before. */
async function upload(v: Visitor, files: UploadFile[], list?: string) {
  await v.get('/settings/screening-lists')
  const fields: [string, string][] = [['_csrf', v.csrfToken]]
  if (list !== undefined) fields.push(['list', list])
  const body = filesBody(fields, files)
  return v.request({ method: 'POST', url: '/settings/screening-lists', payload: body.payload, headers: body.headers })
}

async function setup(t: Test) {
  const { app, db, url } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  const as = async (user: { email: string }) => {
    const v = new Visitor(app)
    await v.login(user.email, PASSWORD)
    return v
  }
  const versions = (list?: string, companyId = company.id) =>
    db('screening_list_versions')
      .where({ company_id: companyId })
      .modify((q) => {
        if (list) q.where({ list })
      })
      .orderBy([{ column: 'list' }, { column: 'version' }])
      .select()
  const entryCount = async (where: Record<string, unknown>, current = false) => {
    const row = await db('screening_entries')
      .where(where)
      .modify((q) => {
        if (current) q.whereNull('to_version')
      })
      .count<{ n: string }>('* as n')
      .first()
    return Number(row?.n)
  }
  const audits = (companyId = company.id) =>
    db('audit_log').where({ company_id: companyId, action: 'screening.list_imported' }).orderBy('id').select()
  return { app, db, url, company, other, admin, foreigner, as, versions, entryCount, audits }
}

/** The ids of the entries of one version of a list: the rows with from_version <= n < coalesce(to_version, ∞). */
async function entriesOfVersion(
  db: Awaited<ReturnType<typeof setup>>['db'],
  companyId: string,
  list: string,
  version: number,
): Promise<{ entry_id: string; name: string }[]> {
  return db('screening_entries')
    .where({ company_id: companyId, list })
    .where('from_version', '<=', version)
    .whereRaw('? < coalesce(to_version, 2147483647)', [version])
    .orderBy('entry_id')
    .select('entry_id', 'name')
}

t.test('an administrator imports the shipped OFAC and UN lists; the same files again record nothing', async (t) => {
  const { db, company, other, admin, foreigner, as, versions, entryCount, audits } = await setup(t)
  const v = await as(admin)
  const empty = await v.get('/settings/screening-lists')
  t.equal(empty.statusCode, 200)
  t.match(visibleText(empty.body), 'No list has been imported yet.')

  const ofacFiles = OFAC_FILES.map(fileOf)
  const unFile = fileOf(UN_FILE)
  t.equal(ofacFiles.length, 4)

  // Six files are one too many for one import: the page says so, and nothing is read.
  const tooMany = await upload(v, [...ofacFiles, unFile, fileOf(FIXTURE)])
  t.equal(tooMany.statusCode, 422, 'six files at once are refused')
  t.match(visibleText(tooMany.body), 'There is a problem')
  t.match(visibleText(tooMany.body), 'Import at most 5 files at a time')
  t.strictSame(await versions(), [], 'nothing imported')

  const both = await upload(v, [...ofacFiles, unFile])
  t.equal(both.statusCode, 303, 'the four OFAC files and the UN XML in one import')
  t.equal(both.headers.location, '/settings/screening-lists')
  t.match(
    visibleText((await v.get('/settings/screening-lists')).body),
    `Imported. ${OFAC_NAME}: version 1, 8,976 entries (8,976 added, 0 changed, 0 removed). ${UN_NAME}: version 1, 1,003 entries (1,003 added, 0 changed, 0 removed).`,
    'the flash says what was imported',
  )
  t.match(
    await db('screening_list_versions').where({ company_id: company.id }).orderBy('list').select('list', 'source'),
    [
      { list: 'ofac-sdn', source: 'ofac-sdn.csv, ofac-alt.csv, ofac-add.csv, ofac-sdn_comments.csv' },
      { list: 'un', source: 'un-consolidated.xml' },
    ],
    'each version names its own files',
  )

  const page = visibleText((await v.get('/settings/screening-lists')).body)
  t.match(
    page,
    new RegExp(
      `${OFAC_NAME.replace(/[()]/g, '\\$&')} Version 1: 8,976 entries, file dated not stated, imported [\\d-]+ [\\d:]+ UTC by Ada Admin\\.`,
    ),
  )
  t.match(
    page,
    new RegExp(
      `${UN_NAME} Version 1: 1,003 entries, file dated 2026-02-27, imported [\\d-]+ [\\d:]+ UTC by Ada Admin\\.`,
    ),
  )
  t.match(
    page,
    /1 [\d-]+ [\d:]+ UTC — 8,976 8,976 0 0 ofac-sdn\.csv, ofac-alt\.csv, ofac-add\.csv, ofac-sdn_comments\.csv/,
  )
  t.match(page, /1 [\d-]+ [\d:]+ UTC 2026-02-27 1,003 1,003 0 0 un-consolidated\.xml/)

  const rows = await versions()
  t.match(rows, [
    {
      list: 'ofac-sdn',
      format: 'ofac-sdn',
      version: 1,
      entry_count: 8976,
      added: 8976,
      changed: 0,
      removed: 0,
      imported_by: admin.id,
      source: 'ofac-sdn.csv, ofac-alt.csv, ofac-add.csv, ofac-sdn_comments.csv',
      file_date: null,
    },
    {
      list: 'un',
      format: 'un',
      version: 1,
      entry_count: 1003,
      added: 1003,
      changed: 0,
      removed: 0,
      imported_by: admin.id,
      source: 'un-consolidated.xml',
    },
  ])
  t.equal(rows.length, 2)
  t.equal(await entryCount({ company_id: company.id, list: 'ofac-sdn' }), 8976)
  t.equal(await entryCount({ company_id: company.id, list: 'ofac-sdn' }, true), 8976, 'every entry current')
  t.equal(await entryCount({ company_id: company.id, list: 'un' }), 1003)
  t.equal(await entryCount({ company_id: company.id, list: 'un', from_version: 1 }, true), 1003)
  const bnc = await db('screening_entries').where({ company_id: company.id, list: 'ofac-sdn', entry_id: '306' }).first()
  t.equal(bnc.name, 'BANCO NACIONAL DE CUBA')
  t.match(bnc.data, { entryId: '306', schema: 'organisation', programs: ['CUBA'] }, 'the entry as read, in data')

  const audited = await audits()
  t.equal(audited.length, 2, 'one audit row per list')
  t.match(audited[0], {
    actor_user_id: admin.id,
    target_type: 'company',
    target_id: company.id,
    before: null,
    after: { list: OFAC_NAME, version: 1, entries: 8976, added: 8976, changed: 0, removed: 0 },
  })
  t.match(audited[1].after, { list: UN_NAME, version: 1, entries: 1003, file_date: '2026-02-27' })

  // The same files again: nothing is recorded, and the page says so.
  t.equal((await upload(v, ofacFiles)).statusCode, 303)
  t.equal((await upload(v, [unFile])).statusCode, 303)
  t.match(
    visibleText((await v.get('/settings/screening-lists')).body),
    `Imported. ${UN_NAME}: unchanged (the same 1,003 entries as version 1), nothing recorded.`,
  )
  t.equal((await versions()).length, 2, 'no new version')
  t.equal(await entryCount({ company_id: company.id }), 8976 + 1003, 'no new entry row')
  t.equal((await audits()).length, 2, 'no new audit row')

  // Beta Bank has no list of Alpha's.
  const f = await as(foreigner)
  t.match(visibleText((await f.get('/settings/screening-lists')).body), 'No list has been imported yet.')
  t.strictSame(await versions(undefined, other.id), [])
  t.equal(await entryCount({ company_id: other.id }), 0)
})

t.test('a changed OpenSanctions file is the next version: 1 added, 1 changed, 1 removed', async (t) => {
  const { db, company, admin, as, versions, audits } = await setup(t)
  const v = await as(admin)
  const fixture = readFileSync(FIXTURE, 'utf8')
  const first = await upload(v, [{ filename: 'targets.simple.csv', content: Buffer.from(fixture) }], 'eu-fsf')
  t.equal(first.statusCode, 303)
  t.match(
    visibleText((await v.get('/settings/screening-lists')).body),
    'Imported. OpenSanctions: eu-fsf: version 1, 12 entries (12 added, 0 changed, 0 removed).',
    'the list is stored under the key given, and the Security row is skipped',
  )
  const version1 = await entriesOfVersion(db, company.id, 'eu-fsf', 1)
  t.equal(version1.length, 12)

  // Macron's name changes, Huawei's row goes, a new person comes.
  const lines = fixture.trimEnd().split('\n')
  const changed = lines
    .filter((line) => !line.startsWith('NK-huawei,'))
    .map((line) => (line.startsWith('Q3052772,') ? line.replace(',Emmanuel Macron,', ',Emmanuel J. Macron,') : line))
  t.equal(changed.length, lines.length - 1)
  changed.push(
    'NK-newcomer,Person,Nora Newcomer,,1980-01-02,de,,,EU: Annex I,,,EU-UKR,EU Financial Sanctions Files (FSF),2024-07-01T00:00:00,2024-07-01T00:00:00,2024-07-01T09:00:00',
  )
  const second = await upload(
    v,
    [{ filename: 'targets.simple.csv', content: Buffer.from(`${changed.join('\n')}\n`) }],
    'eu-fsf',
  )
  t.equal(second.statusCode, 303)
  const page = visibleText((await v.get('/settings/screening-lists')).body)
  t.match(page, 'Imported. OpenSanctions: eu-fsf: version 2, 12 entries (1 added, 1 changed, 1 removed).')
  t.match(page, /OpenSanctions: eu-fsf Version 2: 12 entries, file dated 2024-07-01, imported .+? by Ada Admin\./)
  t.match(page, /2 [\d-]+ [\d:]+ UTC 2024-07-01 12 1 1 1 targets\.simple\.csv/, 'the versions table, newest first')
  t.match(page, /1 [\d-]+ [\d:]+ UTC 2024-06-11 12 12 0 0 targets\.simple\.csv/)

  t.match(await versions('eu-fsf'), [
    { version: 1, entry_count: 12, added: 12, changed: 0, removed: 0, file_date: new Date('2024-06-11T00:00:00') },
    { version: 2, entry_count: 12, added: 1, changed: 1, removed: 1, format: 'opensanctions' },
  ])
  const rowsOf = (entryId: string) =>
    db('screening_entries')
      .where({ company_id: company.id, list: 'eu-fsf', entry_id: entryId })
      .orderBy('from_version')
      .select('name', 'from_version', 'to_version')
  t.strictSame(
    await rowsOf('Q3052772'),
    [
      { name: 'Emmanuel Macron', from_version: 1, to_version: 2 },
      { name: 'Emmanuel J. Macron', from_version: 2, to_version: null },
    ],
    'the changed entry: its old row ends at version 2, a new row from 2',
  )
  t.strictSame(await rowsOf('NK-huawei'), [{ name: 'Huawei Technologies Co., Ltd.', from_version: 1, to_version: 2 }])
  t.strictSame(await rowsOf('NK-newcomer'), [{ name: 'Nora Newcomer', from_version: 2, to_version: null }])
  t.strictSame(await rowsOf('NK-kimjongun'), [{ name: 'Kim Jong Un', from_version: 1, to_version: null }], 'kept as is')
  t.equal((await db('screening_entries').where({ company_id: company.id, list: 'eu-fsf' })).length, 14)

  t.strictSame(await entriesOfVersion(db, company.id, 'eu-fsf', 1), version1, 'version 1 is still readable as it was')
  const version2 = await entriesOfVersion(db, company.id, 'eu-fsf', 2)
  t.equal(version2.length, 12)
  t.ok(
    version2.some((e) => e.name === 'Emmanuel J. Macron'),
    'version 2 has the new name',
  )
  t.notOk(
    version2.some((e) => e.entry_id === 'NK-huawei'),
    'and not the entry that left',
  )

  const audited = await audits()
  t.equal(audited.length, 2)
  t.match(audited[1], {
    before: { list: 'OpenSanctions: eu-fsf', version: 1, entries: 12 },
    after: { list: 'OpenSanctions: eu-fsf', version: 2, entries: 12, added: 1, changed: 1, removed: 1 },
  })
})

t.test('two lists in one import: each is a version of its own list', async (t) => {
  const { company, admin, as, versions, entryCount, audits } = await setup(t)
  const v = await as(admin)
  const res = await upload(v, [fileOf(UN_FILE), fileOf(FIXTURE)], 'peps')
  t.equal(res.statusCode, 303)
  t.match(
    visibleText((await v.get('/settings/screening-lists')).body),
    `Imported. ${UN_NAME}: version 1, 1,003 entries (1,003 added, 0 changed, 0 removed). OpenSanctions: peps: version 1, 12 entries (12 added, 0 changed, 0 removed).`,
    'the UN list keeps its own key; the OpenSanctions file takes the name given',
  )
  const [peps, un] = await versions()
  t.match(peps, { list: 'peps', version: 1, entry_count: 12 })
  t.match(un, { list: 'un', version: 1, entry_count: 1003 })
  t.equal(await entryCount({ company_id: company.id, list: 'un' }), 1003)
  t.equal(await entryCount({ company_id: company.id, list: 'peps' }), 12)
  t.equal((await audits()).length, 2)
})

t.test('a malformed file is refused with where it is wrong, and nothing changes', async (t) => {
  const { company, admin, as, versions, entryCount, audits } = await setup(t)
  const v = await as(admin)
  t.equal((await upload(v, [fileOf(UN_FILE)])).statusCode, 303, 'the UN list, version 1')
  t.equal((await upload(v, [fileOf(FIXTURE)])).statusCode, 303, 'an OpenSanctions list, version 1')
  const before = {
    versions: await versions(),
    entries: await entryCount({ company_id: company.id }),
    audits: (await audits()).length,
  }

  const un = readFileSync(UN_FILE)
  const sdnRow = '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
  const cases: { what: string; files: UploadFile[]; list?: string; says: string }[] = [
    {
      what: 'the UN XML cut in the middle',
      files: [{ filename: 'un-consolidated.xml', content: un.subarray(0, Math.floor(un.length / 2)) }],
      says: 'Nothing was imported: un-consolidated.xml line 26439: INDIVIDUAL 471 (DATAID 6908454) > COMMENTS1: not well-formed XML',
    },
    {
      what: "an OFAC alt file naming an ent_num the sdn file doesn't have",
      files: [
        { filename: 'sdn.csv', content: Buffer.from(sdnRow) },
        {
          filename: 'alt.csv',
          content: Buffer.from('36,12,"aka","AERO-CARIBBEAN",-0- \r\n99999,13,"aka","SOMEONE ELSE",-0- \r\n'),
        },
      ],
      says: 'Nothing was imported: alt.csv line 2: ent_num 99999 is not in the sdn file',
    },
    {
      what: 'an OFAC alt file without its sdn file',
      files: [{ filename: 'ofac-alt.csv', content: readFileSync(OFAC_FILES[1] as string) }],
      says: 'Nothing was imported: ofac-alt.csv: an OFAC alt file needs the OFAC sdn file it goes with',
    },
    {
      what: 'an OpenSanctions row with too few columns',
      files: [
        {
          filename: 'targets.simple.csv',
          content: Buffer.concat([readFileSync(FIXTURE), Buffer.from('NK-short,Person,Short Row\n')]),
        },
      ],
      says: 'Nothing was imported: targets.simple.csv line 15: expected 16 columns (as the header has), found 3',
    },
    {
      what: 'a file that is no list',
      files: [{ filename: 'notes.csv', content: Buffer.from('hello,world\n') }],
      says: 'Nothing was imported: notes.csv line 1: not a list this importer reads',
    },
    {
      what: 'an OpenSanctions list named with capitals and a space',
      files: [fileOf(FIXTURE)],
      list: 'EU FSF',
      says: 'Name the list with lower-case letters, digits and hyphens, like eu-fsf',
    },
    { what: 'no file', files: [], says: 'Choose the list files to import' },
  ]
  for (const c of cases) {
    const res = await upload(v, c.files, c.list)
    t.equal(res.statusCode, 422, `${c.what}: refused`)
    const text = visibleText(res.body).replace(/&gt;/g, '>').replace(/&lt;/g, '<')
    t.match(text, 'Screening lists', `${c.what}: the page again`)
    t.match(text, 'There is a problem', `${c.what}: with the error summary`)
    t.match(text, c.says, `${c.what}: naming the file and where`)
    if (c.list) t.match(res.body, `value="${c.list}"`, `${c.what}: the list name typed is kept`)
  }
  t.strictSame(await versions(), before.versions, 'no version added: the previous ones still in force')
  t.equal(await entryCount({ company_id: company.id }), before.entries, 'no entry written')
  t.equal(await entryCount({ company_id: company.id, list: 'un' }, true), 1003, 'UN version 1 is still current')
  t.equal((await audits()).length, before.audits, 'no audit row')
})

t.test('an import that fails half-way leaves the previous version in force', async (t) => {
  const { db, company, admin, versions, entryCount, audits } = await setup(t)
  const [fixture] = await parseListPaths([FIXTURE])
  if (!fixture) throw new Error('no fixture list')
  const actor = { companyId: company.id, userId: admin.id }
  const done = await importList(db, actor, fixture, { source: 'targets.simple.csv' })
  t.match(done, { list: 'opensanctions', status: 'imported', version: 1, entryCount: 12, added: 12 })
  const currentBefore = await db('screening_entries')
    .where({ company_id: company.id, list: 'opensanctions' })
    .whereNull('to_version')
    .orderBy('entry_id')
    .select('id', 'entry_id', 'from_version', 'content_hash')
  t.equal(currentBefore.length, 12)

  const entry = (entryId: string, name: string): ListEntry => ({
    entryId,
    schema: 'individual',
    topics: ['sanction'],
    name,
    names: [{ name, quality: 'strong' }],
    birthDates: [],
    countries: [],
    programs: [],
  })
  const valid = Array.from({ length: 5001 }, (_, i) => entry(`bulk-${String(i).padStart(5, '0')}`, `Bulk Person ${i}`))
  // Sorted by id, the long one comes last: it is written with the second chunk, after the version row and the first.
  const broken: ParsedList = { format: 'opensanctions', entries: [...valid, entry('z'.repeat(250), 'Too Long An Id')] }

  const statements: string[] = []
  const listen = (q: { sql: string }) => statements.push(q.sql)
  db.on('query', listen)
  try {
    await t.rejects(
      importList(db, actor, broken, { source: 'bulk.csv' }),
      /violates check constraint "screening_entries_entry_id_check"/,
    )
  } finally {
    db.off('query', listen)
  }
  const written = statements.filter((sql) => /^\s*insert into "?screening_(list_versions|entries)"?/i.test(sql))
  t.equal(written.length, 3, 'the version row and two chunks of entries were written before it failed')
  t.match(written[0], /screening_list_versions/)
  t.ok(
    statements.some((sql) => /^\s*UPDATE screening_entries SET to_version/.test(sql)),
    'and the entries that left were ended',
  )

  t.match(await versions('opensanctions'), [{ version: 1, entry_count: 12 }])
  t.equal((await versions('opensanctions')).length, 1, 'no version 2')
  t.strictSame(
    await db('screening_entries')
      .where({ company_id: company.id, list: 'opensanctions' })
      .whereNull('to_version')
      .orderBy('entry_id')
      .select('id', 'entry_id', 'from_version', 'content_hash'),
    currentBefore,
    'the current entries are exactly those of version 1',
  )
  t.equal(await entryCount({ company_id: company.id }), 12, 'no row of the failed import is left')
  t.equal((await audits()).length, 1, 'no audit row for it')

  // The next import is version 2: the failed one used up no version.
  const next = await importList(db, actor, { format: 'opensanctions', entries: valid }, { source: 'bulk.csv' })
  t.match(next, { status: 'imported', version: 2, entryCount: 5001, added: 5001, changed: 0, removed: 12 })
})

t.test('only administrators see and import lists', async (t) => {
  const { db, company, as, versions, entryCount, audits } = await setup(t)
  const almost = await aUser(db, {
    company,
    name: 'Al Most',
    permissions: PERMISSION_KEYS.filter((key) => key !== 'system_administrator'),
  })
  const v = await as(almost)
  const page = await v.get('/settings/screening-lists')
  t.equal(page.statusCode, 403)
  t.notMatch(visibleText(page.body), 'Import a list')
  // The form's token from a page the user may read, then the import.
  await v.get('/entities')
  const body = filesBody([['_csrf', v.csrfToken]], [fileOf(FIXTURE)])
  const res = await v.request({ method: 'POST', url: '/settings/screening-lists', ...body })
  t.equal(res.statusCode, 403, 'the import is refused')
  t.strictSame(await versions(), [], 'nothing imported')
  t.equal(await entryCount({ company_id: company.id }), 0)
  t.equal((await audits()).length, 0)
})

interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** `npm run lists:import -- …` against the test's database. */
function cli(url: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli/lists-import.ts', ...args],
      {
        cwd: ROOT_DIR,
        env: { ...process.env, DATABASE_URL: url, SESSION_SECRET: 'lists-cli-test-secret-0123456789abcdef' },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout: String(stdout), stderr: String(stderr) })
      },
    )
  })
}

t.test('the command line imports a list into the company named, and refuses a malformed file', async (t) => {
  const { db, url, company, other, admin, as, versions, entryCount, audits } = await setup(t)
  const dir = mkdtempSync(path.join(tmpdir(), 'kyc-lists-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  const imported = await cli(url, ['--company', 'alpha advisers', FIXTURE])
  t.equal(imported.code, 0, imported.stderr)
  t.equal(
    imported.stdout,
    'Alpha Advisers: OpenSanctions: opensanctions: version 1, 12 entries (12 added, 0 changed, 0 removed)\n',
  )
  t.match(await versions(), [
    {
      list: 'opensanctions',
      version: 1,
      entry_count: 12,
      added: 12,
      imported_by: null,
      source: 'opensanctions-targets.simple.csv',
    },
  ])
  t.equal(await entryCount({ company_id: company.id }, true), 12)
  t.strictSame(await versions(undefined, other.id), [], 'Beta Bank is untouched')
  t.match(await audits(), [{ actor_user_id: null, after: { list: 'OpenSanctions: opensanctions', version: 1 } }])
  const v = await as(admin)
  t.match(
    visibleText((await v.get('/settings/screening-lists')).body),
    /OpenSanctions: opensanctions Version 1: 12 entries, file dated 2024-06-11, imported [\d-]+ [\d:]+ UTC from the command line\./,
  )

  const again = await cli(url, ['--company', 'Alpha Advisers', FIXTURE])
  t.equal(again.code, 0, again.stderr)
  t.equal(
    again.stdout,
    'Alpha Advisers: OpenSanctions: opensanctions: unchanged (the same 12 entries as version 1), nothing recorded\n',
  )
  t.equal((await versions()).length, 1, 'no new version')

  const broken = path.join(dir, 'broken-targets.csv')
  writeFileSync(
    broken,
    `${readFileSync(FIXTURE, 'utf8').replace(',Kim Jong Un,', ',Kim Jong Un II,')}NK-short,Person,Short Row\n`,
  )
  const refused = await cli(url, ['--company', 'Alpha Advisers', broken])
  t.equal(refused.code, 1, 'exit code 1')
  t.equal(refused.stdout, '')
  t.equal(
    refused.stderr,
    `Not imported, nothing changed. ${broken} line 15: expected 16 columns (as the header has), found 3\n`,
  )
  t.equal((await versions()).length, 1, 'nothing written')
  t.equal(await entryCount({ company_id: company.id }), 12)
  t.equal(
    (await db('screening_entries').where({ company_id: company.id, entry_id: 'NK-kimjongun' }).first()).name,
    'Kim Jong Un',
  )
  t.equal((await audits()).length, 1)

  const nobody = await cli(url, [FIXTURE])
  t.equal(nobody.code, 1, 'two companies and none named: refused')
  t.match(
    nobody.stderr,
    /^Not imported: Say which company with --company \(the companies: "(Alpha Advisers|Beta Bank)", "(Alpha Advisers|Beta Bank)"\)\n$/,
  )
  t.strictSame(await versions(undefined, other.id), [])
})

t.test('an OpenSanctions file cannot take the name of the OFAC or UN list, or of a list of another kind', async (t) => {
  const { db, company, admin, as } = await setup(t)
  const v = await as(admin)
  for (const name of ['un', 'ofac-sdn']) {
    const res = await upload(v, [fileOf(FIXTURE)], name)
    t.equal(res.statusCode, 422, name)
    t.match(visibleText(res.body), 'give the OpenSanctions list another name')
  }
  t.equal((await upload(v, [fileOf(UN_FILE)])).statusCode, 303)
  t.equal((await db('screening_list_versions').where({ company_id: company.id })).length, 1, 'only the UN list')
})
