import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { PermissionKey } from '../../access/permissions.js'
import { isolate } from '../../forms/names.js'
import type { CurrentUser, Flash } from '../../types.js'
import { anonymousCsrfToken } from './csrf.js'

export interface NavItem {
  href: string
  label: string
  /** 'authenticated' or the permission that opening the page needs (any one of a list). */
  needs: 'authenticated' | PermissionKey | readonly PermissionKey[]
}

/** The main navigation; each user sees only what they may open. Features add their entries here. */
export const NAVIGATION: NavItem[] = [
  { href: '/', label: 'Dashboard', needs: 'authenticated' },
  { href: '/entities', label: 'Client relationships', needs: 'read_data' },
  { href: '/recycle-bin', label: 'Recycle bin', needs: ['delete_entities', 'permanently_delete_documents'] },
  { href: '/access-requests', label: 'Access requests', needs: 'read_data' },
  { href: '/settings/services', label: 'Services', needs: 'system_administrator' },
  { href: '/settings/client-access', label: 'Client access', needs: 'system_administrator' },
  { href: '/settings/users', label: 'Users', needs: 'manage_user_accounts' },
  { href: '/settings/sessions', label: 'Signed-in users', needs: 'signout_users' },
  { href: '/settings/audit', label: 'Audit trail', needs: 'system_administrator' },
  { href: '/settings/outgoing-email', label: 'Outgoing email', needs: 'system_administrator' },
  { href: '/settings/jobs', label: 'Background jobs', needs: 'system_administrator' },
  { href: '/profile/sessions', label: 'Your sessions', needs: 'authenticated' },
]

function navigationFor(user: CurrentUser | null, currentPath: string) {
  if (!user) return []
  return NAVIGATION.filter(
    (item) => item.needs === 'authenticated' || [item.needs].flat().some((key) => user.permissions.has(key)),
  ).map((item) => ({ ...item, current: item.href === '/' ? currentPath === '/' : currentPath.startsWith(item.href) }))
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n))

/** Formatting helpers every template gets as `it.fmt`. */
export const fmt = {
  /**
   * 2026-11-24 09:05 UTC — unambiguous for every locale. Built from the UTC fields rather than
   * toISOString(): a page of the client list formats a hundred of these, and this is 3 to 4 times cheaper.
   */
  dateTime(value: Date | string | null | undefined): string {
    if (!value) return '—'
    const d = value instanceof Date ? value : new Date(value)
    const year = d.getUTCFullYear()
    // Years outside 1000–9999 (and invalid dates) keep toISOString's own form, or its error.
    if (!(year >= 1000 && year <= 9999)) return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
    return `${year}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`
  },
  /** A name inside a sentence of plain text (a label, a hint): isolated when it holds right-to-left text. */
  isolate,
  /** A new key for one rendered form (views/components/csrf.eta, src/plugins/app/form-once.ts). */
  formKey: (): string => randomUUID(),
  json(value: unknown): string {
    return value === null || value === undefined ? '' : JSON.stringify(value)
  },
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
     * (the partial of the same template), and says so in `Vary` (VARY_HTMX) so caches keep them apart.
     */
    page(template: string, data: PageData): Promise<FastifyReply>
    /** Remembers a one-time status message for the next page this user sees. */
    flash(flash: Flash): FastifyReply
    /**
     * For an htmx request that cannot swap its own target (refused, expired form): the message goes
     * to the layout's aria-live status region instead, so the page stays intact and it is announced.
     */
    htmxStatus(code: number, flash: Flash): Promise<FastifyReply>
  }
}

/**
 * Whether to answer with the partial of a template: an htmx request that swaps part of a page. Not a
 * boosted link, and not htmx's history restore (Back or reload of a pushed URL when its page is no longer
 * in htmx's cache): that one replaces the whole body, so it gets the full page.
 */
export function isHtmxPartialRequest(request: FastifyRequest): boolean {
  const { headers } = request
  return (
    headers['hx-request'] === 'true' &&
    headers['hx-boosted'] !== 'true' &&
    headers['hx-history-restore-request'] !== 'true'
  )
}

/** The request headers that choose between a full page and a partial: caches must keep them apart. */
export const VARY_HTMX = 'HX-Request, HX-Target, HX-Boosted, HX-History-Restore-Request'

/** The part of a page an htmx request swaps (its HX-Target), or undefined for a full page. */
export function htmxTarget(request: FastifyRequest): string | undefined {
  return isHtmxPartialRequest(request) ? (request.headers['hx-target'] as string | undefined) : undefined
}

export default fp(
  async (app) => {
    app.decorateReply('flash', function (this: FastifyReply, flash: Flash) {
      this.request.session.flash = flash
      return this
    })

    app.decorateReply('htmxStatus', async function (this: FastifyReply, code: number, flash: Flash) {
      const html = await this.viewAsync('components/status', { status: flash })
      return this.code(code)
        .header('HX-Retarget', '#status')
        .header('HX-Reswap', 'innerHTML')
        .header('Vary', VARY_HTMX)
        .type('text/html; charset=utf-8')
        .send(html)
    })

    app.decorateReply('page', async function (this: FastifyReply, template: string, data: PageData) {
      const { request } = this
      const user = request.user ?? null
      const session = request.session
      let flash: Flash | undefined
      if (session?.flash) {
        flash = session.flash
        session.flash = undefined
      }
      // A signed-in user's token comes from the session; a visitor's (sign-in form) from a cookie, so that
      // an anonymous page view never creates a session row.
      const csrfToken =
        session && (user || session._csrf || session.pendingLogin)
          ? this.generateCsrf()
          : data.needsCsrf
            ? anonymousCsrfToken(this, this.server.config.production)
            : undefined
      const locals = {
        ...data,
        user,
        flash,
        csrfToken,
        fmt,
        nav: navigationFor(user, request.url.split('?')[0] ?? '/'),
      }
      this.header('Vary', VARY_HTMX).type('text/html; charset=utf-8')
      const partial = isHtmxPartialRequest(request)
      const html = partial
        ? await this.viewAsync(template, locals)
        : await this.viewAsync(template, locals, { layout: 'layouts/main' })
      return this.send(html)
    })
  },
  { name: 'render', dependencies: ['views', 'session'] },
)
