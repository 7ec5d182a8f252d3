import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { CLIENT_ACCESS_RULE_AVAILABLE } from '../../access/client-access.js'
import { isPermissionKey, permissionLabel } from '../../access/permissions.js'
import type { RouteAccess } from '../../types.js'
import { isHtmxPartialRequest } from './render.js'

export interface DeclaredRoute {
  method: string
  url: string
  access: RouteAccess
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route with what it declared: read by the tests that list routes. */
    routeTable: DeclaredRoute[]
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Throws, stopping start-up, when a route declares nothing or something that is not a known rule. */
export function checkDeclaration(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): RouteAccess {
  const where = `${String(route.method)} ${route.url}`
  const access = (route.config as { access?: RouteAccess } | undefined)?.access
  if (access === undefined) {
    throw new Error(
      `Route ${where} declares no access: add config.access ('public', 'authenticated' or { permission })`,
    )
  }
  if (access === 'public' || access === 'authenticated') return access
  if (typeof access !== 'object' || !isPermissionKey(access.permission)) {
    throw new Error(`Route ${where} declares an unknown permission: ${JSON.stringify(access)}`)
  }
  if (access.client !== undefined && !CLIENT_ACCESS_RULE_AVAILABLE) {
    throw new Error(`Route ${where} is client-scoped, but the client access rule is not available yet`)
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

/**
 * The one guard. Every route declares its access in `config.access`; this plugin refuses to start when
 * one does not, and on every request decides: signed in? CSRF token valid (state-changing methods)?
 * permission held? Handlers never check permissions themselves.
 */
export default fp(
  async (app) => {
    app.decorate('routeTable', [] as DeclaredRoute[])
    app.addHook('onRoute', (route) => {
      const access = checkDeclaration(route)
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      for (const method of methods) app.routeTable.push({ method, url: route.url, access })
    })

    app.addHook('preHandler', (request, reply, done: HookHandlerDoneFunction) => {
      if (request.is404) return done()
      const access = request.routeOptions.config.access as RouteAccess
      if (access !== 'public' && !request.user) {
        redirectToLogin(request, reply)
        return
      }
      const decide = () => {
        if (typeof access === 'object') {
          const user = request.user
          if (!user?.permissions.has(access.permission)) {
            const missing = permissionLabel(access.permission)
            if (isHtmxPartialRequest(request)) {
              reply.htmxStatus(403, {
                kind: 'error',
                text: `Not allowed: this needs the permission ${missing}, which you do not have.`,
              })
              return
            }
            reply.code(403).page('errors/403', {
              title: 'You do not have access to this page',
              missing,
            })
            return
          }
        }
        done()
      }
      if (SAFE_METHODS.has(request.method)) return decide()
      // Checked here, after the body is parsed, so a token sent as a form field is seen.
      app.csrfProtection(request, reply, decide)
    })
  },
  { name: 'guard', dependencies: ['session', 'current-user'] },
)
