/**
 * The shape of the code, checked (issue 11): plugins import no feature folder; no area imports another
 * area's routes; the client page (src/entities/) imports none of the areas that add sections to it.
 * A feature folder ("area") is a folder of src/ with a routes.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'

const SRC = path.join(ROOT_DIR, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : []
  })
}

/** Each relative import of a file, resolved to a path under src/ (as "area/file.ts"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)].map((m) =>
    path.relative(SRC, path.resolve(path.dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))),
  )
}

const areas = new Set(readdirSync(SRC).filter((name) => existsSync(path.join(SRC, name, 'routes.ts'))))
const areaOf = (relative: string) => relative.split(path.sep)[0] as string
const files = sourceFiles(SRC)

t.test('there are areas to check', async (t) => {
  t.ok(
    areas.has('entities') && areas.has('documents') && areas.has('services') && areas.size >= 8,
    [...areas].join(', '),
  )
})

t.test('plugins import no feature folder', async (t) => {
  const offending = files
    .filter((f) => path.relative(SRC, f).startsWith(`plugins${path.sep}`))
    .flatMap((f) =>
      importsOf(f)
        .filter((i) => areas.has(areaOf(i)))
        .map((i) => `${path.relative(SRC, f)} → ${i}`),
    )
  t.same(offending, [])
})

t.test("no area imports another area's routes", async (t) => {
  // src/app.ts, the composition root, registers every area's routes: it is no area.
  const offending = files.flatMap((f) => {
    const from = path.relative(SRC, f)
    if (!from.includes(path.sep)) return []
    return importsOf(f)
      .filter((i) => path.basename(i) === 'routes.ts' && areaOf(i) !== areaOf(from) && areas.has(areaOf(i)))
      .map((i) => `${from} → ${i}`)
  })
  t.same(offending, [])
})

t.test('the client page imports none of the areas that add sections to it', async (t) => {
  const sectionAreas = ['services', 'documents', 'client-access', 'recycle-bin']
  const offending = files
    .filter((f) => path.relative(SRC, f).startsWith(`entities${path.sep}`))
    .flatMap((f) =>
      importsOf(f)
        .filter((i) => sectionAreas.includes(areaOf(i)))
        .map((i) => `${path.relative(SRC, f)} → ${i}`),
    )
  t.same(offending, [])
})

t.test('no hand-written interval scheduler is left in src/', async (t) => {
  const offending = files
    .filter((f) => /\bsetInterval\s*\(/.test(readFileSync(f, 'utf8')))
    .map((f) => path.relative(SRC, f))
  t.same(offending, [], 'scheduled work runs on the job queue')
})
