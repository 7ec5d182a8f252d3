/**
 * The UN Security Council consolidated list (XML), read as a stream of SAX events: the file is never held whole,
 * only the entry being read. Each INDIVIDUAL or ENTITY becomes a ListEntry when its closing tag is seen.
 */
import { SaxesParser } from 'saxes'
import { countryCode } from './countries.js'
import { type EntryName, type ListEntry, ListFormatError, type ParsedList } from './types.js'

const ROOT = 'CONSOLIDATED_LIST'
/** Where entries sit: CONSOLIDATED_LIST > INDIVIDUALS > INDIVIDUAL, CONSOLIDATED_LIST > ENTITIES > ENTITY. */
const RECORDS: Record<string, { parent: string; schema: ListEntry['schema'] }> = {
  INDIVIDUAL: { parent: 'INDIVIDUALS', schema: 'individual' },
  ENTITY: { parent: 'ENTITIES', schema: 'organisation' },
}
const NAME_PARTS = ['FIRST_NAME', 'SECOND_NAME', 'THIRD_NAME', 'FOURTH_NAME']
/** Alias qualities as the UN writes them. "Low" aliases are the UN's weak ones; an empty quality goes with an empty alias. */
const QUALITIES: Record<string, EntryName['quality']> = {
  Good: 'strong',
  'a.k.a.': 'strong',
  'f.k.a.': 'strong',
  '': 'strong',
  Low: 'weak',
}
const DATE_TYPES = new Set(['', 'EXACT', 'APPROXIMATELY', 'BETWEEN'])
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

interface Draft {
  tag: string
  index: number
  dataId?: string
  parts: Map<string, string>
  names: EntryName[]
  birthDates: string[]
  countries: string[]
  programs: string[]
  remarks?: string
}

/** The children of the element being read (an alias or a date of birth), by tag. */
type Fields = Map<string, string>

const squash = (text: string) => text.replace(/\s+/g, ' ').trim()

/** Reads the UN consolidated list from a byte or text stream; `fileName` names the file in errors. */
export async function readUnList(source: AsyncIterable<unknown>, fileName: string): Promise<ParsedList> {
  const parser = new SaxesParser()
  const stack: string[] = []
  const entries: ListEntry[] = []
  const counts = new Map<string, number>()
  let fileDate: string | undefined
  let draft: Draft | undefined
  let fields: Fields | undefined
  let text = ''

  // "un.xml line 812: INDIVIDUAL 57 (DATAID 6908123) > INDIVIDUAL_DATE_OF_BIRTH": the entry and the element within it.
  const describe = (entry: Draft | undefined, elements: string[]): string => {
    const path = entry
      ? [`${entry.tag} ${entry.index}${entry.dataId ? ` (DATAID ${entry.dataId})` : ''}`, ...elements.slice(3)]
      : elements
    return `${fileName} line ${parser.line}${path.length > 0 ? `: ${path.join(' > ')}` : ''}`
  }
  const where = () => describe(draft, stack)
  // saxes reports a mismatched close tag after handing us the element it closed: that element is the place.
  let closing: { entry: Draft | undefined; tag: string } | undefined
  const fail = (message: string): never => {
    throw new ListFormatError(message, where())
  }

  parser.on('opentag', (tag) => {
    stack.push(tag.name)
    text = ''
    if (stack.length === 1) {
      if (tag.name !== ROOT) fail(`the root element is <${tag.name}>, not the UN's <${ROOT}>`)
      const generated = /^\d{4}-\d{2}-\d{2}/.exec(tag.attributes.dateGenerated ?? '')
      fileDate = generated?.[0]
    }
    const record = RECORDS[tag.name]
    if (record && stack.length === 3 && stack[1] === record.parent) {
      const index = (counts.get(tag.name) ?? 0) + 1
      counts.set(tag.name, index)
      draft = { tag: tag.name, index, parts: new Map(), names: [], birthDates: [], countries: [], programs: [] }
    } else if (draft && stack.length === 4 && /_ALIAS$|_DATE_OF_BIRTH$/.test(tag.name)) {
      fields = new Map()
    }
  })
  const addText = (chunk: string) => {
    text += chunk
  }
  parser.on('text', addText)
  parser.on('cdata', addText)
  parser.on('closetag', (tag) => {
    closing = { entry: draft, tag: tag.name }
    if (draft) closeInDraft(draft, tag.name)
    stack.pop()
    text = ''
  })

  function closeInDraft(entry: Draft, tagName: string) {
    const value = squash(text)
    if (stack.length === 3) {
      entries.push(finish(entry))
      draft = undefined
    } else if (stack.length === 4) {
      if (tagName === 'DATAID') entry.dataId = value
      else if (NAME_PARTS.includes(tagName) && value) entry.parts.set(tagName, value)
      else if (tagName === 'NAME_ORIGINAL_SCRIPT' && value)
        entry.names.push({ name: value, quality: 'strong', originalScript: true })
      else if (tagName === 'UN_LIST_TYPE' && value) entry.programs.push(value)
      else if (tagName === 'COMMENTS1' && value) entry.remarks = text.trim()
      else if (tagName.endsWith('_ALIAS') && fields) alias(entry, fields)
      else if (tagName.endsWith('_DATE_OF_BIRTH') && fields) entry.birthDates.push(...birthDates(fields))
      if (fields && /_ALIAS$|_DATE_OF_BIRTH$/.test(tagName)) fields = undefined
    } else if (fields && stack.length === 5) {
      fields.set(tagName, value)
    } else if (
      value &&
      (stack[3] === 'NATIONALITY' || stack[3]?.endsWith('_ADDRESS')) &&
      /^(VALUE|COUNTRY)$/.test(tagName)
    ) {
      // Nationalities and address countries; a place of birth is not a country the person is tied to now.
      const code = countryCode(value)
      if (code) entry.countries.push(code)
    }
  }

  function finish(entry: Draft): ListEntry {
    if (!entry.dataId) return fail('no DATAID')
    if (!/^\d+$/.test(entry.dataId)) return fail(`DATAID "${entry.dataId}" is not a number`)
    const name = NAME_PARTS.map((part) => entry.parts.get(part))
      .filter((part) => part !== undefined)
      .join(' ')
    if (!name) return fail('no name (FIRST_NAME is empty)')
    return {
      entryId: entry.dataId,
      schema: RECORDS[entry.tag]?.schema ?? 'organisation',
      topics: ['sanction'],
      name,
      names: [{ name, quality: 'strong' }, ...entry.names],
      birthDates: entry.birthDates,
      countries: entry.countries,
      programs: entry.programs,
      ...(entry.remarks ? { remarks: entry.remarks } : {}),
    }
  }

  function alias(entry: Draft, alias: Fields) {
    const quality = alias.get('QUALITY') ?? ''
    const name = alias.get('ALIAS_NAME') ?? ''
    const strength = QUALITIES[quality]
    if (!strength) return fail(`unknown alias QUALITY "${quality}"`)
    if (name) entry.names.push({ name, quality: strength })
    const born = alias.get('DATE_OF_BIRTH')
    if (born) {
      if (!/^\d{4}(-\d{2}-\d{2})?$/.test(born)) return fail(`alias DATE_OF_BIRTH "${born}" is not a date`)
      entry.birthDates.push(born)
    }
  }

  function birthDates(dob: Fields): string[] {
    const type = dob.get('TYPE_OF_DATE') ?? ''
    if (!DATE_TYPES.has(type)) return fail(`unknown TYPE_OF_DATE "${type}"`)
    const date = dob.get('DATE')
    if (date) return /^\d{4}-\d{2}-\d{2}$/.test(date) ? [date] : fail(`DATE "${date}" is not YYYY-MM-DD`)
    if (type === 'BETWEEN') {
      const from = Number(dob.get('FROM_YEAR'))
      const to = Number(dob.get('TO_YEAR'))
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1000 || to < from || to - from > 50) {
        return fail(
          `BETWEEN needs FROM_YEAR and TO_YEAR, in order (got ${dob.get('FROM_YEAR')}, ${dob.get('TO_YEAR')})`,
        )
      }
      return Array.from({ length: to - from + 1 }, (_, i) => String(from + i))
    }
    const year = dob.get('YEAR')
    if (year) return /^\d{4}$/.test(year) ? [year] : fail(`YEAR "${year}" is not a year`)
    // A few dates sit in NOTE alone ("Nov. 1973", "August 1961"); other notes ("30-35 years old") are not dates.
    const note = /^([A-Za-z]{3,})\.? (\d{4})$/.exec(dob.get('NOTE') ?? '')
    const month = note ? MONTHS.indexOf((note[1] ?? '').slice(0, 3).toLowerCase()) : -1
    return note && month >= 0 ? [`${note[2]}-${String(month + 1).padStart(2, '0')}`] : []
  }

  const decoder = new TextDecoder('utf-8', { fatal: true })
  // Errors of the XML itself (saxes throws them from write and close) become ListFormatErrors naming the element.
  const feed = (write: () => void) => {
    try {
      write()
    } catch (error) {
      if (error instanceof ListFormatError) throw error
      const message = error instanceof Error ? error.message : String(error)
      if (error instanceof TypeError) fail('not UTF-8 text')
      const at = closing && / close tag/.test(message) ? describe(closing.entry, [...stack, closing.tag]) : where()
      // saxes prefixes its messages with "line:column:"; the location says where already.
      throw new ListFormatError(`not well-formed XML: ${message.replace(/^\d+:\d+: /, '')}`, at)
    }
  }
  try {
    for await (const chunk of source) {
      if (typeof chunk === 'string') feed(() => parser.write(chunk))
      else if (chunk instanceof Uint8Array) feed(() => parser.write(decoder.decode(chunk, { stream: true })))
      else fail('the stream gave neither text nor bytes')
    }
  } catch (error) {
    if (error instanceof ListFormatError) throw error
    throw new ListFormatError(
      `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
      fileName,
    )
  }
  feed(() => parser.write(decoder.decode()).close())
  return { format: 'un', ...(fileDate ? { fileDate } : {}), entries }
}
