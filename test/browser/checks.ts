/**
 * The checks the browser suite runs on every page it visits: axe-core (WCAG 2.2 AA), the keyboard, the
 * accessibility tree a screen reader reads, and the W3C Nu HTML Checker. Each returns findings instead of
 * asserting, so that test/browser/checks-can-fail.test.ts can prove every check finds a broken page.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

export interface Finding {
  check: 'axe' | 'keyboard' | 'screen reader' | 'html'
  rule: string
  target: string
  url: string
  message: string
}

export function formatFinding(f: Finding): string {
  return `[${f.check}] ${f.rule} — ${f.target} — ${f.url} — ${f.message}`
}

const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
export const VNU_JAR = require.resolve('vnu-jar/build/dist/vnu.jar')
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

/**
 * Code passed to page.evaluate is serialised from our TypeScript, and tsx wraps named functions in a
 * `__name(...)` helper that exists only in Node: define a no-op one in the page first.
 */
async function inPage<R, A extends object | null>(page: Page, fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
  await page.evaluate('window.__name = window.__name || ((f) => f)')
  return page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg as unknown)
}

function pageUrl(page: Page): string {
  return page.url().replace(/#.*$/, '')
}

interface AxeNode {
  target: unknown[]
  failureSummary?: string
}
interface AxeRule {
  id: string
  help: string
  nodes: AxeNode[]
}
interface AxeResults {
  violations: AxeRule[]
  passes: AxeRule[]
  incomplete: AxeRule[]
  inapplicable: AxeRule[]
}

/**
 * Runs axe-core on the page as it is. With JavaScript on it runs like any script (CDP evaluation is not
 * bound by the page's Content-Security-Policy). With JavaScript off Chromium still evaluates our code but
 * never fires timers, which axe waits on: we replace the page's timer functions with Promise reactions.
 * No script of the page itself ever runs, so axe sees exactly the page a visitor without JavaScript sees.
 */
export async function axeFindings(page: Page, javaScriptEnabled: boolean): Promise<Finding[]> {
  if (!javaScriptEnabled) {
    await inPage(
      page,
      () => {
        const cancelled = new Set<number>()
        let next = 1
        const later = (fn: (...a: unknown[]) => void, _ms?: number, ...args: unknown[]): number => {
          const id = next++
          // Not queueMicrotask: with scripting disabled Chromium never runs its callbacks, but it does run
          // a Promise's reactions.
          Promise.resolve().then(() => {
            if (!cancelled.has(id)) fn(...args)
          })
          return id
        }
        const w = window as unknown as Record<string, unknown>
        w.setTimeout = later
        w.requestAnimationFrame = later
        w.requestIdleCallback = later
        w.clearTimeout = (id: number) => cancelled.add(id)
        w.cancelAnimationFrame = w.clearTimeout
      },
      null,
    )
  }
  await page.evaluate(AXE_SOURCE)
  const results = await inPage(
    page,
    (tags: string[]) => {
      const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<unknown> } }).axe
      return axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        rules: { 'target-size': { enabled: true } },
        // No preload (fetching stylesheets and media for experimental rules): the same run in both modes.
        preload: false,
      }) as Promise<AxeResults>
    },
    AXE_TAGS,
  )
  const url = pageUrl(page)
  const findings: Finding[] = []
  // "Incomplete" is axe saying it could not decide (a contrast over an image, say): a person must look, so
  // it fails too, until the page is changed so that axe can decide.
  const undecided = results.incomplete.map((rule) => ({ ...rule, id: `${rule.id} (axe could not decide)` }))
  for (const rule of [...results.violations, ...undecided]) {
    for (const node of rule.nodes) {
      findings.push({
        check: 'axe',
        rule: rule.id,
        target: node.target.map(String).join(' '),
        url,
        message: rule.help,
      })
    }
  }
  const evaluated = [...results.passes, ...results.violations, ...results.incomplete, ...results.inapplicable]
  if (!evaluated.some((r) => r.id === 'target-size')) {
    findings.push({ check: 'axe', rule: 'target-size', target: 'document', url, message: 'the rule did not run' })
  }
  return findings
}

/** What the keyboard check found: controls reached, in order, and focus problems on the way. */
export interface KeyboardReport {
  findings: Finding[]
  reached: string[]
}

interface FocusState {
  /** Index of the focused element among the page's tabbable elements, -1 when it is none of them. */
  index: number
  /** Nothing has focus (the body): Tab starts again from the top of the page. */
  atTop: boolean
  description: string
  visible: boolean
  inMain: boolean
  isMain: boolean
}

/** The tabbable elements of the page, in document order, and where focus is now. */
function focusState(): { tabbables: string[]; focus: FocusState } {
  const selector =
    'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
  const all = Array.from(document.querySelectorAll<HTMLElement>(selector))
  const list = all.filter((el) => {
    if ((el as HTMLButtonElement).disabled) return false
    // Tab reaches one radio button of a group: the checked one, or the first.
    if (el instanceof HTMLInputElement && el.type === 'radio' && el.name) {
      const group = all.filter((o) => o instanceof HTMLInputElement && o.type === 'radio' && o.name === el.name)
      const stop = group.find((o) => (o as HTMLInputElement).checked) ?? group[0]
      if (el !== stop) return false
    }
    // The content of a closed <details> is not reached (Chromium still gives it boxes); its summary is.
    const closed = el.closest('details:not([open])')
    if (closed && !(el.tagName === 'SUMMARY' && el.parentElement === closed)) return false
    const style = getComputedStyle(el)
    return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0
  })
  const describe = (el: Element): string => {
    const text = (el.getAttribute('aria-label') || el.textContent || '').trim().replace(/\s+/g, ' ')
    const name = el.getAttribute('name') || el.getAttribute('id') || ''
    return `${el.tagName.toLowerCase()}${name ? `[${name}]` : ''}${text ? ` "${text.slice(0, 40)}"` : ''}`
  }
  const active = document.activeElement as HTMLElement | null
  const index = active ? list.indexOf(active) : -1
  let visible = false
  if (active && index >= 0) {
    const style = getComputedStyle(active)
    const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== ''
    const r = active.getBoundingClientRect()
    const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
    visible = (outline || shadow) && onScreen && r.top < window.innerHeight && r.left < window.innerWidth
  }
  const main = document.querySelector('main')
  return {
    tabbables: list.map(describe),
    focus: {
      index,
      atTop: !active || active === document.body,
      description: active && active !== document.body ? describe(active) : 'nothing (body)',
      visible,
      inMain: Boolean(main && active && main !== active && main.contains(active)),
      isMain: Boolean(main && active === main),
    },
  }
}

export async function currentFocus(page: Page): Promise<{ tabbables: string[]; focus: FocusState }> {
  return inPage(page, focusState, null)
}

/**
 * Tabs once round the whole page: every tabbable control must be reached in document order, each with a
 * visible focus indicator on screen. The first control must be the skip link: Enter on it must move focus
 * to main, and the next Tab must land inside main.
 */
export async function keyboardReport(page: Page): Promise<KeyboardReport> {
  const url = pageUrl(page)
  const findings: Finding[] = []
  const add = (rule: string, target: string, message: string) =>
    findings.push({ check: 'keyboard', rule, target, url, message })
  const { tabbables, focus: start } = await currentFocus(page)
  if (tabbables.length === 0) {
    add('skip-link', 'document', 'nothing on the page can be reached with Tab, not even a skip link')
    return { findings, reached: [] }
  }
  // A native date or time field is one control with a Tab stop per part (Chromium: month, day, year and its
  // calendar button): its stops count as one, and the budget allows for them.
  const partedFields = await page
    .locator(
      'input[type="date"], input[type="time"], input[type="datetime-local"], input[type="month"], input[type="week"]',
    )
    .count()
  const limit = tabbables.length + 3 + 4 * partedFields
  const tab = async () => {
    await page.keyboard.press('Tab')
    return (await currentFocus(page)).focus
  }
  // Leave wherever focus is (an error summary, say) and go round to the first control of the page: after
  // the last control Chromium moves focus to the body or straight back to the first one.
  let state = start
  const path = [start.description]
  for (let i = 0; state.index !== 0 && i < limit; i++) {
    state = await tab()
    path.push(state.description)
  }
  if (state.index !== 0) {
    add('focus-trap', path.join(' → '), 'Tab never came round to the first control of the page')
    return { findings, reached: [] }
  }
  // One full round, from the first control back to it.
  const reached: string[] = []
  let lastIndex = -1
  for (let i = 0; i < limit; i++) {
    // The next stop in the same control (a date field's next part) is not another control.
    if (state.index === -1 || state.index !== lastIndex) reached.push(state.description)
    lastIndex = state.index
    if (!state.visible) add('focus-visible', state.description, 'focused by keyboard without a visible focus indicator')
    state = await tab()
    if (state.atTop) state = await tab()
    if (state.index === 0) break
  }
  if (reached.join('\n') !== tabbables.join('\n')) {
    add('tab-order', reached.join(' → '), `Tab reached these controls instead of ${tabbables.join(' → ')}`)
  }
  // Focus is on the first control again, where the first Tab on a newly opened page puts it.
  if (state.index !== 0 || !/^a(\[[^\]]*\])? "skip to main content"$/i.test(state.description)) {
    add('skip-link', state.description, 'the first control in Tab order is not a "Skip to main content" link')
    return { findings, reached }
  }
  await page.keyboard.press('Enter')
  const afterSkip = await currentFocus(page)
  if (!afterSkip.focus.isMain) add('skip-link', afterSkip.focus.description, 'the skip link did not move focus to main')
  await page.keyboard.press('Tab')
  const next = await currentFocus(page)
  if (!next.focus.inMain && (await page.locator('main').locator('a[href], button, input, select, textarea').count())) {
    add('skip-link', next.focus.description, 'Tab after the skip link did not continue inside main')
  }
  return { findings, reached }
}

interface AxNode {
  nodeId: string
  ignored: boolean
  role?: { value?: unknown }
  name?: { value?: unknown }
  description?: { value?: unknown }
  properties?: { name: string; value: { value?: unknown } }[]
  parentId?: string
  childIds?: string[]
  backendDOMNodeId?: number
}

const CONTROL_ROLES = new Set([
  'textbox',
  'searchbox',
  'combobox',
  'listbox',
  'checkbox',
  'radio',
  'switch',
  'spinbutton',
  'slider',
  'button',
  'link',
  'menuitem',
  'tab',
])

/** A node of Chromium's own accessibility tree, as a screen reader gets it. */
export interface AccessibleNode {
  role: string
  name: string
  /** From aria-describedby: hints and error messages read after the name. */
  description: string
  level?: number
  focused: boolean
}

/** The page's accessibility tree in reading order, ignored nodes left out. */
export async function accessibilityTree(page: Page): Promise<AccessibleNode[]> {
  const cdp = await page.context().newCDPSession(page)
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as unknown as { nodes: AxNode[] }
    const byId = new Map(nodes.map((n) => [n.nodeId, n]))
    const out: AccessibleNode[] = []
    const visit = (n: AxNode | undefined) => {
      if (!n) return
      if (!n.ignored) {
        const prop = (name: string) => n.properties?.find((p) => p.name === name)?.value.value
        const level = prop('level')
        out.push({
          role: String(n.role?.value ?? ''),
          name: String(n.name?.value ?? '').trim(),
          description: String(n.description?.value ?? '').trim(),
          level: typeof level === 'number' ? level : undefined,
          focused: prop('focused') === true,
        })
      }
      for (const id of n.childIds ?? []) visit(byId.get(id))
    }
    visit(nodes.find((n) => n.parentId === undefined))
    return out
  } finally {
    await cdp.detach()
  }
}

/**
 * What a screen reader user meets: a page title, exactly one level-1 heading, one main landmark, and a
 * name on every control.
 */
export async function screenReaderFindings(page: Page): Promise<Finding[]> {
  const url = pageUrl(page)
  const tree = await accessibilityTree(page)
  const findings: Finding[] = []
  const add = (rule: string, target: string, message: string) =>
    findings.push({ check: 'screen reader', rule, target, url, message })
  const root = tree.find((n) => n.role === 'RootWebArea')
  if (!root?.name) add('page-title', 'document', 'the page has no title')
  const h1s = tree.filter((n) => n.role === 'heading' && n.level === 1)
  if (h1s.length !== 1) add('one-h1', h1s.map((h) => h.name).join(' | ') || 'none', `${h1s.length} level-1 headings`)
  const mains = tree.filter((n) => n.role === 'main')
  if (mains.length !== 1) add('one-main', 'main', `${mains.length} main landmarks`)
  for (const n of tree) {
    if (CONTROL_ROLES.has(n.role) && n.name === '') add('control-name', n.role, 'a control without an accessible name')
  }
  return findings
}

/** Runs the Nu HTML Checker once over a batch of saved pages; `urls` maps each file to the page it holds. */
export async function htmlFindings(files: string[], urls: Map<string, string> = new Map()): Promise<Finding[]> {
  if (files.length === 0) return []
  const output: string = await new Promise((resolve, reject) => {
    execFile(
      'java',
      ['-jar', VNU_JAR, '--errors-only', '--format', 'json', ...files],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        // vnu writes its report to stderr and exits 1 when it found errors.
        if (error && !stderr.trim().startsWith('{')) {
          reject(new Error(`the Nu HTML Checker did not run (is Java installed?): ${error.message} ${stderr}`))
        } else resolve(stderr)
      },
    )
  })
  const report = JSON.parse(output) as {
    messages: { type: string; url?: string; message: string; lastLine?: number; extract?: string }[]
  }
  return report.messages
    .filter((m) => m.type === 'error' || m.type === 'non-document-error')
    .map((m) => {
      const file = decodeURIComponent((m.url ?? '').replace(/^file:/, ''))
      return {
        check: 'html' as const,
        rule: 'nu-html-checker',
        target: `line ${m.lastLine ?? '?'}: ${(m.extract ?? '').replace(/\s+/g, ' ').trim()}`,
        url: urls.get(file) ?? file,
        message: m.message,
      }
    })
}
