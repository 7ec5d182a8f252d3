import * as oidc from 'openid-client'
import { writeAudit } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { findUserById, type UserRow } from '../identity/user-row.js'

/**
 * Single sign-on with OpenID Connect, per company (issue 17), through openid-client: the authorization code
 * flow with PKCE (S256), a random state and nonce kept in the visitor's session and checked by openid-client on
 * the way back (with the ID token's issuer, audience, expiry and signature). The person is matched by the
 * `email` claim, only if the provider says it is verified, and only among the active users of the company
 * whose sign-in link they followed: an address known in another company signs no one in.
 */
export interface CompanySso {
  company_id: string
  issuer: string
  client_id: string
  client_secret: string
  sso_only: boolean
  break_glass_user_id: string | null
}

export async function ssoOf(db: Db, companyId: string): Promise<CompanySso | undefined> {
  return db('company_sso').where({ company_id: companyId }).first()
}

/** What the session keeps between leaving for the provider and coming back. */
export interface SsoPending {
  companyId: string
  state: string
  nonce: string
  verifier: string
  at: string
}

/** How long a sign-in may stay at the provider. */
export const SSO_PENDING_MINUTES = 10

/** The provider's configuration (discovered from the issuer). Plain http is allowed outside production only. */
async function configurationOf(sso: CompanySso, production: boolean): Promise<oidc.Configuration> {
  const issuer = new URL(sso.issuer)
  const insecure = issuer.protocol === 'http:'
  if (insecure && production) throw new SsoError('the provider is not on https')
  return oidc.discovery(
    issuer,
    sso.client_id,
    undefined,
    oidc.ClientSecretBasic(sso.client_secret),
    insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
  )
}

export class SsoError extends Error {}

/** Where to send the person, and what their session must keep to check the answer. */
export async function startSignIn(
  sso: CompanySso,
  redirectUri: string,
  production: boolean,
): Promise<{ url: string; pending: SsoPending }> {
  const config = await configurationOf(sso, production)
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  return {
    url: url.href,
    pending: { companyId: sso.company_id, state, nonce, verifier, at: new Date().toISOString() },
  }
}

export type SsoResult = { ok: true; user: UserRow } | { ok: false; reason: string }

/**
 * Checks the provider's answer (the callback URL as it came) against what the session kept, and finds the
 * account it is for. Every refusal is audited in the company, with its reason.
 */
export async function finishSignIn(
  db: Db,
  sso: CompanySso,
  pending: SsoPending,
  callbackUrl: URL,
  production: boolean,
  ip: string,
): Promise<SsoResult> {
  const refuse = async (reason: string): Promise<SsoResult> => {
    await writeAudit(db, {
      companyId: sso.company_id,
      actorUserId: null,
      action: 'auth.sso_refused',
      targetType: 'company',
      targetId: sso.company_id,
      after: { reason },
      ip,
    })
    return { ok: false, reason }
  }
  let claims: Record<string, unknown> | undefined
  try {
    const config = await configurationOf(sso, production)
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    })
    const idToken = tokens.claims()
    claims = idToken
    // Providers that keep the email out of the ID token give it at the userinfo endpoint, for the same subject.
    if (idToken && typeof idToken.email !== 'string') {
      claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub)), sub: idToken.sub }
    }
  } catch (error) {
    return refuse(`the provider's answer did not check out (${(error as Error).message.slice(0, 200)})`)
  }
  const email = typeof claims?.email === 'string' ? claims.email : ''
  if (!email) return refuse('the provider gave no email address')
  if (claims?.email_verified !== true) return refuse('the provider has not verified the email address')
  const account = await db('users')
    .where({ company_id: sso.company_id, active: true })
    .whereRaw('lower(email) = lower(?)', [email])
    .first('id')
  const user = account ? await findUserById(db, account.id) : undefined
  if (!user) return refuse('no active user of the company has that email address')
  return { ok: true, user }
}
