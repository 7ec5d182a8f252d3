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

  /** The problems of `from` as problems of `to` (a rule about the whole user shown beside its name, say). */
  moved(from: string, to: string): this {
    for (const e of this.list) if (e.field === from) e.field = to
    return this
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
