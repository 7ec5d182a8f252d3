import type { Knex } from 'knex'
import { writeAudit } from '../audit/audit.js'
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords.js'
import type { Db } from '../db/knex.js'
import { isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { newSecret, secretHash } from '../identity/secrets.js'
import { enqueueEmail } from '../mail/outbox.js'

export const INVITATION_DAYS = 7

/**
 * Creates an invitation (replacing any unused one) and queues its email, in the caller's transaction.
 * Only the token's hash is stored; the link in the email is the one place the token exists.
 */
export async function inviteUser(
  trx: Knex.Transaction,
  opts: {
    companyId: string
    companyName: string
    user: { id: string; name: string; email: string }
    invitedBy: { id: string; name: string }
    publicUrl: string
  },
): Promise<void> {
  const token = newSecret()
  await trx('user_invitations').where({ user_id: opts.user.id }).whereNull('used_at').delete()
  await trx('user_invitations').insert({
    company_id: opts.companyId,
    user_id: opts.user.id,
    token_hash: secretHash(token),
    expires_at: trx.raw('now() + make_interval(days => ?)', [INVITATION_DAYS]),
    created_by: opts.invitedBy.id,
  })
  await enqueueEmail(trx, {
    companyId: opts.companyId,
    to: opts.user.email,
    subject: `You are invited to KYC Desk (${isolate(opts.companyName)})`,
    text: [
      `Hello ${isolate(opts.user.name)},`,
      '',
      `${isolate(opts.invitedBy.name)} has given you an account on KYC Desk for ${isolate(opts.companyName)}.`,
      `Choose your password here within ${INVITATION_DAYS} days (the link works once):`,
      '',
      `${opts.publicUrl}/invitations/${token}`,
      '',
      'If you did not expect this email, you can ignore it.',
    ].join('\n'),
    redact: [token],
  })
}

export interface OpenInvitation {
  id: string
  user_id: string
  company_id: string
  name: string
  email: string
}

/** The open (unused, unexpired) invitation for a token, or undefined. */
export async function findOpenInvitation(
  db: Db | Knex.Transaction,
  token: string,
): Promise<OpenInvitation | undefined> {
  return db('user_invitations as i')
    .join('users as u', 'u.id', 'i.user_id')
    .where('i.token_hash', secretHash(token))
    .whereNull('i.used_at')
    .andWhere('i.expires_at', '>', db.fn.now())
    .andWhere('u.active', true)
    .select('i.id', 'i.user_id', 'i.company_id', 'u.name', 'u.email')
    .first()
}

export function passwordProblem(password: string, confirmation: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `Enter a password of at least ${MIN_PASSWORD_LENGTH} characters`
  if (password.length > 200) return 'Enter a password of at most 200 characters'
  if (password !== confirmation) return 'The two passwords do not match'
  return undefined
}

/**
 * The new password of a form (`password`, and `password_confirmation` typed again), checked by passwordProblem;
 * refused (RuleError on the field at fault) when it breaks a rule. For invitations, reset links and changes.
 */
export function newPasswordOf(body: unknown): string {
  const b = (body ?? {}) as Record<string, unknown>
  const password = typeof b.password === 'string' ? b.password : ''
  const confirmation = typeof b.password_confirmation === 'string' ? b.password_confirmation : ''
  const problem = passwordProblem(password, confirmation)
  if (problem) throw new RuleError(problem.includes('match') ? 'password_confirmation' : 'password', problem)
  return password
}

/** Sets the password and uses up the invitation, once: a second use of the link finds nothing. */
export async function acceptInvitation(
  db: Db,
  token: string,
  password: string,
  ip: string,
): Promise<OpenInvitation | undefined> {
  const passwordHash = await hashPassword(password)
  return db.transaction(async (trx) => {
    const invitation = await findOpenInvitation(trx, token)
    if (!invitation) return undefined
    const used = await trx('user_invitations')
      .where({ id: invitation.id })
      .whereNull('used_at')
      .update({ used_at: trx.fn.now() })
    if (used !== 1) return undefined
    await trx('users')
      .where({ id: invitation.user_id })
      .update({ password_hash: passwordHash, updated_at: trx.fn.now() })
    await writeAudit(trx, {
      companyId: invitation.company_id,
      actorUserId: invitation.user_id,
      action: 'user.invitation_accepted',
      targetType: 'user',
      targetId: invitation.user_id,
      ip,
    })
    return invitation
  })
}
