/** Steps shared by the browser flows, done the way a keyboard user does them. */
import type { Test } from 'tap'
import type { Db } from '../../src/db/knex.js'
import type { BrowserSession, PageReport } from '../helpers/browser.js'
import type { User } from '../helpers/factories.js'
import { axeFindings, formatFinding, keyboardReport, screenReaderFindings } from './checks.js'

/**
 * Opens the sign-in page, checks it, and signs in with Tab, typing and Enter only. Returns the report of
 * the page that follows, checked as `expect` (the dashboard by default).
 */
export async function signInByKeyboard(
  s: BrowserSession,
  t: Test,
  user: User,
  expect = { title: 'Dashboard', h1: 'Dashboard', status: 200 },
): Promise<PageReport> {
  await s.goto('/login')
  await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
  await s.tabTo('textbox', 'Email address')
  await s.page.keyboard.type(user.email)
  await s.page.keyboard.press('Tab')
  t.equal(await s.focused(), 'input#password', 'Tab goes from the email address to the password')
  await s.page.keyboard.type(user.password)
  await s.pressForNewPage('Enter')
  return s.check(t, expect)
}

/** What the database holds about a person's sign-ins: the flow's result there, free of ids and times. */
export async function accountRecord(db: Db, user: User) {
  const audit = await db('audit_log').where({ actor_user_id: user.id }).orderBy('id').pluck('action')
  const attempts = await db('login_attempts').where({ email: user.email }).orderBy('id').pluck('succeeded')
  const row = await db('sessions').where({ user_id: user.id }).count<{ count: string }>('* as count').first()
  return { audit, attempts, sessions: Number(row?.count) }
}

/** The text of the main landmark, whitespace folded. */
export async function mainText(s: BrowserSession): Promise<string> {
  return ((await s.page.getByRole('main').textContent()) ?? '').replace(/\s+/g, ' ').trim()
}

/**
 * Checks the page as it stands after an htmx swap that pushed a new URL: no new document was loaded, so
 * `s.check` cannot be used; the same axe-core, screen reader and keyboard checks run on the live page.
 */
export async function checkSwapped(s: BrowserSession, t: Test, expect: { title: string; h1: string }): Promise<void> {
  const where = `${s.path} (${s.mode.name}, after an htmx swap)`
  t.equal(await s.page.title(), `${expect.title} — KYC Desk`, `${where} keeps the title "${expect.title}"`)
  const h1 = s.page.getByRole('heading', { level: 1 })
  t.equal(((await h1.first().textContent()) ?? '').trim(), expect.h1, `${where} has the h1 "${expect.h1}"`)
  const findings = [
    ...(await axeFindings(s.page, s.mode.javaScriptEnabled)),
    ...(await screenReaderFindings(s.page)),
    ...(await keyboardReport(s.page)).findings,
  ]
  t.strictSame(findings.map(formatFinding), [], `${where}: axe-core, screen reader and keyboard checks pass`)
  t.strictSame(s.takeConsoleErrors(), [], `${where}: no script error or CSP violation in the console`)
}

/**
 * Checks a modal dialog opened by htmx: axe-core passes, it is named, focus is inside it, and Tab goes
 * round its controls without leaving it.
 */
export async function checkDialog(s: BrowserSession, t: Test, name: string): Promise<void> {
  const dialog = s.page.getByRole('dialog', { name })
  await dialog.waitFor()
  const where = `the dialog "${name}" on ${s.path}`
  t.ok(await dialog.evaluate((d) => (d as HTMLDialogElement).open && d.matches(':modal')), `${where} is modal`)
  const findings = await axeFindings(s.page, true)
  t.strictSame(findings.map(formatFinding), [], `${where}: axe-core passes`)
  const controls = await dialog.locator('a[href], button, input:not([type="hidden"]), select, textarea').count()
  let inside = 0
  for (let i = 0; i < controls + 2; i++) {
    await s.page.keyboard.press('Tab')
    const state = await dialog.evaluate((d) => {
      const el = document.activeElement as HTMLElement | null
      if (!el || el === document.body) return 'none'
      if (!d.contains(el)) return 'outside'
      const style = getComputedStyle(el)
      const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0
      return outline || (style.boxShadow !== 'none' && style.boxShadow !== '') ? 'visible' : 'invisible'
    })
    t.not(state, 'outside', `${where}: Tab never leaves the dialog`)
    if (state === 'invisible') t.fail(`${where}: a control has no visible focus indicator`)
    if (state !== 'none') inside++
  }
  t.ok(inside >= controls, `${where}: Tab reaches its ${controls} controls`)
  t.strictSame(s.takeConsoleErrors(), [], `${where}: no script error or CSP violation in the console`)
}

/** The last email queued for an address: its subject and the path of the first link in it. */
export async function lastEmailTo(db: Db, to: string): Promise<{ subject: string; path: string }> {
  const row = await db('outbox_emails').where({ to_address: to }).orderBy('id', 'desc').first()
  if (!row) throw new Error(`no email to ${to} in the outbox`)
  const link = /https?:\/\/\S+/.exec(row.body_text as string)?.[0]
  if (!link) throw new Error(`the email to ${to} holds no link`)
  const url = new URL(link)
  return { subject: row.subject as string, path: url.pathname + url.search }
}

/** Tabs to a link or button and follows it with the key a keyboard user presses (Enter, or Space on a button). */
export async function follow(s: BrowserSession, role: 'link' | 'button', name: string): Promise<void> {
  await s.tabTo(role, name)
  await s.pressForNewPage(role === 'link' ? 'Enter' : 'Space')
}

/** The text of the status region (#status, aria-live), whitespace folded. */
export async function statusText(s: BrowserSession): Promise<string> {
  return ((await s.page.locator('#status').textContent()) ?? '').replace(/\s+/g, ' ').trim()
}
