/**
 * `npm test` (after typecheck and lint): starts the test PostgreSQL, builds the template database, runs
 * tap over test/, and ends with one line `N passed, N failed` counting every test file's tests.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { ROOT_DIR } from '../src/config.js'
import { chromiumStatus } from '../test/helpers/browser.js'
import { prepareTestServer, TEMPLATE_DB } from './test-database.js'

// The raw TAP of this run, counted at the end (per process, so two runs never mix their counts).
const outDir = path.join(ROOT_DIR, '.tap', 'raw')
mkdirSync(outDir, { recursive: true })
const rawFile = path.join(outDir, `run-${process.pid}.tap`)

// Say it loudly, before tap hides test output: without Chromium the browser suite is skipped (or, with
// CI=true, fails).
const chromium = chromiumStatus()
if (!chromium.found) process.stderr.write(`\n!!!!!!!! ${chromium.line}\n\n`)

// The compiled build, as the container runs it, which test/processes/ starts as server processes: in a folder
// of this run's own (so that two runs never rebuild under each other), removed at the end.
const buildDir = path.join(ROOT_DIR, '.tap', 'build', `run-${process.pid}`)
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', buildDir], {
  cwd: ROOT_DIR,
  stdio: 'inherit',
})
if (build.status !== 0) {
  process.stdout.write('0 passed, 1 failed\n')
  process.exit(1)
}

const server = await prepareTestServer()
const args = [
  'tap',
  '--reporter',
  process.env.TAP_REPORTER ?? (process.stdout.isTTY ? 'base' : 'terse'),
  '--output-file',
  rawFile,
  ...process.argv.slice(2),
]
const child = spawn('npx', args, {
  cwd: ROOT_DIR,
  stdio: 'inherit',
  env: {
    ...process.env,
    TEST_DATABASE_ADMIN_URL: server.adminUrl,
    TEST_TEMPLATE_DB: TEMPLATE_DB,
    TEST_BUILD_DIR: buildDir,
  },
})
const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)))
await server.stop()
rmSync(buildDir, { recursive: true, force: true })

/** Tests are the points one level inside each file (its t.test blocks and top-level assertions). */
function countTests(tap: string): { passed: number; failed: number } {
  let passed = 0
  let failed = 0
  for (const line of tap.split('\n')) {
    const m = /^ {4}(not ok|ok) \d+/.exec(line)
    if (!m) continue
    if (m[1] === 'ok') passed++
    else failed++
  }
  return { passed, failed }
}

/**
 * Every failed point (the innermost, not the tests around it that failed because of it), with the names of
 * the tests around it and its diagnostics, so a CI log that keeps only its tail still says what failed.
 */
function failureReport(tap: string): string {
  const out: string[] = []
  const names: string[] = []
  let lastDepth = -1
  const lines = tap.split('\n')
  const line = (i: number): string => lines[i] ?? ''
  for (let i = 0; i < lines.length; i++) {
    const subtest = /^( *)# Subtest: (.*)$/.exec(line(i))
    if (subtest) {
      names.length = (subtest[1] ?? '').length / 4
      names.push(subtest[2] ?? '')
      continue
    }
    const failed = /^( *)not ok \d+ - (.*)$/.exec(line(i))
    if (!failed) continue
    const depth = (failed[1] ?? '').length / 4
    // A test that failed because a test inside it failed: that one is already reported.
    const parent = depth < lastDepth
    lastDepth = depth
    if (parent) continue
    out.push(`not ok: ${[...names.slice(0, depth), failed[2]].join(' › ')}`)
    if (line(i + 1).trim() !== '---') continue
    // The diagnostics, without the `at` and `source` blocks (the stack says where).
    const indent = line(i + 1).indexOf('---')
    let skipping = false
    let shown = 0
    for (let j = i + 2; j < lines.length && line(j).trim() !== '...' && shown < 24; j++) {
      const text = line(j).slice(indent)
      if (!text.startsWith(' ')) skipping = text.startsWith('at:') || text.startsWith('source:')
      if (skipping) continue
      out.push(`    ${text}`)
      shown++
    }
  }
  return out.length ? `\nFailures:\n${out.slice(0, 200).join('\n')}\n` : ''
}

let counts = { passed: 0, failed: code === 0 ? 0 : 1 }
try {
  const tap = readFileSync(rawFile, 'utf8')
  process.stdout.write(failureReport(tap))
  counts = countTests(tap)
  if (code !== 0 && counts.failed === 0) counts.failed = 1
} catch {
  // no raw output: tap itself failed before running anything
}
rmSync(rawFile, { force: true })
process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed\n`)
process.exit(code)
