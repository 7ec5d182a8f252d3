/** One problem with one field of a form: shown in the error summary (linked to #<field>) and beside it. */
export interface FieldError {
  field: string
  message: string
}

export class FormErrors {
  readonly list: FieldError[] = []

  add(field: string, message: string): this {
    if (!this.for(field)) this.list.push({ field, message })
    return this
  }

  for(field: string): string | undefined {
    return this.list.find((e) => e.field === field)?.message
  }

  get any(): boolean {
    return this.list.length > 0
  }
}

/** A form field's value as a trimmed string ('' when absent or not a string). */
export function text(body: unknown, field: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[field]
  return typeof value === 'string' ? value.trim() : ''
}
