/**
 * Who may do what with self-service portal requests (SPEC section 4 "Self-service portal"; issue 15), and
 * what a request's state allows. One place, used by the portal services to refuse and by the pages to decide
 * what they offer.
 */
import type { CurrentUser } from '../types.js'

/** A request's state as people see it: the stored status, or 'expired' for an unsubmitted one past its date. */
export type PortalState =
  | 'sent'
  | 'opened'
  | 'draft'
  | 'submitted'
  | 'approved'
  | 'updates_requested'
  | 'expired'
  | 'revoked'

/** The stored statuses in which the client is still filling the request in (until it expires). */
export const FILLING_STATUSES = ['sent', 'opened', 'draft', 'updates_requested'] as const

/** The permissions that show a client's portal requests: sending them, or deciding their submissions. */
export const PORTAL_REQUEST_PERMISSIONS = ['manage_self_service_requests', 'approve_self_service_submissions'] as const

/** Whether the client may still change answers and uploads: a request being filled in and not expired. */
export function clientMayEdit(state: PortalState): boolean {
  return (FILLING_STATUSES as readonly string[]).includes(state)
}

/** Whether the link still leads somewhere: to the questionnaire, or to what was submitted. */
export function linkWorks(state: PortalState): boolean {
  return clientMayEdit(state) || state === 'submitted'
}

type Subject = Pick<CurrentUser, 'permissions'>

/** The steps a staff user may take on a request in this state. */
export function portalActionsFor(user: Subject, state: PortalState) {
  const manages = user.permissions.has('manage_self_service_requests')
  const approves = user.permissions.has('approve_self_service_submissions')
  return {
    /** A fresh link (and a new expiry date): the request is not submitted, decided or revoked. */
    resend: manages && (clientMayEdit(state) || state === 'expired'),
    revoke: manages && state !== 'approved' && state !== 'revoked',
    requestUpdates: (manages || approves) && state === 'submitted',
    approve: approves && state === 'submitted',
  }
}

export type PortalAction = keyof ReturnType<typeof portalActionsFor>

/** Why a step is not possible now: a sentence for the refusal. */
export function whyNot(action: PortalAction, state: PortalState): string {
  const needs: Record<PortalAction, string> = {
    resend: 'A link can be sent again while the request is being filled in or has expired',
    revoke: 'An approved or revoked request cannot be revoked',
    requestUpdates: 'Updates can be requested on a submitted request only',
    approve: 'Only a submitted request can be approved',
  }
  return `${needs[action]}: this one is ${STATE_WORDS[state].toLowerCase()}`
}

export const STATE_WORDS: Record<PortalState, string> = {
  sent: 'Sent',
  opened: 'Opened',
  draft: 'Draft saved',
  submitted: 'Submitted',
  approved: 'Approved',
  updates_requested: 'Updates requested',
  expired: 'Expired',
  revoked: 'Revoked',
}
