/** The little of oidc-provider (a development dependency, shipped without types) that test/auth/sso.test.ts uses. */
declare module 'oidc-provider' {
  import type { Server } from 'node:http'

  interface Account {
    accountId: string
    claims: () => Promise<Record<string, unknown>>
  }
  interface Configuration {
    clients: Record<string, unknown>[]
    findAccount: (ctx: unknown, id: string) => Promise<Account | undefined>
    claims: Record<string, string[]>
    features: Record<string, unknown>
    cookies: { keys: string[] }
  }
  export default class Provider {
    constructor(issuer: string, configuration: Configuration)
    listen(port: number, callback: () => void): Server
  }
}
