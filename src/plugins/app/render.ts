import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { PermissionKey } from '../../access/permissions.js'
import { PORTAL_REQUEST_PERMISSIONS } from '../../access/portal.js'
import { SEARCH_REVIEW_PERMISSIONS } from '../../access/screening.js'
import { isolate } from '../../forms/names.js'
import { setPortalFlash } from '../../identity/portal-sessions.js'
import type { CurrentUser, Flash } from '../../types.js'
import { anonymousCsrfToken, csrfTokens } from './csrf.js'

export interface NavItem {
  href: string
  label: string
  /** 'authenticated' or the permission that opening the page needs (any one of a list). */
  needs: 'authenticated' | PermissionKey | readonly PermissionKey[]
  /** The section it belongs to in the main navigation (its pages are listed under it), if any. */
  section?: NavSection
  /** Other paths that belong to this page (a page's sub-pages, e.g. /settings/groups under Client access). */
  also?: readonly string[]
}

export type NavSection = 'Clients' | 'Settings'

/**
 * Every page of the navigation; each user sees only what they may open. The main navigation shows one
 * entry per section (the first page of it the user may open, under the section's name) and each page
 * outside a section; a section's pages are listed in its own navigation above the page. Features add
 * their pages here.
 */
export const NAVIGATION: NavItem[] = [
  { href: '/', label: 'Dashboard', needs: 'authenticated' },
  { href: '/entities', label: 'Client relationships', needs: 'read_data', section: 'Clients' },
  { href: '/access-requests', label: 'Access requests', needs: 'read_data', section: 'Clients' },
  {
    href: '/searches',
    label: 'Searches',
    needs: SEARCH_REVIEW_PERMISSIONS,
    section: 'Clients',
  },
  { href: '/one-time-searches', label: 'One-time searches', needs: 'view_one_time_searches', section: 'Clients' },
  {
    href: '/self-service',
    label: 'Self-service requests',
    needs: PORTAL_REQUEST_PERMISSIONS,
    section: 'Clients',
  },
  { href: '/reports', label: 'Reports', needs: 'view_reports' },
  {
    href: '/recycle-bin',
    label: 'Recycle bin',
    needs: ['delete_entities', 'permanently_delete_documents'],
    section: 'Clients',
  },
  { href: '/settings/users', label: 'Users', needs: 'manage_user_accounts', section: 'Settings' },
  { href: '/settings/sessions', label: 'Signed-in users', needs: 'signout_users', section: 'Settings' },
  { href: '/settings/sign-in', label: 'Sign-in security', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/sso', label: 'Single sign-on', needs: 'system_administrator', section: 'Settings' },
  {
    href: '/settings/client-access',
    label: 'Client access',
    needs: 'system_administrator',
    section: 'Settings',
    also: ['/settings/groups'],
  },
  { href: '/settings/services', label: 'Services', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/risk', label: 'Risk rules', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/country-lists', label: 'Country lists', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/screening', label: 'Screening', needs: 'system_administrator', section: 'Settings' },
  {
    href: '/settings/screening-lists',
    label: 'Screening lists',
    needs: 'system_administrator',
    section: 'Settings',
  },
  { href: '/settings/portal', label: 'Self-service portal', needs: 'manage_self_service', section: 'Settings' },
  { href: '/settings/search-log', label: 'Search log', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/audit', label: 'Audit trail', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/outgoing-email', label: 'Outgoing email', needs: 'system_administrator', section: 'Settings' },
  { href: '/settings/jobs', label: 'Background jobs', needs: 'system_administrator', section: 'Settings' },
]

export interface NavLink {
  href: string
  label: string
  current: boolean
}

/** The navigation of one page for one user: the main entries, and the pages of the current section. */
export interface Navigation {
  main: NavLink[]
  section?: { name: NavSection; pages: NavLink[] }
  /** The page is one of the reader's own (/profile/…), reached from their name in the header. */
  account?: boolean
}

function isCurrent(item: NavItem, currentPath: string): boolean {
  if (item.href === '/') return currentPath === '/'
  return [item.href, ...(item.also ?? [])].some((href) => currentPath === href || currentPath.startsWith(`${href}/`))
}

export function navigationFor(user: CurrentUser | null, currentPath: string): Navigation {
  if (!user) return { main: [] }
  const account = currentPath === '/profile' || currentPath.startsWith('/profile/')
  const visible = NAVIGATION.filter(
    (item) => item.needs === 'authenticated' || [item.needs].flat().some((key) => user.permissions.has(key)),
  ).map((item) => ({ item, link: { href: item.href, label: item.label, current: isCurrent(item, currentPath) } }))
  const main: NavLink[] = []
  let section: Navigation['section']
  for (const { item, link } of visible) {
    if (!item.section) {
      main.push(link)
      continue
    }
    const pages = visible.filter((v) => v.item.section === item.section).map((v) => v.link)
    if (pages[0] !== link) continue
    const current = pages.some((p) => p.current)
    main.push({ href: link.href, label: item.section, current })
    if (current && pages.length > 1) section = { name: item.section, pages }
  }
  return { main, section, account }
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n))

const COUNT_FORMAT = new Intl.NumberFormat('en-GB')

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
  /** A risk level or classification as a word: "High", "Medium", "Low". */
  riskLevel: (c: string | null | undefined): string => (c ? c.charAt(0).toUpperCase() + c.slice(1) : '—'),
  /** 3,214: a count, grouped by thousands. */
  count: (n: number): string => COUNT_FORMAT.format(n),
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
  /** A page of the self-service portal outside its session (the link's Continue page). */
  layout?: 'portal'
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
      // A portal page (src/portal): the portal's layout, its session's token and message, and nothing of a
      // staff session the same browser may hold.
      const portal = request.routeOptions.config?.access === 'portal' || data.layout === 'portal'
      const user = portal ? null : (request.user ?? null)
      const session = portal ? undefined : request.session
      let flash: Flash | undefined
      if (session?.flash) {
        flash = session.flash
        session.flash = undefined
      } else if (portal && request.portal?.flash) {
        flash = request.portal.flash
        await setPortalFlash(this.server.db, request.portal, null)
      }
      // A signed-in user's token comes from the session; a visitor's (sign-in form) from a cookie, so that
      // an anonymous page view never creates a session row.
      const csrfToken = request.portal
        ? csrfTokens.create(request.portal.csrfSecret)
        : session && (user || session._csrf || session.pendingLogin || session.pendingSecondFactor)
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
        nav: portal ? { main: [] } : navigationFor(user, request.url.split('?')[0] ?? '/'),
      }
      this.header('Vary', VARY_HTMX).type('text/html; charset=utf-8')
      const partial = isHtmxPartialRequest(request)
      const layout = portal ? 'layouts/portal' : 'layouts/main'
      const html = partial ? await this.viewAsync(template, locals) : await this.viewAsync(template, locals, { layout })
      return this.send(html)
    })
  },
  { name: 'render', dependencies: ['views', 'session'] },
)
