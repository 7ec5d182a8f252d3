/**
 * The importers' entry point: give it the files of one or more lists, in any order, and it tells which list each
 * file is, streams it through the right importer and returns one ParsedList per list. Whatever is wrong with a
 * file comes back as a ListFormatError naming the file and line (or element): an import is refused whole,
 * never half-done.
 */
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { pipeline, type Readable } from 'node:stream'
import { CsvError, parse } from 'csv-parse'
import { parse as parseSync } from 'csv-parse/sync'
import { OFAC_COLUMNS, OfacList, type OfacPart } from './ofac.js'
import { OpenSanctionsList } from './opensanctions.js'
import { type EntryName, ListFormatError, type ParsedList } from './types.js'
import { readUnList } from './un.js'

export interface ListFile {
  /** The file's name (or path), for errors; for OFAC's files also what tells sdn, alt, add and comments apart. */
  name: string
  /** A new stream of the file's bytes (or text) each time it is called: a file is read twice, head then whole. */
  open(): NodeJS.ReadableStream | Readable
}

type Kind = { format: 'un' } | { format: 'opensanctions' } | { format: 'ofac-sdn'; part: OfacPart }

/** How much of a file is read to recognise it: enough for an XML declaration or a CSV row. */
const HEAD_CHARS = 4096
/** DOS's end-of-file mark, which OFAC's legacy files still end with, on a line of its own. */
const EOF_MARK = '\x1a'
/** Guards the parser against a stray quote that would make the rest of a file one field. */
const MAX_RECORD_CHARS = 1_000_000
/** OFAC's files are read in this order: the others need the entries of the sdn file, alt and add the full Remarks. */
const OFAC_ORDER: OfacPart[] = ['sdn', 'comments', 'alt', 'add']

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error))
const readError = (file: ListFile, error: unknown) =>
  new ListFormatError(`cannot read the file: ${reasonOf(error)}`, file.name)

/** Parses the files of one or more lists; the lists come back in the order their first file was given. */
export async function parseListFiles(files: ListFile[]): Promise<ParsedList[]> {
  const recognised: { file: ListFile; kind: Kind }[] = []
  for (const file of files) recognised.push({ file, kind: await recognise(file) })
  const ofacFiles = recognised.flatMap(({ file, kind }) =>
    kind.format === 'ofac-sdn' ? [{ file, part: kind.part }] : [],
  )

  // One import is one version of each list: two files of one list that is a single file are refused.
  for (const format of ['un', 'opensanctions'] as const) {
    const [, second] = recognised.filter(({ kind }) => kind.format === format)
    if (second)
      throw new ListFormatError(
        `a second ${format === 'un' ? 'UN' : 'OpenSanctions'} file: import one at a time`,
        second.file.name,
      )
  }
  const lists: ParsedList[] = []
  for (const { file, kind } of recognised) {
    if (kind.format === 'un') lists.push({ ...(await readUnList(file.open(), file.name)), files: [file.name] })
    else if (kind.format === 'opensanctions') lists.push({ ...(await readOpenSanctions(file)), files: [file.name] })
    else if (file === ofacFiles[0]?.file)
      lists.push({ ...(await readOfac(ofacFiles)), files: ofacFiles.map((f) => f.file.name) })
  }
  // A list is never emptied by an import: a file without entries is a mistake (a header, a cut download).
  for (const list of lists)
    if (list.entries.length === 0)
      throw new ListFormatError('the file holds no entries, so it was not imported', (list.files ?? []).join(', '))
  return lists.map(tidy)
}

/** parseListFiles for files on disk (the CLI). */
export async function parseListPaths(paths: string[]): Promise<ParsedList[]> {
  return parseListFiles(paths.map((filePath) => ({ name: filePath, open: () => createReadStream(filePath) })))
}

/** Which list a file belongs to, from its first line: XML, an OpenSanctions header, or an OFAC row. */
async function recognise(file: ListFile): Promise<Kind> {
  const head = (await readHead(file)).replace(/^\uFEFF/, '').trimStart()
  if (head === '') throw new ListFormatError('the file is empty', file.name)
  // un.ts checks the root element is the UN's and refuses any other XML.
  if (head.startsWith('<')) return { format: 'un' }
  const firstLine = head.split(/\r?\n/, 1)[0] ?? ''
  if (/^"?id"?,"?schema"?,"?name"?(,|$)/i.test(firstLine)) return { format: 'opensanctions' }
  if (/^"?\d+"?,/.test(firstLine)) return { format: 'ofac-sdn', part: ofacPart(file.name, firstLine) }
  throw new ListFormatError(
    'not a list this importer reads (the UN XML, OFAC legacy CSV, OpenSanctions targets.simple.csv)',
    `${file.name} line 1`,
  )
}

/** Which of OFAC's files this is: by its name (sdn.csv, alt.csv, add.csv, sdn_comments.csv), else by its columns. */
function ofacPart(name: string, firstLine: string): OfacPart {
  const base = path.basename(name).toLowerCase()
  if (base.includes('comment')) return 'comments'
  if (/(^|[^a-z])alt([^a-z]|$)/.test(base)) return 'alt'
  if (/(^|[^a-z])add([^a-z]|$)/.test(base)) return 'add'
  if (base.includes('sdn')) return 'sdn'
  let columns = 0
  try {
    columns = parseSync(firstLine, { relax_column_count: true, relax_quotes: true })[0]?.length ?? 0
  } catch {
    // An unreadable first row: no column count to go by, said below.
  }
  const part = OFAC_ORDER.find((candidate) => OFAC_COLUMNS[candidate] === columns)
  if (part) return part
  throw new ListFormatError(
    'an OFAC file, but neither its name (sdn, alt, add, comments) nor its columns say which',
    `${name} line 1`,
  )
}

/** The first line or so of a file, the stream then closed. */
async function readHead(file: ListFile): Promise<string> {
  const decoder = new TextDecoder()
  let head = ''
  try {
    for await (const chunk of file.open()) {
      head += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
      if (head.length >= HEAD_CHARS || /\S.*\n/.test(head)) break
    }
  } catch (error) {
    throw readError(file, error)
  }
  return head
}

/** A CSV file's records with where each starts ("file line N"), streamed. */
async function* csvRecords(file: ListFile): AsyncGenerator<{ record: string[]; at: string }> {
  const parser = parse({ info: true, bom: true, relax_column_count: true, max_record_size: MAX_RECORD_CHARS })
  // A read error of the source destroys the parser with it, so it surfaces in the loop below.
  pipeline(file.open(), parser, () => {})
  let lastLine = 0
  let ended = false
  try {
    for await (const item of parser) {
      const { info, record } = item as { info: { lines: number }; record: string[] }
      const at = `${file.name} line ${lastLine + 1}`
      lastLine = info.lines
      if (record.length === 1 && record[0] === '') continue
      if (ended) throw new ListFormatError('data after the end-of-file mark (Ctrl-Z)', at)
      if (record.length === 1 && record[0] === EOF_MARK) {
        ended = true
        continue
      }
      yield { record, at }
    }
  } catch (error) {
    if (error instanceof ListFormatError) throw error
    if (error instanceof CsvError) {
      const line = typeof error.lines === 'number' ? error.lines : lastLine + 1
      throw new ListFormatError(error.message, `${file.name} line ${line}`)
    }
    throw readError(file, error)
  }
}

async function readOpenSanctions(file: ListFile): Promise<ParsedList> {
  const list = new OpenSanctionsList()
  for await (const { record, at } of csvRecords(file)) list.add(record, at)
  return list.finish(`${file.name} line 1`)
}

async function readOfac(files: { file: ListFile; part: OfacPart }[]): Promise<ParsedList> {
  const [first] = files
  const sdn = files.filter(({ part }) => part === 'sdn')
  if (first && sdn.length === 0) {
    throw new ListFormatError(`an OFAC ${first.part} file needs the OFAC sdn file it goes with`, first.file.name)
  }
  const list = new OfacList()
  for (const part of OFAC_ORDER) {
    const ofPart = files.filter((file) => file.part === part)
    const second = ofPart[1]
    if (second) throw new ListFormatError(`a second OFAC ${part} file: give one set of OFAC files`, second.file.name)
    for (const { file } of ofPart) {
      for await (const { record, at } of csvRecords(file)) list.add(part, record, at)
    }
  }
  return list.finish()
}

/**
 * The same rules for every list: names deduplicated case-insensitively (the first spelling kept, strong if any
 * copy is strong), dates, countries, programmes and topics deduplicated, all in the order first seen.
 */
function tidy(list: ParsedList): ParsedList {
  return {
    ...list,
    entries: list.entries.map((entry) => ({
      ...entry,
      topics: [...new Set(entry.topics)],
      names: uniqueNames(entry.names),
      birthDates: [...new Set(entry.birthDates)],
      countries: [...new Set(entry.countries)],
      programs: [...new Set(entry.programs)],
    })),
  }
}

function uniqueNames(names: EntryName[]): EntryName[] {
  const byKey = new Map<string, EntryName>()
  for (const { name, quality, originalScript } of names) {
    const trimmed = name.trim()
    const key = trimmed.replace(/\s+/g, ' ').toLowerCase()
    if (!key) continue
    const seen = byKey.get(key)
    if (!seen) byKey.set(key, originalScript ? { name: trimmed, quality, originalScript } : { name: trimmed, quality })
    else if (quality === 'strong') seen.quality = 'strong'
  }
  return [...byKey.values()]
}
