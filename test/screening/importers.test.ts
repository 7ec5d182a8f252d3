/**
 * The list importers against the real files shipped in seeds/sanctions (copies of the project's shared data: a
 * 2021 OFAC snapshot and a UN consolidated list), an OpenSanctions fixture, and small broken inputs that must each be refused with the
 * line or element at fault.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import { type ListFile, parseListFiles, parseListPaths } from '../../src/screening/lists/parse.js'
import { SHIPPED_LISTS_DIR } from '../../src/screening/lists/shipped.js'
import { type ListEntry, ListFormatError, type ParsedList } from '../../src/screening/lists/types.js'

const DATA = SHIPPED_LISTS_DIR
const OFAC_FILES = ['ofac-sdn.csv', 'ofac-alt.csv', 'ofac-add.csv', 'ofac-sdn_comments.csv']
const REAL_FILES = [...OFAC_FILES, 'un-consolidated.xml'].map((file) => path.join(DATA, file))
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'opensanctions-targets.simple.csv')

const started = performance.now()
const [ofac, un] = await parseListPaths(REAL_FILES)
const elapsed = performance.now() - started

function entryOf(list: ParsedList | undefined, entryId: string): ListEntry | undefined {
  return list?.entries.find((entry) => entry.entryId === entryId)
}
const text = (name: string, content: string): ListFile => ({ name, open: () => Readable.from([Buffer.from(content)]) })

/** The ListFormatError the files are refused with (the test fails if they are accepted or fail otherwise). */
async function refusal(files: ListFile[]): Promise<ListFormatError | undefined> {
  try {
    await parseListFiles(files)
  } catch (error) {
    if (error instanceof ListFormatError) return error
    throw error
  }
  return undefined
}

t.test('the real files parse quickly, one list each, entries in file order', async (t) => {
  t.comment(`parsed OFAC (4 files) and UN in ${Math.round(elapsed)} ms`)
  // About a second alone; the bound leaves room for a machine busy with the rest of the suite.
  t.ok(elapsed < 10_000, `${Math.round(elapsed)} ms`)
  t.equal(ofac?.format, 'ofac-sdn')
  t.equal(un?.format, 'un')
  t.equal(ofac?.fileDate, undefined, 'OFAC CSV files carry no date')
  t.equal(un?.fileDate, '2026-02-27', "the root's dateGenerated")

  // Counted independently: the distinct ent_nums starting the sdn file's lines, the UN file's DATAIDs.
  const sdnLines = readFileSync(path.join(DATA, 'ofac-sdn.csv'), 'utf8').split('\r\n')
  const entNums = [...new Set(sdnLines.flatMap((line) => /^(\d+),/.exec(line)?.[1] ?? []))]
  t.equal(entNums.length, 8976)
  t.equal(ofac?.entries.length, 8976)
  t.same(
    ofac?.entries.map((entry) => entry.entryId),
    entNums,
    'in file order',
  )
  const unXml = readFileSync(path.join(DATA, 'un-consolidated.xml'), 'utf8')
  t.equal(un?.entries.length, 1003)
  t.equal(un?.entries.length, unXml.match(/<DATAID>/g)?.length)

  const schemas = (list?: ParsedList) => {
    const counts: Record<string, number> = {}
    for (const entry of list?.entries ?? []) counts[entry.schema] = (counts[entry.schema] ?? 0) + 1
    return counts
  }
  t.same(schemas(ofac), { organisation: 3673, individual: 4620, vessel: 406, aircraft: 277 })
  t.same(schemas(un), { individual: 730, organisation: 273 })
})

t.test('every OFAC alias of alt.csv is a strong name of its entry; weak ones come from Remarks', async (t) => {
  const missing: string[] = []
  for (const line of readFileSync(path.join(DATA, 'ofac-alt.csv'), 'utf8').split('\r\n')) {
    const [, entNum = '', name = ''] = /^(\d+),\d+,"[a-z]+","([^"]*)"/.exec(line) ?? []
    const names = entryOf(ofac, entNum)?.names ?? []
    if (entNum && !names.some((n) => n.name.toLowerCase() === name.toLowerCase() && n.quality === 'strong')) {
      missing.push(`${entNum} ${name}`)
    }
  }
  t.same(missing, [])
  const weak = ofac?.entries.flatMap((e) => e.names.filter((n) => n.quality === 'weak')) ?? []
  t.equal(weak.length, 2441, "every a.k.a. '…' and f.k.a. '…' of Remarks")
})

t.test('OFAC entries, field by field', async (t) => {
  t.same(entryOf(ofac, '306'), {
    entryId: '306',
    schema: 'organisation',
    topics: ['sanction'],
    name: 'BANCO NACIONAL DE CUBA',
    names: [
      { name: 'BANCO NACIONAL DE CUBA', quality: 'strong' },
      { name: 'NATIONAL BANK OF CUBA', quality: 'strong' },
      { name: 'BNC', quality: 'weak' },
    ],
    birthDates: [],
    countries: ['CH', 'ES', 'JP', 'PA'],
    programs: ['CUBA'],
    remarks: "a.k.a. 'BNC'.",
  })
  const rawi = entryOf(ofac, '10380')
  t.equal(rawi?.schema, 'individual')
  t.equal(rawi?.name, 'AL-RAWI, Fawzi Mutlaq', 'as written, LAST, First')
  t.same(rawi?.birthDates, ['1940'])
  t.same(rawi?.countries, ['IQ', 'SY'], 'nationality Iraq; citizen Syria')
  t.same(
    rawi?.names.map((n) => `${n.name}/${n.quality}`),
    ['AL-RAWI, Fawzi Mutlaq/strong', "AL-RAWI, Fawzi Isma'il Al-Husayni/strong", 'ABU FIRAS/weak', 'ABU AKRAM/weak'],
  )
  const naqdi = entryOf(ofac, '12057')
  t.same(naqdi?.birthDates, ['1951', '1952', '1953', '1960', '1961', '1962', '1961-04'], 'ranges become each year')
  t.same(naqdi?.programs, ['SDGT', 'NPWMD', 'IRGC', 'IFSR', 'IRAN-HR', 'IRAN-EO13876'], '"SDGT] [NPWMD] [..." split')
  t.same(entryOf(ofac, '7782')?.birthDates, ['1951'], 'DOB circa 1951')

  // Remarks cut at 1,000 characters go on in sdn_comments.csv, mid-word: a weak alias is split across both files.
  const tian = entryOf(ofac, '28263')
  t.same(
    tian?.names.filter((n) => n.quality === 'weak').map((n) => n.name),
    ['tianyinyin0404', 'snowsjohn'],
  )
  t.match(tian?.remarks, /a\.k\.a\. 'snowsjohn'; Linked To: LAZARUS GROUP\.$/)
  t.match(entryOf(ofac, '12300')?.remarks, /PROMO RAIZ S\.A\.S\.; Linked To: RED MUNDIAL/)

  t.same(entryOf(ofac, '4234'), {
    entryId: '4234',
    schema: 'vessel',
    topics: ['sanction'],
    name: 'HERMANN',
    names: [{ name: 'HERMANN', quality: 'strong' }],
    birthDates: [],
    countries: ['CU'],
    programs: ['CUBA'],
  })
  t.equal(entryOf(ofac, '15431')?.schema, 'aircraft')
})

t.test('UN entries, field by field', async (t) => {
  t.same(entryOf(un, '6907993'), {
    entryId: '6907993',
    schema: 'individual',
    topics: ['sanction'],
    name: 'ERIC BADEGE',
    names: [{ name: 'ERIC BADEGE', quality: 'strong' }],
    birthDates: ['1971'],
    countries: ['CD', 'RW'],
    programs: ['DRC'],
    remarks:
      'He fled to Rwanda in March 2013 and is still living there as of early 2016. INTERPOL-UN Security Council Special Notice web link:https://www.interpol.int/en/How-we-work/Notices/View-UN-Notices-Individuals',
  })
  t.same(entryOf(un, '6908048')?.names, [
    { name: 'SADDAM HUSSEIN AL-TIKRITI', quality: 'strong' },
    { name: 'صدام حسين التكريتي', quality: 'strong', originalScript: true },
    { name: 'Abu Ali', quality: 'weak' },
  ])
  t.same(
    entryOf(un, '6907995')?.names.map((n) => `${n.name}/${n.quality}`),
    [
      'GASTON IYAMUREMYE/strong',
      'Rumuli/weak',
      'Byiringiro Victor Rumuli/strong',
      'Victor Rumuri/strong',
      'Michel Byiringiro/strong',
    ],
    'Low → weak, Good and a.k.a. → strong',
  )
  t.same(entryOf(un, '110577')?.birthDates, [
    '1955',
    '1956',
    '1957',
    '1958',
    '1945',
    '1946',
    '1947',
    '1948',
    '1949',
    '1950',
  ])
  t.same(entryOf(un, '6907996')?.birthDates, ['1973-11'], 'a date given only in NOTE ("Nov. 1973")')
  const adf = entryOf(un, '6908402')
  t.equal(adf?.schema, 'organisation')
  t.same(adf?.countries, ['CD'])
  t.equal(adf?.names.length, 5)
})

t.test('the OpenSanctions fixture', async (t) => {
  const [list] = await parseListPaths([FIXTURE])
  t.equal(list?.format, 'opensanctions')
  t.equal(list?.fileDate, '2024-06-11', 'the latest last_change')
  t.equal(list?.entries.length, 12, '13 rows, the Security skipped')
  t.same(entryOf(list, 'NK-3kXHJ2oEAmhTRRJbjvqfKF'), {
    entryId: 'NK-3kXHJ2oEAmhTRRJbjvqfKF',
    schema: 'individual',
    topics: ['sanction', 'pep'],
    name: 'Vladimir Vladimirovich Putin',
    names: [
      { name: 'Vladimir Vladimirovich Putin', quality: 'strong' },
      { name: 'Putin, Vladimir Vladimirovich', quality: 'strong' },
      { name: 'Владимир Владимирович Путин', quality: 'strong', originalScript: true },
      { name: 'PUTIN, Vladimir', quality: 'strong' },
    ],
    birthDates: ['1952-10-07'],
    countries: ['RU'],
    programs: ['EU-UKR', 'GB-RUS'],
    remarks: 'EU: Council Regulation (EU) 269/2014; Annex I; UK: Russia sanctions; RUS0251',
  })
  t.same(entryOf(list, 'Q3052772')?.topics, ['pep'], 'a PEP dataset, no sanctions')
  t.same(entryOf(list, 'Q23530')?.topics, ['sanction', 'pep'], '"… and PEPs"')
  t.same(entryOf(list, 'NK-kosovo')?.topics, [], 'neither')
  t.same(entryOf(list, 'NK-kosovo')?.countries, ['XK'], '"zz" (global) is no country')
  t.same(entryOf(list, 'NK-abuali')?.countries, ['IR', 'IQ'], '"suhh" (Soviet Union) is no current country')
  t.same(entryOf(list, 'NK-abuali')?.birthDates, ['1971', '1972-03'])
  const kim = entryOf(list, 'NK-kimjongun')
  t.same(
    kim?.names.map((n) => n.name),
    ['Kim Jong Un', '김정은', 'Kim Jong-un'],
    'KIM JONG UN is Kim Jong Un',
  )
  t.equal(kim?.names[1]?.originalScript, true)
  t.same(
    entryOf(list, 'NK-rosneft')?.names.map((n) => n.name),
    ['Rosneft Oil Company', 'ПАО «НК «Роснефть»', 'Rosneft; Oil Company', 'PJSC "Rosneft Oil Company"'],
    'quoted values keep their ";" and quotes',
  )
  t.equal(entryOf(list, 'NK-rosneft')?.schema, 'organisation')
  t.equal(entryOf(list, 'NK-bnc')?.schema, 'organisation', 'LegalEntity')
  t.equal(entryOf(list, 'NK-adriandarya')?.schema, 'vessel')
  t.equal(entryOf(list, 'NK-ep-mnb')?.schema, 'aircraft')
  t.equal(entryOf(list, 'NK-security'), undefined)

  const header = 'id,schema,name,aliases,birth_date,countries,sanctions,dataset,last_change\n'
  const [older] = await parseListFiles([text('old.csv', `${header}x1,Person,A B,,,de,,Some Dataset,\n`)])
  t.same(older?.entries[0]?.programs, [], 'no program_ids column')
  t.equal(older?.fileDate, undefined)
})

t.test('files are recognised by content, in any order, one list per list', async (t) => {
  const sdn = text('sdn.csv', '1,"ONE CO",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n')
  const alt = text('renamed.csv', '1,10,"aka","UNO CO",-0- \r\n')
  const unXml = text(
    'list.xml',
    '<?xml version="1.0"?>\n<CONSOLIDATED_LIST><ENTITIES><ENTITY><DATAID>5</DATAID><FIRST_NAME>X CORP</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>',
  )
  const lists = await parseListFiles([unXml, alt, text('t.csv', readFileSync(FIXTURE, 'utf8')), sdn])
  t.same(
    lists.map((l) => `${l.format}:${l.entries.length}`),
    ['un:1', 'ofac-sdn:1', 'opensanctions:12'],
  )
  t.same(
    lists[1]?.entries[0]?.names.map((n) => n.name),
    ['ONE CO', 'UNO CO'],
    'the alt file told by its 5 columns',
  )
})

t.test('malformed inputs are refused, naming the line or element', async (t) => {
  const sdnRow = (id: string) => `${id},"NAME ${id}",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n`
  const sdn = text('ofac-sdn.csv', sdnRow('1') + sdnRow('2'))
  const alt = (rows: string) => text('ofac-alt.csv', rows)
  const un = (body: string) => text('un.xml', `<CONSOLIDATED_LIST>${body}</CONSOLIDATED_LIST>`)
  const person = (id: string, inside = '') =>
    `<INDIVIDUAL>${id ? `<DATAID>${id}</DATAID>` : ''}<FIRST_NAME>A</FIRST_NAME>${inside}</INDIVIDUAL>`
  const osHeader = readFileSync(FIXTURE, 'utf8').split('\n')[0]
  const os = (row: string) => text('t.csv', `${osHeader}\n${row}\n`)
  const cases: [string, ListFile[], RegExp][] = [
    ['wrong column count', [text('ofac-sdn.csv', `${sdnRow('1')}2,"X",-0- \r\n`)], /^ofac-sdn\.csv line 2$/],
    ['ent_num not an integer', [text('ofac-sdn.csv', sdnRow('1') + sdnRow('2a'))], /^ofac-sdn\.csv line 2$/],
    ['an ent_num twice', [text('ofac-sdn.csv', sdnRow('1') + sdnRow('1'))], /^ofac-sdn\.csv line 2$/],
    ['unknown SDN_Type', [text('sdn.csv', sdnRow('1').replace('-0- ,"SDGT"', '"person","SDGT"'))], /line 1$/],
    ['alt row of no entry', [sdn, alt('1,1,"aka","A",-0- \r\n3,2,"aka","B",-0- \r\n')], /alt\.csv line 2$/],
    ['unknown alt_type', [sdn, alt('1,1,"alias","A",-0- \r\n')], /alt\.csv line 1$/],
    ['alt file without sdn', [alt('1,1,"aka","A",-0- \r\n')], /^ofac-alt\.csv$/],
    ['rows after Ctrl-Z', [text('ofac-sdn.csv', `${sdnRow('1')}\x1a\r\n${sdnRow('2')}`)], /sdn\.csv line 3$/],
    ['quote not closed', [text('ofac-sdn.csv', `${sdnRow('1')}2,"NAME\r\n`)], /^ofac-sdn\.csv line \d+$/],
    ['empty file', [text('empty.csv', '  \n')], /^empty\.csv$/],
    ['a list without entries', [text('list.xml', '<CONSOLIDATED_LIST><ENTITIES/></CONSOLIDATED_LIST>')], /^list\.xml$/],
    [
      'two UN files',
      [un(person('7')), text('un2.xml', `<CONSOLIDATED_LIST>${person('8')}</CONSOLIDATED_LIST>`)],
      /^un2\.xml$/,
    ],
    ['unknown content', [text('notes.txt', 'hello world\n')], /^notes\.txt line 1$/],
    ['unknown XML root', [text('sdn.xml', '<?xml version="1.0"?>\n<sdnList></sdnList>')], /sdn\.xml line 2: sdnList$/],
    [
      'XML not well-formed',
      [text('un.xml', `<CONSOLIDATED_LIST><INDIVIDUALS>${person('7').replace('</INDIVIDUAL>', '')}</INDIVIDUALS>`)],
      /^un\.xml line 1: INDIVIDUAL 1 \(DATAID 7\)$/,
    ],
    [
      'INDIVIDUAL without DATAID',
      [un(`<INDIVIDUALS>\n${person('1')}\n${person('')}</INDIVIDUALS>`)],
      /^un\.xml line 3: INDIVIDUAL 2$/,
    ],
    [
      'BETWEEN without TO_YEAR',
      [
        un(
          `<INDIVIDUALS>${person('9', '<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1960</FROM_YEAR></INDIVIDUAL_DATE_OF_BIRTH>')}</INDIVIDUALS>`,
        ),
      ],
      /INDIVIDUAL 1 \(DATAID 9\) > INDIVIDUAL_DATE_OF_BIRTH$/,
    ],
    [
      'unknown alias quality',
      [un(`<INDIVIDUALS>${person('5', '<INDIVIDUAL_ALIAS><QUALITY>Bad</QUALITY></INDIVIDUAL_ALIAS>')}</INDIVIDUALS>`)],
      /INDIVIDUAL 1 \(DATAID 5\) > INDIVIDUAL_ALIAS$/,
    ],
    [
      'XML not UTF-8',
      [{ name: 'un.xml', open: () => Readable.from([Buffer.from([0x3c, 0x41, 0xff, 0x3e])]) }],
      /^un\.xml/,
    ],
    ['OpenSanctions row too short', [os('x,Person')], /^t\.csv line 2$/],
    ['OpenSanctions header lacks columns', [text('t.csv', 'id,schema,name\nx,Person,A\n')], /^t\.csv line 1$/],
    ['OpenSanctions bad birth date', [os('x,Person,A,,12/01/1960,,,,,,,,,,,')], /^t\.csv line 2$/],
    ['OpenSanctions broken nested cell', [os('x,Person,A,"""B;C",,,,,,,,,,,,')], /^t\.csv line 2$/],
  ]
  for (const [what, files, location] of cases) {
    const error = await refusal(files)
    t.ok(error, `${what}: refused`)
    t.match(error?.location, location, `${what}: ${error?.message}`)
  }
  const missing = await parseListPaths([path.join(DATA, 'no-such-file.csv')]).catch((error: unknown) => error)
  t.ok(missing instanceof ListFormatError, 'a file that cannot be read')
})

t.test('parsing is deterministic and names are unique per entry', async (t) => {
  const again = await parseListPaths([...REAL_FILES].reverse())
  const withoutFiles = (lists: (ParsedList | undefined)[]) => lists.map((l) => ({ ...l, files: undefined }))
  t.same(
    withoutFiles(again),
    withoutFiles([un, ofac]),
    'the same lists, whatever the order of the files (lists follow the first file given)',
  )
  const duplicated = [ofac, un]
    .flatMap((list) => list?.entries ?? [])
    .filter((e) => new Set(e.names.map((n) => n.name.toLowerCase())).size !== e.names.length)
  t.same(duplicated, [])
  t.ok(
    [ofac, un].every((list) => list?.entries.every((e) => e.names[0]?.name === e.name)),
    'the primary name first',
  )
})
