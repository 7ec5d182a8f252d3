import type { Server } from 'node:http'
import Provider from 'oidc-provider'
import type { Test } from 'tap'
import { freePort } from '../../scripts/free-port.js'

/** KYC Desk as the test provider's client. */
export const CLIENT = { id: 'kyc-desk', secret: 'a client secret of the test provider, long enough' }

export type Accounts = Record<string, { email: string; email_verified: boolean }>

/**
 * An OpenID provider (oidc-provider, with its development sign-in and consent pages) on a free port, with KYC Desk
 * registered as a client coming back to `redirectUri`; its accounts as given (read when asked, so a test may add).
 */
export async function startProvider(t: Test, accounts: Accounts, redirectUri: string): Promise<string> {
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        redirect_uris: [redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id) {
      const account = accounts[id]
      return account ? { accountId: id, claims: async () => ({ sub: id, ...account }) } : undefined
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['a cookie key of the test provider'] },
  })
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, () => resolve(s))
  })
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return issuer
}
