import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'
import { chromiumStatus, requireChromium } from '../helpers/browser.js'

t.test('a missing Chromium skips the browser suite with one loud line, and fails it on CI', async (t) => {
  const nowhere = { CHROMIUM_PATH: '/nowhere/chromium' }
  const local = chromiumStatus(nowhere, () => false)
  t.match(local, { found: false, path: '/nowhere/chromium', failRun: false }, 'without Chromium: skipped')
  t.match(
    local.found ? '' : local.line,
    /^BROWSER SUITE SKIPPED: no Chromium at \/nowhere\/chromium\. .*apt-get install chromium/,
    'the line says where it looked and how to install Chromium',
  )
  const ci = chromiumStatus({ ...nowhere, CI: 'true' }, () => false)
  t.match(ci, { found: false, failRun: true }, 'with CI=true: the run fails')
  t.match(ci.found ? '' : ci.line, /^BROWSER SUITE FAILED \(CI=true\): .*apt-get install chromium/, 'saying so')
  const debian = chromiumStatus({}, (file) => file === '/usr/bin/chromium')
  t.strictSame(debian, { found: true, path: '/usr/bin/chromium' }, "Debian's Chromium by default")
  const chosen = chromiumStatus({ CHROMIUM_PATH: '/opt/c' }, (file) => file === '/opt/c')
  t.strictSame(chosen, { found: true, path: '/opt/c' }, 'or the one CHROMIUM_PATH names')
})

if (requireChromium(t)) {
  await t.test('a deliberately broken page fails the browser suite, leaving screenshots and HTML', async (t) => {
    const results = mkdtempSync(path.join(os.tmpdir(), 'kyc-broken-results-'))
    t.teardown(() => rmSync(results, { recursive: true, force: true }))
    // The fixture is a test file of its own, run outside this tap run (none of its settings or hooks).
    const env: NodeJS.ProcessEnv = { BROWSER_RESULTS_DIR: results }
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(TAP|_TAPJS|NODE_OPTIONS$|NODE_V8_COVERAGE$)/.test(key)) env[key] = value
    }
    const fixture = path.join(ROOT_DIR, 'test', 'browser', 'fixtures', 'broken-page.ts')
    // tap wraps spawn to put its coverage loader back into NODE_OPTIONS; `env -u` takes it out again, since
    // coverage of a process run with another TypeScript loader would not merge with the suite's.
    const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, '--import', 'tsx', fixture], {
      cwd: ROOT_DIR,
      env,
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += String(chunk)
    })
    child.stderr.on('data', (chunk) => {
      output += String(chunk)
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const text = output.replace(/\s+/g, ' ')

    t.not(code, 0, 'the run fails')
    t.match(text, /not ok \d+ - with JavaScript/, 'with JavaScript')
    t.match(text, /not ok \d+ - without JavaScript/, 'and without')
    // The checks of each mode report under its subtest; the HTML checker runs once, after both.
    const [withJs = '', withoutJs = ''] = text.split('# Subtest: without JavaScript')
    const pageChecks: [string, string][] = [
      ['[axe] label', 'axe-core finds the field without a label'],
      ['[screen reader] control-name', 'the accessibility tree has a control without a name'],
      ['[screen reader] one-h1', 'and two level-1 headings'],
      ['[keyboard] focus-visible', 'the button has no visible focus'],
      ['[keyboard] skip-link', 'there is no skip link'],
    ]
    for (const [finding, what] of pageChecks) {
      t.ok(withJs.includes(finding), `with JavaScript, ${what} (${finding})`)
      t.ok(withoutJs.includes(finding), `without JavaScript, ${what} (${finding})`)
    }
    t.ok(text.includes('[html] nu-html-checker'), 'the Nu HTML Checker finds the <div> inside a <p>')
    t.match(text, 'http://127.0.0.1:', 'each finding names the page')

    const files = readdirSync(results).sort()
    t.strictSame(
      files.filter((f) => f.includes('javascript')).map((f) => f.replace(/^.*--(with|without)-javascript/, '$1')),
      ['with.html', 'with.png', 'without.html', 'without.png'],
      'a screenshot and the HTML for each failed mode',
    )
    t.equal(
      files.filter((f) => f.endsWith('-test-only-broken.html')).length,
      2,
      'and the pages the HTML checker refused',
    )
    for (const f of files) t.ok(statSync(path.join(results, f)).size > 500, `${f} is not empty`)
  })
}
