/**
 * The shape of the tests, checked (issue 11, point 6): test/ mirrors src/ by area. A test file lives in
 * test/<area>/ for a folder src/<area>/, at the top of test/ for a top-level file of src/ (test/config.test.ts
 * for src/config.ts), or in one of the cross-cutting folders: security/, architecture/, helpers/, and
 * browser/ for the browser harness itself (an area's browser flows are test/<area>/browser.test.ts).
 * An area here is any folder of src/, with a routes.ts or not (test/db/ tests src/db/).
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'

const SRC = path.join(ROOT_DIR, 'src')
const TEST = path.join(ROOT_DIR, 'test')

/** test/views/ mirrors the templates (views/), whose components are tested on their own. */
const VIEWS = 'views'
/**
 * Suites about the whole app rather than one area (processes/: the compiled server run as processes of its
 * own, alone and behind a load balancer).
 */
const CROSS_CUTTING = ['security', 'architecture', 'helpers', 'processes']
/** The tests of the browser harness (its checks and error pages): the only tests test/browser/ holds. */
const BROWSER_HARNESS_TESTS = ['checks-can-fail.test.ts', 'error-pages.test.ts']

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    return statSync(full).isDirectory() ? filesUnder(full) : [full]
  })
}

const areas = new Set(readdirSync(SRC).filter((name) => statSync(path.join(SRC, name)).isDirectory()))

/** Why a test file (its path under test/, with '/') is not where the layout says it should be, or ''. */
function misplaced(file: string, srcAreas: ReadonlySet<string>, srcHas: (file: string) => boolean): string {
  const parts = file.split('/')
  const [top = ''] = parts
  if (parts.length === 1) {
    return srcHas(top.replace(/\.test\.ts$/, '.ts')) ? '' : `no src/${top.replace(/\.test\.ts$/, '.ts')} to mirror`
  }
  if (srcAreas.has(top) || CROSS_CUTTING.includes(top) || top === VIEWS) return ''
  if (top === 'browser') {
    return parts.length === 2 && BROWSER_HARNESS_TESTS.includes(parts[1] ?? '')
      ? ''
      : 'test/browser/ is for the harness: an area’s browser flows are test/<area>/browser.test.ts'
  }
  return `test/${top}/ is named after no folder of src/`
}

const srcHas = (file: string) => existsSync(path.join(SRC, file))
const testFiles = filesUnder(TEST)
  .map((f) => path.relative(TEST, f).split(path.sep).join('/'))
  .filter((f) => f.endsWith('.test.ts'))

t.test('there are tests and areas to check', async (t) => {
  t.ok(testFiles.length >= 40, `${testFiles.length} test files`)
  t.ok(areas.has('users') && areas.has('entities') && areas.has('client-access') && areas.size >= 15)
})

t.test('every test file lives in the folder of the src/ area it tests, or in a cross-cutting suite', async (t) => {
  const offending = testFiles
    .map((f) => [f, misplaced(f, areas, srcHas)])
    .filter(([, why]) => why)
    .map(([f, why]) => `test/${f}: ${why}`)
  t.same(offending, [])
})

t.test('the check refuses the layouts it is there to prevent', async (t) => {
  const refused = (file: string) => misplaced(file, areas, srcHas) !== ''
  t.ok(refused('integration/users.test.ts'), 'a folder by kind of test')
  t.ok(refused('unit/permissions.test.ts'), 'a folder by kind of test')
  t.ok(refused('browser/users.test.ts'), 'an area’s browser flow among the harness')
  t.ok(refused('browser/flows/users.test.ts'), 'nor below it')
  t.ok(refused('nowhere.test.ts'), 'a top-level test of no top-level src file')
  t.notOk(refused('users/users.test.ts'), 'an area')
  t.notOk(refused('users/browser.test.ts'), 'an area’s browser flows')
  t.notOk(refused('config.test.ts'), 'a top-level src file')
  t.notOk(refused('security/tenancy.test.ts'), 'a cross-cutting suite')
  t.notOk(refused('browser/checks-can-fail.test.ts'), 'the harness')
})
