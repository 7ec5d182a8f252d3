import type { ClientGateSubject } from './access/client-context.js'
import type { PermissionKey } from './access/permissions.js'

/** What a route declares it needs; the guard (src/plugins/app/guard.ts) is the only reader. */
export type RouteAccess =
  | 'public'
  | 'authenticated'
  /** A page of the self-service portal: needs a portal session (src/portal/sessions.ts), never a staff one. */
  | 'portal'
  | {
      /** The permission needed; with a list, any one of them. */
      permission: PermissionKey | readonly PermissionKey[]
      /** For a client-scoped route: where the client's id is, e.g. 'params.id'. */
      client?: `params.${string}`
      /**
       * What that id names, when not a live client: a client in the recycle bin, or a document in the
       * recycle bin (whose client decides). See ClientGateSubject.
       */
      clientFrom?: Exclude<ClientGateSubject, 'client'>
      /**
       * The few client-scoped routes a user without access may open (Sharing options, Request access):
       * the client must exist, but access is not required.
       */
      withoutClientAccess?: true
    }

export interface CurrentUser {
  id: string
  companyId: string
  companyName: string
  name: string
  email: string
  granted: ReadonlySet<PermissionKey>
  permissions: ReadonlySet<PermissionKey>
  /** Share all clients with this user (SPEC section 3, path 3). */
  shareAllClients: boolean
  /** The company's client access settings, read with the user on every request. */
  company: CompanyAccessSettings
  /** Whom the company requires to sign in with a second factor, and whether this user does. */
  twoFactor: { companyRequires: 'off' | 'administrators' | 'everyone'; enrolled: boolean }
}

export interface CompanyAccessSettings {
  clientAccessEnabled: boolean
  allowSharing: boolean
  allowAccessRequests: boolean
}

export interface Flash {
  kind: 'success' | 'error' | 'info'
  text: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
    /**
     * The route takes a multipart form (an upload); every other state-changing route takes url-encoded forms.
     * `true`: one file of at most MAX_UPLOAD_MB (the app's limits); or this route's own limits.
     */
    multipart?: true | { files: number; fileSize: number }
    /**
     * The route is open to a signed-in user whom the company requires to set up two-factor sign-in before
     * anything else (the set-up itself, signing out); every other route sends them to the set-up.
     */
    beforeSecondFactor?: true
  }
  interface FastifyRequest {
    user: CurrentUser | null
  }
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    userId?: string
    companyId?: string
    userAgent?: string
    ip?: string
    startedAt?: string
    flash?: Flash
    returnTo?: string
    /** The password was right for accounts in several companies; the person picks one (auth/routes.ts). */
    pendingLogin?: { userIds: string[]; at: string; next: string }
    /** The password was right; the account's second factor is still to come (auth/two-factor-routes.ts). */
    pendingSecondFactor?: { userId: string; at: string; next: string }
    /** A single sign-on on its way to the provider and back (src/auth/sso.ts). */
    ssoPending?: import('./auth/sso.js').SsoPending
    /** Recovery codes just made, shown once on the next page and then forgotten. */
    recoveryCodes?: string[]
    /** The CSRF secret, set by @fastify/csrf-protection. */
    _csrf?: string
  }
}
