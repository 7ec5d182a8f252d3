import { fileTypeFromBuffer } from 'file-type'

/**
 * What may be uploaded, by the type detected from the bytes (never from the name or the browser's word), with
 * the file name extensions of each type (the first is the one a download's name gets when it has none of them).
 * Markup is not on the list and never will be by accident: HTML, SVG and XML can run script when opened.
 */
export const ALLOWED_TYPES: ReadonlyMap<string, { label: string; extensions: readonly string[] }> = new Map([
  ['application/pdf', { label: 'PDF', extensions: ['.pdf'] }],
  ['image/png', { label: 'PNG image', extensions: ['.png'] }],
  ['image/jpeg', { label: 'JPEG image', extensions: ['.jpg', '.jpeg'] }],
  ['image/tiff', { label: 'TIFF image', extensions: ['.tif', '.tiff'] }],
  ['image/webp', { label: 'WebP image', extensions: ['.webp'] }],
  [
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    { label: 'Word document', extensions: ['.docx'] },
  ],
  [
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    { label: 'Excel workbook', extensions: ['.xlsx'] },
  ],
  ['application/vnd.oasis.opendocument.text', { label: 'OpenDocument text', extensions: ['.odt'] }],
  ['text/plain', { label: 'Plain text', extensions: ['.txt', '.csv'] }],
])

/**
 * The name a document is downloaded under: its own, with the extension of its detected type added when it
 * does not already end in one ("page.html" of plain text downloads as "page.html.txt"), so that what the
 * reader's computer opens it with follows what the bytes are, not what the uploader named them.
 */
export function downloadName(originalName: string, mediaType: string): string {
  const extensions = ALLOWED_TYPES.get(mediaType)?.extensions
  if (!extensions?.[0]) return originalName
  const lower = originalName.toLowerCase()
  return extensions.some((ext) => lower.endsWith(ext)) ? originalName : `${originalName}${extensions[0]}`
}

/**
 * Whether text is markup a browser would render as a page or an image (HTML, SVG, XML): the first thing in
 * it, after a byte order mark and white space, is one of the tags the WHATWG MIME sniffing standard treats
 * as HTML ("the HTML patterns"), an XML declaration, or an <svg> element.
 */
export function looksLikeMarkup(text: string): boolean {
  const start = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .slice(0, 64)
    .toLowerCase()
  return /^<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg|\?xml)(?:[\s>/]|$)|^<!--/.test(
    start,
  )
}

export const ALLOWED_DESCRIPTION = 'PDF, PNG, JPEG, TIFF, WebP, Word, Excel, OpenDocument text or plain text'

/** C0 controls and DEL. */
export function isControlCharacter(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0
  return code < 0x20 || code === 0x7f
}

/** Plain text has no signature: valid UTF-8 without control characters other than tab and line breaks. */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head)
  // A cut multi-byte character at the very end of the head is fine; anything else undecodable is not.
  const body = text.endsWith('\uFFFD') ? text.slice(0, -1) : text
  return !body.includes('\uFFFD') && ![...body].some((ch) => isControlCharacter(ch) && !'\t\n\r'.includes(ch))
}

/** The markup types file-type may detect from a signature (Word and Excel files are zipped XML, not these). */
const MARKUP_TYPES = new Set(['application/xml', 'text/xml', 'image/svg+xml', 'text/html', 'application/xhtml+xml'])

/**
 * The media type of an upload from its first bytes: an allowed type, 'markup' for HTML, SVG or XML (refused
 * with its own reason), or undefined for anything else that is not allowed.
 */
export async function detectAllowedType(head: Buffer): Promise<string | 'markup' | undefined> {
  const detected = await fileTypeFromBuffer(head)
  if (detected) {
    if (MARKUP_TYPES.has(detected.mime)) return 'markup'
    return ALLOWED_TYPES.has(detected.mime) ? detected.mime : undefined
  }
  if (!looksLikeText(head)) return undefined
  return looksLikeMarkup(new TextDecoder('utf-8').decode(head)) ? 'markup' : 'text/plain'
}
