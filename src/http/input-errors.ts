import type { FastifySchemaValidationError } from 'fastify/types/schema.js'

/**
 * What was wrong with a request's shape, in words a person can act on: the schema errors of
 * src/http/schemas.ts (a value sent twice, a NUL character, a value too long) named by their field.
 */
export function describeInputErrors(errors: readonly FastifySchemaValidationError[], where?: string): string[] {
  return errors.map((error) => {
    const field = error.instancePath.split('/').filter(Boolean)[0]
    const name = field ? `“${field}”` : where === 'querystring' ? 'The address' : 'The form'
    const params = error.params as Record<string, unknown>
    switch (error.keyword) {
      case 'type':
        return field ? `${name} was sent more than once, or in a form that is not text` : `${name} could not be read`
      case 'pattern':
        return `${name} contains a character that is not allowed (a NUL character)`
      case 'maxLength':
        return `${name} is longer than ${Number(params.limit).toLocaleString('en-GB')} characters`
      case 'maxItems':
        return `${name} has more than ${Number(params.limit).toLocaleString('en-GB')} values`
      default:
        return `${name} is not valid`
    }
  })
}
