import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { type ClientContext, loadClientContext } from '../../access/client-context.js'
import { isPermissionKey, type PermissionKey, permissionLabel } from '../../access/permissions.js'
import { mustSetUpSecondFactor } from '../../access/two-factor.js'
import { isUuid, NotFoundError } from '../../http/params.js'
import { formBody, query } from '../../http/schemas.js'
import { loadPortalSession } from '../../identity/portal-sessions.js'
import type { RouteAccess } from '../../types.js'
import { anonymousCsrfSecret, csrfTokens } from './csrf.js'
import { isHtmxPartialRequest } from './render.js'

export interface DeclaredRoute {
  method: string
  url: string
  access: RouteAccess
  /** The query string and body schemas it validates (its own, or the defaults that accept nothing). */
  schema: { querystring?: unknown; body?: unknown }
  /** Takes a multipart form (an upload) instead of a url-encoded one. */
  multipart: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route with what it declared: read by the tests that list routes. */
    routeTable: DeclaredRoute[]
  }
  interface FastifyRequest {
    /** The client of a client-scoped route, loaded once by the guard (src/access/client-context.ts). */
    client: ClientContext | null
    /** A multipart request's remaining parts, after the guard read the leading `_csrf` (and `_once`) fields. */
    multipartParts?: AsyncIterableIterator<import('@fastify/multipart').Multipart>
    /** A multipart form's `_once` key, read by the guard after its token (a url-encoded form has it in its body). */
    formKey?: string
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function permissionsOf(access: Exclude<RouteAccess, string>): readonly PermissionKey[] {
  return typeof access.permission === 'string' ? [access.permission] : access.permission
}

/** Throws, stopping start-up, when a route declares nothing or something that is not a known rule. */
export function checkDeclaration(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): RouteAccess {
  const where = `${String(route.method)} ${route.url}`
  const access = (route.config as { access?: RouteAccess } | undefined)?.access
  if (access === undefined) {
    throw new Error(
      `Route ${where} declares no access: add config.access ('public', 'authenticated', 'portal' or { permission })`,
    )
  }
  if (access === 'public' || access === 'authenticated' || access === 'portal') return access
  const keys = typeof access === 'object' && access ? [access.permission].flat() : []
  if (keys.length === 0 || !keys.every(isPermissionKey)) {
    throw new Error(`Route ${where} declares an unknown permission: ${JSON.stringify(access)}`)
  }
  if (access.client !== undefined) {
    const param = access.client.slice('params.'.length)
    if (!access.client.startsWith('params.') || !route.url.includes(`:${param}`)) {
      throw new Error(`Route ${where} takes its client from ${access.client}, which its URL does not have`)
    }
  }
  return access
}

/** Only same-site paths are accepted as a return address after login. */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    return undefined
  }
  try {
    const url = new URL(value, 'http://kyc.invalid')
    return url.origin === 'http://kyc.invalid' ? url.pathname + url.search : undefined
  } catch {
    return undefined
  }
}

function redirectToLogin(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const next = SAFE_METHODS.has(request.method) ? safeReturnPath(request.url) : undefined
  const location = next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login'
  if (request.headers['hx-request']) return reply.code(401).header('HX-Redirect', location).send()
  return reply.redirect(location, 303)
}

const FORM = 'application/x-www-form-urlencoded'
/** The media type of a request's body, without parameters; undefined when it has none. */
function mediaType(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type']
  return header ? header.split(';')[0]?.trim().toLowerCase() : undefined
}
function noBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return (length === undefined || length === '0') && request.headers['transfer-encoding'] === undefined
}
/**
 * A state-changing route takes the kind of form it belongs to and nothing else (no JSON, no multipart where
 * a url-encoded form is expected). Checked last, so that who may not use a route learns nothing of its input.
 */
function checkMediaType(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return
  const wanted = request.routeOptions.config.multipart ? 'multipart/form-data' : FORM
  const sent = mediaType(request)
  if (sent !== wanted && !(sent === undefined && wanted === FORM && noBody(request))) throw unsupportedMediaType
}
const unsupportedMediaType = Object.assign(new Error('This address takes only the form it belongs to'), {
  statusCode: 415,
  code: 'KYC_UNSUPPORTED_MEDIA_TYPE',
})

const csrfError = Object.assign(new Error('Invalid csrf token'), { statusCode: 403, code: 'FST_CSRF_INVALID_TOKEN' })

/**
 * The token of a state-changing request: the `_csrf` form field or the X-CSRF-Token header (htmx). For a
 * multipart form the `_csrf` field must come first (then `_once`); the guard reads them and leaves the rest
 * of the parts (the file) to the handler in `request.multipartParts`.
 */
async function submittedToken(request: FastifyRequest): Promise<string | undefined> {
  const header = request.headers['x-csrf-token']
  if (typeof header === 'string') return header
  if (request.isMultipart()) {
    const limits = request.routeOptions.config.multipart
    const parts = typeof limits === 'object' ? request.parts({ limits }) : request.parts()
    request.multipartParts = parts
    const first = await parts.next()
    const part = first.done ? undefined : first.value
    if (part?.type !== 'field' || part.fieldname !== '_csrf' || typeof part.value !== 'string') return undefined
    // The form's key (src/plugins/app/form-once.ts) follows the token; anything else is left to the handler.
    const second = await parts.next()
    const next = second.done ? undefined : second.value
    if (next?.type === 'field' && next.fieldname === '_once' && typeof next.value === 'string') {
      request.formKey = next.value
    } else if (next) {
      request.multipartParts = (async function* () {
        yield next
        yield* parts
      })()
    }
    return part.value
  }
  const field = (request.body as Record<string, unknown> | undefined)?._csrf
  return typeof field === 'string' ? field : undefined
}

/**
 * A portal route: it needs the portal session of its cookie, and nothing a staff session holds counts. The
 * session decides which request the route reaches (there is no request id in a portal URL); its own CSRF
 * secret protects its forms.
 */
async function guardPortal(request: FastifyRequest, reply: FastifyReply) {
  const { config, db } = request.server
  const session = await loadPortalSession(db, request, config.production)
  if (!session) {
    return reply.code(401).page('portal/ended', { title: 'Your session has ended', reason: 'session' })
  }
  request.portal = session
  if (!SAFE_METHODS.has(request.method)) {
    const token = await submittedToken(request)
    if (!token || !csrfTokens.verify(session.csrfSecret, token)) throw csrfError
  }
  checkMediaType(request)
}

/**
 * The one guard. Every route declares its access in `config.access`; this plugin refuses to start when
 * one does not, and on every request decides, in order: signed in? CSRF token valid (state-changing
 * methods)? permission held? the client (for client-scoped routes) exists and may be opened? the body of
 * the kind the route takes? It runs before schema validation (src/http/schemas.ts), so that nothing
 * about a route's input is told to someone who may not use it. Handlers never check permissions themselves.
 */
export default fp(
  async (app) => {
    app.decorate('routeTable', [] as DeclaredRoute[])
    app.decorateRequest('client', null)
    app.decorateRequest('portal', null)
    app.addHook('onRoute', (route) => {
      const access = checkDeclaration(route)
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      const multipart = Boolean(route.config?.multipart)
      // A route that declares no query string or body takes none: whatever is sent is dropped before the
      // handler, so no handler ever reads input nobody checked (src/http/schemas.ts).
      route.schema ??= {}
      route.schema.querystring ??= query()
      if (methods.some((m) => !SAFE_METHODS.has(m)) && !multipart) route.schema.body ??= formBody()
      for (const method of methods) {
        app.routeTable.push({ method, url: route.url, access, schema: route.schema, multipart })
      }
    })

    app.addHook('preValidation', async (request, reply) => {
      if (request.is404) return
      const access = request.routeOptions.config.access as RouteAccess
      // A form posted with no fields at all is an empty form, and is validated as one.
      if (request.body === undefined && !request.routeOptions.config.multipart) request.body = {}
      if (access === 'portal') return guardPortal(request, reply)
      if (access !== 'public' && !request.user) return redirectToLogin(request, reply)
      // A company that requires a second factor: its users without one set it up before anything else.
      if (
        request.user &&
        access !== 'public' &&
        !request.routeOptions.config.beforeSecondFactor &&
        mustSetUpSecondFactor(request.user)
      ) {
        if (request.headers['hx-request']) return reply.code(403).header('HX-Redirect', '/profile/two-factor').send()
        return reply.redirect('/profile/two-factor', 303)
      }

      if (!SAFE_METHODS.has(request.method)) {
        // A visitor without a session (the sign-in form) holds the secret in a signed cookie instead. A public
        // form may also be sent by someone signed in (a portal link's Continue opened in a staff browser): there,
        // and only there, the token of either secret is accepted. Staff forms take the session's alone.
        const anonymous = anonymousCsrfSecret(request, app.config.production)
        const secrets = access === 'public' ? [request.session._csrf, anonymous] : [request.session._csrf]
        const token = await submittedToken(request)
        if (!token || !secrets.some((secret) => secret && csrfTokens.verify(secret, token))) throw csrfError
      }
      if (typeof access !== 'object') return checkMediaType(request)

      const user = request.user
      const needed = permissionsOf(access)
      if (!user || !needed.some((key) => user.permissions.has(key))) {
        const missing = needed.map(permissionLabel).join(' or ')
        if (isHtmxPartialRequest(request)) {
          return reply.htmxStatus(403, {
            kind: 'error',
            text: `Not allowed: this needs the permission ${missing}, which you do not have.`,
          })
        }
        return reply.code(403).page('errors/403', { title: 'You do not have access to this page', missing })
      }

      if (access.client) {
        const clientId = (request.params as Record<string, unknown>)[access.client.slice('params.'.length)]
        const client = isUuid(clientId) ? await loadClientContext(app.db, user, clientId, access.clientFrom) : undefined
        if (!client) throw new NotFoundError('client')
        if (!client.hasAccess && !access.withoutClientAccess) {
          return reply.code(403).page('errors/no-client-access', {
            title: 'You do not have access to this client',
            // Access to a live client can be asked for on its Sharing options.
            sharingUrl: access.clientFrom ? undefined : `/entities/${clientId}/sharing`,
          })
        }
        request.client = client
      }
      checkMediaType(request)
    })
  },
  { name: 'guard', dependencies: ['session', 'current-user'] },
)
