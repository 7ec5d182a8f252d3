/**
 * Evaluates the screening matcher on the shipped lists: recall per kind of name variation, precision over all
 * alerts, alerts per 1,000 invented negatives; the index's build time, memory and query times.
 *
 *   npx tsx scripts/eval-screening.ts
 *
 * Original-script names are reported twice: against the index as built (which holds those very names, so
 * nearly every one is found verbatim) and against an index without original-script names, which is the honest
 * figure for matching across scripts. Exits non-zero only when something fails, never on the figures.
 */
import { parseListPaths } from '../src/screening/lists/parse.js'
import { SHIPPED_LIST_FILES } from '../src/screening/lists/shipped.js'
import { buildEvaluationSet, type EvalCase, type EvalReport, evaluate } from '../src/screening/match/evaluation.js'
import { DEFAULT_MATCH_OPTIONS, type IndexedEntry, NameIndex } from '../src/screening/match/name-index.js'

const SWEEP = [0.84, 0.86, 0.87, 0.88, 0.89, 0.9, 0.92]

// npm run eval:screening runs node with --expose-gc, so the index's heap is measured after a full collection.
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const ms = (x: number) => `${x.toFixed(3)} ms`

function measure<T>(build: () => T): { value: T; ms: number; mb: number } {
  gc()
  const before = process.memoryUsage().heapUsed
  const started = performance.now()
  const value = build()
  const elapsed = performance.now() - started
  gc()
  return { value, ms: elapsed, mb: (process.memoryUsage().heapUsed - before) / 1e6 }
}

function table(report: EvalReport, crossScript: EvalReport): void {
  console.log('category                          cases   found   recall')
  for (const row of report.categories) {
    const label = row.category === 'negative' ? 'negative (alerted)' : row.category
    console.log(
      `${label.padEnd(32)} ${String(row.cases).padStart(6)}  ${String(row.found).padStart(6)}   ${pct(row.recall)}`,
    )
    if (row.category === 'original-script') {
      const honest = crossScript.categories[0]
      if (honest) {
        const label2 = '  ...without original script'
        console.log(
          `${label2.padEnd(32)} ${String(honest.cases).padStart(6)}  ${String(honest.found).padStart(6)}   ${pct(honest.recall)}`,
        )
      }
    }
  }
  console.log(
    `alerts ${report.alerts}, of which the expected entry ${report.correctAlerts}: precision ${pct(report.precision)}`,
  )
  console.log(
    `negatives ${report.negatives}, alerted ${report.negativesAlerted}: ${report.alertsPer1000Negatives.toFixed(1)} per 1,000`,
  )
}

async function main(): Promise<void> {
  const loaded = measure(() => parseListPaths([...SHIPPED_LIST_FILES]))
  const lists = await loaded.value
  const entries: IndexedEntry[] = lists.flatMap((l) => l.entries.map((e) => ({ ...e, list: l.format })))
  const names = entries.reduce((n, e) => n + e.names.length, 0)
  console.log(`lists: ${lists.map((l) => `${l.format} ${l.entries.length}`).join(', ')}; ${names} names`)

  const built = measure(() => new NameIndex(entries))
  const index = built.value
  console.log(`index: built in ${built.ms.toFixed(0)} ms, ${built.mb.toFixed(1)} MB of heap`)
  const withoutScript = new NameIndex(entries.map((e) => ({ ...e, names: e.names.filter((n) => !n.originalScript) })))

  const cases = buildEvaluationSet(entries)
  const originalScript = cases.filter((c: EvalCase) => c.category === 'original-script')
  const options = DEFAULT_MATCH_OPTIONS
  evaluate(index, cases, options) // warm-up: the timed run below is the steady state
  const report = evaluate(index, cases, options)
  const crossScript = evaluate(withoutScript, originalScript, options)
  console.log(`\nthreshold ${options.threshold} (birth date and country: none in the set)`)
  table(report, crossScript)
  console.log(`query time over ${cases.length} queries: mean ${ms(report.meanMs)}, p95 ${ms(report.p95Ms)}`)
  console.log(`100,000 clients at that mean: ${((report.meanMs * 100_000) / 1000).toFixed(1)} s of matching`)

  console.log('\nthreshold sweep: recall per category | cross-script | alerts per 1,000 negatives | precision')
  for (const threshold of SWEEP) {
    const r = evaluate(index, cases, { ...options, threshold })
    const x = evaluate(withoutScript, originalScript, { ...options, threshold })
    const recalls = r.categories
      .filter((c) => c.category !== 'negative')
      .map((c) => `${c.category} ${pct(c.recall)}`)
      .join(', ')
    const honest = pct(x.categories[0]?.recall ?? 0)
    console.log(
      `${threshold.toFixed(2)}: ${recalls} | ${honest} | ${r.alertsPer1000Negatives.toFixed(1)} | ${pct(r.precision)}`,
    )
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
