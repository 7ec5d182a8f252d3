/**
 * Who may do what with screening searches (SPEC section 4 "External searches"; issue 14). One place, used
 * by the screening service to refuse and by the pages to decide what they offer.
 *
 * A search's review, by the company's four-eyes setting:
 * - off: a user with Manage External Searches resolves the open search's matches and so closes it;
 * - on: a user with Check Entity External Searches does the first review (the search then awaits approval),
 *   and a different user with Approve Entity External Searches, or Manage External Searches, approves it
 *   (closed) or sends it back (open again). The same user never checks and approves one search; the
 *   database refuses it too (screening_searches' CHECK). A search checked while four-eyes was on still
 *   needs its approval after the setting is switched off.
 */
import type { CurrentUser } from '../types.js'

type Subject = Pick<CurrentUser, 'id' | 'permissions'>

/** What a user may do next with a search: resolve it (no four-eyes), check it, or approve / send it back. */
export type ReviewStep = 'resolve' | 'check' | 'approve'

export interface SearchUnderReview {
  status: 'clear' | 'open' | 'awaiting_approval' | 'closed' | 'superseded'
  checked_by: string | null
}

/** The step the user may take on the search now, or why not (a sentence for the page and the refusal). */
export function reviewStepFor(
  user: Subject,
  search: SearchUnderReview,
  fourEyes: boolean,
): { step: ReviewStep } | { refusal: string } {
  if (search.status === 'clear')
    return { refusal: 'This search found no potential matches: there is nothing to review' }
  if (search.status === 'closed') return { refusal: 'This search is closed' }
  if (search.status === 'superseded')
    return { refusal: 'A newer search of this client replaced this one: review the newer search' }
  if (search.status === 'open') {
    if (!fourEyes)
      return user.permissions.has('manage_external_searches')
        ? { step: 'resolve' }
        : { refusal: 'Resolving a search needs the permission Manage External Searches' }
    return user.permissions.has('check_entity_external_searches')
      ? { step: 'check' }
      : { refusal: 'The first review of a search needs the permission Check Entity External Searches' }
  }
  // Awaiting approval: checked under four-eyes review, so approved by someone else even if the setting has
  // been switched off since.
  if (!user.permissions.has('approve_entity_external_searches') && !user.permissions.has('manage_external_searches'))
    return {
      refusal: 'Approving a search needs the permission Approve Entity External Searches or Manage External Searches',
    }
  if (search.checked_by === user.id)
    return { refusal: 'You checked this search: a different person must approve it (four-eyes review)' }
  return { step: 'approve' }
}

/** Whether the user may run a manual search (each spends one credit) and choose its profile. */
export function mayRunManualSearch(user: Pick<CurrentUser, 'permissions'>): boolean {
  return user.permissions.has('manual_external_searches')
}

/** The permissions that let a user take part in reviewing searches: they see the Searches page. */
export const SEARCH_REVIEW_PERMISSIONS = [
  'manage_external_searches',
  'check_entity_external_searches',
  'approve_entity_external_searches',
] as const

/** Whether a user may take any step of a search's review under the company's setting. */
export function mayReviewSearches(user: Pick<CurrentUser, 'permissions'>, fourEyes: boolean): boolean {
  return fourEyes
    ? SEARCH_REVIEW_PERMISSIONS.some((p) => user.permissions.has(p))
    : user.permissions.has('manage_external_searches')
}
