/**
 * The shape of every request's query string and form body, declared per route with TypeBox and checked
 * by Fastify's validator before a handler runs: a value sent twice where one is expected, a NUL character
 * (PostgreSQL refuses it in text), a value far longer than any field, or a field a route does not know
 * never reaches a handler. What a value means (a real date, a known status) is still the handler's and
 * the service's to judge, with an error beside the field; this is only the envelope.
 *
 * Unknown fields are dropped, not refused (`additionalProperties: false` with Fastify's default
 * `removeAdditional`), so a stray parameter in a bookmarked URL does no harm.
 */
import { type TProperties, type TSchema, Type } from 'typebox'

/** No NUL character (U+0000): PostgreSQL cannot store it in text, so it would fail half-way. */
const NO_NUL = '^[^\\u0000]*$'

/** The longest value any form field takes (notes are the longest); longer is refused as malformed. */
export const MAX_FIELD = 20_000
/** The longest value any query parameter takes (searches, cursors, filters). */
export const MAX_PARAM = 1_000

/** One optional text value (a form field or a query parameter). */
export function one(maxLength = MAX_FIELD): TSchema {
  return Type.Optional(Type.String({ maxLength, pattern: NO_NUL }))
}

/** A field that may be sent any number of times (checkboxes, multi-selects): always an array. */
export function many(maxLength = 200): TSchema {
  return Type.Optional(Type.Array(Type.String({ maxLength, pattern: NO_NUL }), { maxItems: 10_000 }))
}

/** The query string of a route: these parameters, each at most once. */
export function query(params: TProperties = {}): TSchema {
  return Type.Object(params, { additionalProperties: false })
}

/**
 * The url-encoded body of a form: these fields plus the CSRF token (read by the guard) and the form's key
 * (`_once`, src/plugins/app/form-once.ts).
 */
export function formBody(fields: TProperties = {}): TSchema {
  return Type.Object({ _csrf: one(200), _once: one(100), ...fields }, { additionalProperties: false })
}

/** Fields of one form, shared by the route that shows it and the one that takes it. */
export function fields(names: readonly string[], maxLength = MAX_FIELD): TProperties {
  return Object.fromEntries(names.map((name) => [name, one(maxLength)]))
}

/** A UUID, as a pattern for the per-row part of a field name (`decision-<uuid>`). */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

/** A field that may be sent once or several times (a question answered by radios or by checkboxes). */
export function oneOrMany(maxLength: number, maxItems = 50): TSchema {
  return Type.Union([
    Type.String({ maxLength, pattern: NO_NUL }),
    Type.Array(Type.String({ maxLength, pattern: NO_NUL }), { maxItems }),
  ])
}

/**
 * A form body whose fields are also named per row, like `decision-<id>`: each name matching one of
 * `patterns` (a regular expression for the whole name) is one text value of at most its length, or a
 * value of the schema given.
 */
export function formBodyWithRows(fields: TProperties, patterns: Record<string, number | TSchema>): TSchema {
  return Type.Object(
    { _csrf: one(200), _once: one(100), ...fields },
    {
      additionalProperties: false,
      patternProperties: Object.fromEntries(
        Object.entries(patterns).map(([pattern, value]) => [
          pattern,
          typeof value === 'number' ? Type.String({ maxLength: value, pattern: NO_NUL }) : value,
        ]),
      ),
    },
  )
}
