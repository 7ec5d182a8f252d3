/**
 * The browser suite's harness: Debian's Chromium driven by playwright-core against the app on a free port
 * and a database of its own. Every flow runs twice, with and without JavaScript, in a browser with a fresh
 * user-data dir; every page it opens goes through the checks of test/browser/checks.ts and is saved for
 * the Nu HTML Checker; a failing flow leaves a screenshot and the page's HTML in test-results/browser/.
 */

import {
  accessSync,
  closeSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { freePort } from '../../scripts/free-port.js'
import { ROOT_DIR } from '../../src/config.js'
import type { Db } from '../../src/db/knex.js'
import {
  type AccessibleNode,
  accessibilityTree,
  axeFindings,
  type Finding,
  formatFinding,
  htmlFindings,
  keyboardReport,
  screenReaderFindings,
} from '../browser/checks.js'
import { testApp } from './app.js'

export const DEFAULT_CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
]
/** Where a failing flow leaves its screenshot and HTML (git-ignored). */
export const RESULTS_DIR = process.env.BROWSER_RESULTS_DIR ?? path.join(ROOT_DIR, 'test-results', 'browser')

export interface Mode {
  name: 'with JavaScript' | 'without JavaScript'
  javaScriptEnabled: boolean
}
export const MODES: readonly Mode[] = [
  { name: 'with JavaScript', javaScriptEnabled: true },
  { name: 'without JavaScript', javaScriptEnabled: false },
]

export type ChromiumStatus =
  | { found: true; path: string }
  | { found: false; path: string; line: string; failRun: boolean }

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Chromium from CHROMIUM_PATH or /usr/bin/chromium; when missing, the line to print and whether to fail. */
export function chromiumStatus(env: NodeJS.ProcessEnv = process.env, exists = isExecutable): ChromiumStatus {
  const file = env.CHROMIUM_PATH || DEFAULT_CHROMIUM
  if (exists(file)) return { found: true, path: file }
  const failRun = env.CI === 'true'
  const line =
    `${failRun ? 'BROWSER SUITE FAILED (CI=true)' : 'BROWSER SUITE SKIPPED'}: no Chromium at ${file}. ` +
    'Install it with `apt-get install chromium` (Debian), or set CHROMIUM_PATH to a Chromium binary.'
  return { found: false, path: file, line, failRun }
}

/**
 * Prints the line once per test run, however many browser test files find Chromium missing. (`npm test`
 * also prints it itself before tap starts, because tap's terse reporter drops a test's stderr.)
 */
function announceOnce(line: string): void {
  const marker = path.join(os.tmpdir(), `kyc-desk-browser-suite-${process.ppid}.announced`)
  try {
    closeSync(openSync(marker, 'wx'))
  } catch {
    return
  }
  process.stderr.write(`\n!!!!!!!! ${line}\n\n`)
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60)
}

export interface PageExpectation {
  /** The document title, before " — KYC Desk". */
  title: string
  h1: string
  status: number
}

/** What the checks saw of a page before the keyboard walk moved focus: for the flow's own assertions. */
export interface PageReport {
  tree: AccessibleNode[]
}

interface OpenedDocument {
  url: string
  status: number
  body: Promise<string>
  checked: boolean
}

/** One browser (fresh user-data dir) in one mode, for one flow. */
export class BrowserSession {
  private readonly documents: OpenedDocument[] = []
  /** Script errors and console errors (a CSP violation, say) since the last check. */
  private consoleErrors: string[] = []

  /** The script errors and console errors (a CSP violation, say) since the last check, taken. */
  takeConsoleErrors(): string[] {
    return this.consoleErrors.splice(0)
  }

  private constructor(
    readonly suite: BrowserSuite,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly mode: Mode,
    readonly flow: string,
    private readonly userDataDir: string,
  ) {
    page.on('pageerror', (error) => this.consoleErrors.push(`${page.url()}: ${error.message}`))
    page.on('console', (message) => {
      // The browser logs every 4xx document as a failed load: those statuses are checked on their own.
      if (message.type() !== 'error' || /^Failed to load resource: the server responded/.test(message.text())) return
      // Pages elsewhere (a single sign-on provider's) are not ours to check.
      if (!page.url().startsWith(this.suite.baseUrl)) return
      this.consoleErrors.push(`${page.url()}: ${message.text()}`)
    })
    page.on('response', (response) => {
      const request = response.request()
      if (!request.isNavigationRequest() || response.frame() !== page.mainFrame()) return
      if (!response.url().startsWith(this.suite.baseUrl)) return
      if (response.status() >= 300 && response.status() < 400) return
      // A download (Content-Disposition: attachment) leaves the page where it was: it is no page to check.
      if (/^\s*attachment/i.test(response.headers()['content-disposition'] ?? '')) return
      const body = response.text()
      body.catch(() => undefined)
      this.documents.push({ url: response.url(), status: response.status(), body, checked: false })
    })
  }

  static async open(suite: BrowserSuite, mode: Mode, flow: string): Promise<BrowserSession> {
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'kyc-chromium-'))
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: suite.chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      javaScriptEnabled: mode.javaScriptEnabled,
      viewport: { width: 1280, height: 800 },
      baseURL: suite.baseUrl,
    })
    context.setDefaultTimeout(10_000)
    const page = context.pages()[0] ?? (await context.newPage())
    return new BrowserSession(suite, context, page, mode, flow, userDataDir)
  }

  /** The path (and query) of the page shown now. */
  get path(): string {
    const url = new URL(this.page.url())
    return url.pathname + url.search
  }

  /** Opens an address as if typed into the address bar. */
  async goto(address: string): Promise<void> {
    await this.page.goto(address)
  }

  /** Presses a key that leads to a new page (Enter on a link, Space on a submit button) and waits for it. */
  async pressForNewPage(key: 'Enter' | 'Space'): Promise<void> {
    const loaded = this.page.waitForEvent('load')
    await this.page.keyboard.press(key === 'Space' ? ' ' : key)
    await loaded
  }

  /** Presses Tab until the control with this role and accessible name has focus; fails if it never does. */
  async tabTo(role: 'link' | 'button' | 'textbox' | 'searchbox', name: string): Promise<void> {
    const target = this.page.getByRole(role, { name, exact: true })
    if ((await target.count()) !== 1) throw new Error(`no single ${role} "${name}" on ${this.path}`)
    const count = await this.page.locator('a[href], button, input, select, textarea, [tabindex]').count()
    for (let i = 0; i < count + 3; i++) {
      if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return
      await this.page.keyboard.press('Tab')
    }
    throw new Error(`Tab never reached the ${role} "${name}" on ${this.path}`)
  }

  /** The focused element as tag#id ("input#email"), or "body". */
  async focused(): Promise<string> {
    return this.page.evaluate(() => {
      const el = document.activeElement
      if (!el || el === document.body) return 'body'
      return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`
    })
  }

  /**
   * Checks the page shown now: status, title and single h1; axe-core; the accessibility tree; the
   * keyboard walk (skip link, every control reached with visible focus). Saves its HTML for vnu.
   */
  async check(t: Test, expect: PageExpectation): Promise<PageReport> {
    const doc = this.documents.at(-1)
    const here = this.page.url().replace(/#.*$/, '')
    if (!doc || doc.url !== here) throw new Error(`no document response recorded for ${here}`)
    const where = `${this.path} (${this.mode.name})`
    t.equal(doc.status, expect.status, `${where} answers ${expect.status}`)
    t.equal(await this.page.title(), `${expect.title} — KYC Desk`, `${where} has the title "${expect.title}"`)
    const h1 = this.page.getByRole('heading', { level: 1 })
    t.equal(await h1.count(), 1, `${where} has one h1`)
    t.equal(((await h1.first().textContent()) ?? '').trim(), expect.h1, `${where} has the h1 "${expect.h1}"`)

    const htmx = await this.page.evaluate('typeof window.htmx')
    t.equal(
      htmx,
      this.mode.javaScriptEnabled ? 'object' : 'undefined',
      `${where}: htmx is running only with JavaScript`,
    )
    t.strictSame(this.takeConsoleErrors(), [], `${where}: no script error or CSP violation in the console`)

    const tree = await accessibilityTree(this.page)
    const findings: Finding[] = [
      ...(await axeFindings(this.page, this.mode.javaScriptEnabled)),
      ...(await screenReaderFindings(this.page)),
      ...(await keyboardReport(this.page)).findings,
    ]
    t.strictSame(findings.map(formatFinding), [], `${where}: axe-core, screen reader and keyboard checks pass`)

    const file = path.join(this.suite.savedDir, `${++this.suite.pageCount}-${slug(this.path) || 'root'}.html`)
    writeFileSync(file, await doc.body)
    this.suite.saved.push({ file, url: `${this.path} (${this.flow}, ${this.mode.name})` })
    doc.checked = true
    return { tree }
  }

  /** Pages the flow opened without checking them: every page must be checked. */
  uncheckedPages(): string[] {
    return this.documents.filter((d) => !d.checked).map((d) => `${d.url} (${d.status})`)
  }

  /** Saves a screenshot and the page's HTML; returns the two files. */
  async saveArtifacts(dir: string): Promise<string[]> {
    mkdirSync(dir, { recursive: true })
    const base = path.join(dir, `${slug(this.suite.fileName)}--${slug(this.flow)}--${slug(this.mode.name)}`)
    await this.page.screenshot({ path: `${base}.png`, fullPage: true })
    writeFileSync(`${base}.html`, await this.page.content())
    return [`${base}.png`, `${base}.html`]
  }

  async close(t: Test, failed: boolean): Promise<void> {
    try {
      if (failed) {
        const files = await this.saveArtifacts(RESULTS_DIR)
        t.comment(`failed at ${this.page.url()}; screenshot and HTML: ${files.join(', ')}`)
      }
    } catch (error) {
      t.comment(`could not save the screenshot and HTML: ${String(error)}`)
    } finally {
      await this.context.close()
      rmSync(this.userDataDir, { recursive: true, force: true })
    }
  }
}

/** The app on a free port, its database, and the pages saved so far for the HTML checker. */
export class BrowserSuite {
  readonly saved: { file: string; url: string }[] = []
  pageCount = 0

  constructor(
    readonly t: Test,
    readonly chromiumPath: string,
    readonly app: FastifyInstance,
    readonly db: Db,
    readonly baseUrl: string,
    readonly savedDir: string,
    readonly fileName: string,
  ) {}

  /**
   * A flow as a person's task, run once with JavaScript and once without. `run` returns what the person
   * ended with (on the page and in the database); both modes must end the same.
   */
  async flow<R>(name: string, run: (s: BrowserSession, t: Test) => Promise<R>): Promise<void> {
    await this.t.test(name, async (t) => {
      const results: R[] = []
      for (const mode of MODES) {
        await t.test(mode.name, async (mt) => {
          const s = await BrowserSession.open(this, mode, name)
          let threw = true
          try {
            results.push(await run(s, mt))
            mt.strictSame(s.uncheckedPages(), [], 'every page the flow opened was checked')
            threw = false
          } finally {
            await s.close(mt, threw || !mt.passing())
          }
        })
      }
      t.equal(results.length, 2, 'the flow finished in both modes')
      t.strictSame(
        results[1],
        results[0],
        'with and without JavaScript the same result, on the page and in the database',
      )
    })
  }

  /** Runs the Nu HTML Checker once over every page this file's flows saved. */
  async validateSavedPages(): Promise<void> {
    await this.t.test('every page the flows opened is valid HTML (Nu HTML Checker)', async (t) => {
      t.ok(this.saved.length > 0, `${this.saved.length} pages saved`)
      const findings = await htmlFindings(
        this.saved.map((s) => s.file),
        new Map(this.saved.map((s) => [s.file, s.url])),
      )
      if (findings.length > 0) {
        mkdirSync(RESULTS_DIR, { recursive: true })
        for (const s of this.saved)
          copyFileSync(s.file, path.join(RESULTS_DIR, `${slug(this.fileName)}--${path.basename(s.file)}`))
        t.comment(`the pages checked are in ${RESULTS_DIR}`)
      }
      t.strictSame(findings.map(formatFinding), [], 'no HTML errors')
    })
  }
}

/**
 * The Chromium to drive, or undefined when it is missing: then one loud line says so and how to install
 * it, and the file records a passing point saying the browser suite was skipped, or, with CI=true, fails.
 */
export function requireChromium(t: Test): string | undefined {
  const status = chromiumStatus()
  if (status.found) return status.path
  // At the end of the file, when a reporter surely listens to our stderr.
  t.teardown(() => announceOnce(status.line))
  if (status.failRun) t.fail(status.line)
  else t.pass(`browser suite skipped, no Chromium at ${status.path} (see the BROWSER SUITE SKIPPED line)`)
  return undefined
}

/** The suite for one test file: the app on a free port over a database of its own; undefined without Chromium. */
export async function browserSuite(
  t: Test,
  /** `publicUrl`: the app's links in emails and to itself (single sign-on's redirect) are its real address. */
  opts: { extraRoutes?: (app: FastifyInstance) => void; publicUrl?: boolean } = {},
): Promise<BrowserSuite | undefined> {
  const chromiumPath = requireChromium(t)
  if (!chromiumPath) return undefined
  const wanted = opts.publicUrl ? await freePort() : 0
  const overrides = opts.publicUrl ? { publicUrl: `http://127.0.0.1:${wanted}` } : {}
  const { app, db } = await testApp(t, overrides, opts.extraRoutes)
  await app.listen({ port: wanted, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const savedDir = mkdtempSync(path.join(os.tmpdir(), 'kyc-pages-'))
  t.teardown(() => rmSync(savedDir, { recursive: true, force: true }))
  const fileName = path.basename(process.argv[1] ?? 'browser').replace(/(\.test)?\.ts$/, '')
  return new BrowserSuite(t, chromiumPath, app, db, `http://127.0.0.1:${port}`, savedDir, fileName)
}
