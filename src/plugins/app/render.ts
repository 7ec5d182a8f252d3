import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { PermissionKey } from '../../access/permissions.js'
import type { CurrentUser, Flash } from '../../types.js'

export interface NavItem {
  href: string
  label: string
  /** 'authenticated' or the permission that opening the page needs. */
  needs: 'authenticated' | PermissionKey
}

/** The main navigation; each user sees only what they may open. Features add their entries here. */
export const NAVIGATION: NavItem[] = [{ href: '/', label: 'Dashboard', needs: 'authenticated' }]

function navigationFor(user: CurrentUser | null, currentPath: string) {
  if (!user) return []
  return NAVIGATION.filter((item) => item.needs === 'authenticated' || user.permissions.has(item.needs)).map(
    (item) => ({ ...item, current: item.href === '/' ? currentPath === '/' : currentPath.startsWith(item.href) }),
  )
}

export interface PageData {
  title: string
  /** Generate a CSRF token even for a visitor who is not signed in (the login form). */
  needsCsrf?: boolean
  [key: string]: unknown
}

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Renders views/<template>.eta: inside the layout for a full page, alone for an htmx request
     * (the partial of the same template), and says `Vary: HX-Request` so caches keep them apart.
     */
    page(template: string, data: PageData): Promise<FastifyReply>
    /** Remembers a one-time status message for the next page this user sees. */
    flash(flash: Flash): FastifyReply
  }
}

export function isHtmxPartialRequest(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true' && request.headers['hx-boosted'] !== 'true'
}

export default fp(
  async (app) => {
    app.decorateReply('flash', function (this: FastifyReply, flash: Flash) {
      this.request.session.flash = flash
      return this
    })

    app.decorateReply('page', async function (this: FastifyReply, template: string, data: PageData) {
      const reply = this
      const { request } = reply
      const user = request.user ?? null
      const session = request.session
      let flash: Flash | undefined
      if (session?.flash) {
        flash = session.flash
        session.flash = undefined
      }
      const csrfToken = session && (user || data.needsCsrf) ? reply.generateCsrf() : undefined
      const locals = {
        ...data,
        user,
        flash,
        csrfToken,
        nav: navigationFor(user, request.url.split('?')[0] ?? '/'),
      }
      reply.header('Vary', 'HX-Request').type('text/html; charset=utf-8')
      const partial = isHtmxPartialRequest(request)
      const html = partial
        ? await reply.viewAsync(template, locals)
        : await reply.viewAsync(template, locals, { layout: 'layouts/main' })
      return reply.send(html)
    })
  },
  { name: 'render', dependencies: ['views', 'session'] },
)
