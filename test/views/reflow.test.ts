/**
 * Reflow (WCAG 2.2 1.4.10, issue 12 defect 3): at 320 CSS px no page scrolls sideways (a wide table may
 * scroll inside its own labelled region), a name of 294 characters without a space wraps, and at 1280 px
 * the main navigation fits on one line. Every page an administrator can open from the navigation, with
 * and without JavaScript. SCREENSHOTS=dir saves each page at 1280 and 375 px there (the README's pictures).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { axeFindings, formatFinding, keyboardReport } from '../browser/checks.js'
import { signInByKeyboard } from '../browser/flows.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { aDocument, anEntity } from '../helpers/entities.js'
import { aCompany, aGroup, aService, aShare, aUser, clientAccessOn } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const LONG = `Aktiengesellschaft${'Vermögensverwaltungs'.repeat(13)}Ltd`.slice(0, 294)

  /** How far the page is wider than the window (0 when it does not scroll sideways). */
  const overflow = (s: BrowserSession) =>
    s.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)

  await suite.flow('an administrator opens every page on a 320 px screen', async (s, t) => {
    const js = s.mode.javaScriptEnabled ? 'js' : 'nojs'
    const company = await aCompany(db, `Reflow Partners ${js}`)
    const admin = await aUser(db, { company, name: 'Ada Reflow', permissions: ['system_administrator'] })
    const colleague = await aUser(db, { company, name: `Colleague${'X'.repeat(120)}`, permissions: ['read_data'] })
    await clientAccessOn(db, company, { allowAccessRequests: true })
    const long = await anEntity(db, { company, owner: admin, name: LONG, kind: 'organisation' })
    for (let i = 1; i <= 5; i++) await anEntity(db, { company, owner: colleague, name: `Reflow Client ${i}` })
    await aDocument(db, { company, client: long, uploadedBy: admin, name: `${'scan'.repeat(40)}.pdf` })
    const group = await aGroup(db, { company, name: 'Onboarding team', members: [colleague] })
    await aShare(db, { company, client: long, group })
    await aService(db, { company, name: 'Payroll outsourcing', riskLevel: 'medium' })
    await signInByKeyboard(s, t, admin)

    const pages = [
      '/',
      '/entities',
      `/entities/${long.id}`,
      `/entities/${long.id}/sharing`,
      `/entities/${long.id}/edit`,
      '/access-requests',
      '/recycle-bin',
      '/reports',
      '/reports/type-country',
      '/reports/searches',
      '/self-service',
      '/settings/portal',
      '/settings/portal/questionnaires/individual',
      '/settings/users',
      `/settings/users/${colleague.id}`,
      `/settings/users/${colleague.id}/permissions`,
      '/settings/sessions',
      '/settings/client-access',
      `/settings/groups/${group.id}`,
      '/settings/services',
      '/settings/risk',
      '/settings/risk/dry-run',
      '/settings/audit',
      '/settings/outgoing-email',
      '/settings/jobs',
      '/profile/sessions',
    ]
    const shots = process.env.SCREENSHOTS
    for (const address of pages) {
      await s.page.setViewportSize({ width: 1280, height: 800 })
      await s.goto(address)
      const title = (await s.page.title()).replace(/ — KYC Desk$/, '')
      const h1 = ((await s.page.getByRole('heading', { level: 1 }).first().textContent()) ?? '').trim()
      const tops = await s.page
        .locator('.header-wide .site-nav li')
        .evaluateAll((items) => items.map((li) => li.getBoundingClientRect().top))
      t.equal(new Set(tops).size, 1, `${address} at 1280 px: the main navigation fits on one line`)
      t.equal(await overflow(s), 0, `${address} at 1280 px: no sideways scrolling`)
      if (shots)
        await s.page.screenshot({
          path: path.join(shots, `${js}-1280-${address.replace(/\W+/g, '-')}.png`),
          fullPage: true,
        })
      for (const width of [375, 320]) {
        await s.page.setViewportSize({ width, height: 700 })
        const over = await overflow(s)
        if (over > 0) {
          const wide = await s.page.evaluate(() =>
            [...document.querySelectorAll('body *')]
              .filter(
                (el) =>
                  !el.closest('.table-scroll') &&
                  el.getBoundingClientRect().right > document.documentElement.clientWidth + 1,
              )
              .slice(0, 6)
              .map(
                (el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`,
              ),
          )
          t.comment(`wider than ${width}: ${wide.join(' | ')}`)
        }
        t.equal(over, 0, `${address} at ${width} px: no sideways scrolling`)
        if (shots && width === 375) {
          mkdirSync(shots, { recursive: true })
          await s.page.screenshot({
            path: path.join(shots, `${js}-375-${address.replace(/\W+/g, '-')}.png`),
            fullPage: true,
          })
        }
      }
      // Narrow: the navigation is behind "Menu" (a <details>, which opens without JavaScript too), and the
      // header's own links are hidden; opened, the menu lists the same links.
      const menu = s.page.locator('details.menu')
      t.ok(await menu.locator('summary').isVisible(), `${address} at 320 px: "Menu" is shown`)
      t.equal(
        await s.page.locator('.header-wide').isVisible(),
        false,
        `${address} at 320 px: the header's links are not`,
      )
      if (address === pages[0]) {
        await menu.locator('summary').focus()
        await s.page.keyboard.press('Enter')
        const links = await menu.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()
        t.same(
          links,
          ['Dashboard', 'Clients', 'Reports', 'Settings'],
          'the menu opens by keyboard and lists the navigation',
        )
        t.ok(await menu.getByRole('button', { name: 'Sign out' }).isVisible(), 'and Sign out')
        t.strictSame(
          (await axeFindings(s.page, s.mode.javaScriptEnabled)).map(formatFinding),
          [],
          `${address} at 320 px with the menu open: axe-core passes`,
        )
        await s.page.keyboard.press('Enter')
      }
      // axe-core and the keyboard walk (every control reached in order, its focus visible on screen) at
      // 320 px here; the whole set of page checks at 1280 px.
      t.strictSame(
        [...(await axeFindings(s.page, s.mode.javaScriptEnabled)), ...(await keyboardReport(s.page)).findings].map(
          formatFinding,
        ),
        [],
        `${address} at 320 px: axe-core and the keyboard walk pass`,
      )
      await s.page.setViewportSize({ width: 1280, height: 800 })
      await s.check(t, { title, h1, status: 200 })
    }
    return pages.length
  })
}
