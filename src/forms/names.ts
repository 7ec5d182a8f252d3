import type { FormErrors } from './form-errors.js'

/**
 * The bidirectional formatting characters that reorder the text around them: the embeddings and overrides
 * U+202A–U+202E and the isolates U+2066–U+2069. Invisible, and in a name they can make "Zoë ‮evil" read
 * "Zoë live", or a file "invoice‮fdp.exe" read "invoiceexe.pdf". Names refuse them; right-to-left
 * letters themselves are welcome and are isolated where a name is shown (`isolate`, `<bdi>`).
 */
export const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/

export const BIDI_CONTROL_MESSAGE =
  'Remove the invisible text-direction characters (such as U+202E) from the name: they make it display differently from how it is written'

/**
 * Checks a typed name (of a person, a client, a group, a service) and adds its problem to `errors`:
 * missing, longer than `max` characters, or holding text-direction control characters.
 */
export function checkName(errors: FormErrors, field: string, value: string, max: number, missing = 'Enter the name') {
  if (!value) errors.add(field, missing)
  else if (value.length > max) errors.add(field, `Enter a name of at most ${max.toLocaleString('en-GB')} characters`)
  else if (BIDI_CONTROL.test(value)) errors.add(field, BIDI_CONTROL_MESSAGE)
}

/**
 * A name set inside a sentence of plain text (an email, a status message, a page title), between the
 * Unicode isolates FSI and PDI when it holds right-to-left text: it then keeps to itself and leaves the
 * order of the sentence around it alone, as <bdi> does in HTML.
 */
export function isolate(name: string): string {
  return RIGHT_TO_LEFT.test(name) || BIDI_CONTROL.test(name) ? `\u2068${name}\u2069` : name
}

/**
 * Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, … and their presentation forms)
 * and the right-to-left marks: a name without any reads the same isolated or not, so it is left as it is.
 */
const RIGHT_TO_LEFT = /[\u0590-\u08FF\u200F\u061C\uFB1D-\uFDFF\uFE70-\uFEFF\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u
