import type { CurrentUser } from '../types.js'

/** Whether the company requires this user to sign in with a second factor (issue 17). */
export function secondFactorRequired(user: Pick<CurrentUser, 'twoFactor' | 'permissions'>): boolean {
  const { companyRequires } = user.twoFactor
  return (
    companyRequires === 'everyone' ||
    (companyRequires === 'administrators' && user.permissions.has('system_administrator'))
  )
}

/** Whether the user must set up two-factor sign-in before they may do anything else. */
export function mustSetUpSecondFactor(user: Pick<CurrentUser, 'twoFactor' | 'permissions'>): boolean {
  return secondFactorRequired(user) && !user.twoFactor.enrolled
}
