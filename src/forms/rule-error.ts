import type { FastifyReply, FastifyRequest } from 'fastify'
import { FormErrors } from './form-errors.js'

/**
 * A rule refused what a form asked for (a permission not held, the last administrator, a name taken, a
 * client changed by someone else since the form was shown). Services throw it; the error handler
 * (src/plugins/app/errors.ts) is the only place that turns it into an answer: the route's own form again,
 * with the message in the error summary linked to `field` and beside it, and what was typed kept.
 *
 * `status` is 422 (the request was understood and refused), or 409 when the refusal comes from a change
 * someone else made meanwhile (the client was saved by another user; the last other administrator was
 * removed a moment ago), so the person looks again rather than retypes, or 403 when the rule is about who
 * the person is (they checked this search, so someone else must approve it).
 */
export class RuleError extends Error {
  /** Every problem found, each with its field (a form's checks may find several at once). */
  readonly errors: FormErrors
  readonly status: 403 | 409 | 422
  /** What the form is shown with again, when the rule found something newer (the stored client, say). */
  readonly current?: unknown

  constructor(field: string, message: string, options: RuleErrorOptions = {}) {
    super(message)
    this.name = 'RuleError'
    this.errors = new FormErrors().add(field, message)
    this.status = options.status ?? 422
    this.current = options.current
  }

  /** Refuses the form with every problem its checks found, if they found any. */
  static throwIf(errors: FormErrors, options: RuleErrorOptions = {}): void {
    const [first, ...rest] = errors.list
    if (!first) return
    const error = new RuleError(first.field, first.message, options)
    for (const p of rest) error.errors.add(p.field, p.message)
    throw error
  }
}

interface RuleErrorOptions {
  /** 409 when someone else changed what the form was about since it was shown; 403 when it is about who acts; 422 otherwise. */
  status?: 403 | 409 | 422
  current?: unknown
}

/**
 * How a route shows its form again after a refusal: declared in the route's options
 * (`config: { access, form: rerender }`), called by the error handler with the problems found, either by
 * the body's schema (src/http/schemas.ts) or by a rule (RuleError). It reads what was typed from
 * `request.body` with the same function the handler uses, so the values are kept.
 */
export type FormRerender = (
  request: FastifyRequest,
  reply: FastifyReply,
  errors: FormErrors,
  refusal?: RuleError,
) => Promise<FastifyReply> | FastifyReply

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes a form: how to show it again with its errors (see FormRerender). */
    form?: FormRerender
  }
}
