/** Steps shared by the browser flows, done the way a keyboard user does them. */
import type { Test } from 'tap'
import type { Db } from '../../src/db/knex.js'
import type { BrowserSession, PageReport } from '../helpers/browser.js'
import type { User } from '../helpers/factories.js'

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
