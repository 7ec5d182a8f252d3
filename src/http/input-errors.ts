import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import type { FieldError } from '../forms/form-errors.js'

/**
 * What was wrong with a request's shape, in words a person can act on: the schema errors of
 * src/http/schemas.ts (a value sent twice, a NUL character, a value too long) named by their field.
 */
export function describeInputErrors(errors: readonly FastifySchemaValidationError[], where?: string): string[] {
  return inputFieldErrors(errors, where).map((e) => e.message)
}

/** The same, each with the field it is about ('' when about the whole request): for a form's error summary. */
export function inputFieldErrors(errors: readonly FastifySchemaValidationError[], where?: string): FieldError[] {
  return errors.map((error) => {
    const field = error.instancePath.split('/').filter(Boolean)[0] ?? ''
    return { field, message: describeOne(error, field, where) }
  })
}

function describeOne(error: FastifySchemaValidationError, field: string, where?: string): string {
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
}
