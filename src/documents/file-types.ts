import { fileTypeFromBuffer } from 'file-type'

/** What may be uploaded, by the type detected from the bytes (never from the name or the browser's word). */
export const ALLOWED_TYPES: ReadonlyMap<string, string> = new Map([
  ['application/pdf', 'PDF'],
  ['image/png', 'PNG image'],
  ['image/jpeg', 'JPEG image'],
  ['image/tiff', 'TIFF image'],
  ['image/webp', 'WebP image'],
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'Word document'],
  ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'Excel workbook'],
  ['application/vnd.oasis.opendocument.text', 'OpenDocument text'],
  ['text/plain', 'Plain text'],
])

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

/** The media type of an upload from its first bytes, or undefined when it is not allowed. */
export async function detectAllowedType(head: Buffer): Promise<string | undefined> {
  const detected = await fileTypeFromBuffer(head)
  if (detected) return ALLOWED_TYPES.has(detected.mime) ? detected.mime : undefined
  return looksLikeText(head) ? 'text/plain' : undefined
}
