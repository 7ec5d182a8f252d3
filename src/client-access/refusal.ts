import { RuleError } from '../forms/rule-error.js'

/**
 * A sharing or access-request rule refused the change (src/access/client-access.ts decides who may). Its
 * field is 'sharing'; each form's re-render shows it beside its own field (errors.moved).
 */
export function sharingRefused(message: string): RuleError {
  return new RuleError('sharing', message)
}
