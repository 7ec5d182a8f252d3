/**
 * Bar charts for the Reports tab (issue 16): the numbers of a horizontal bar chart, drawn by
 * views/components/bar-chart.eta.
 *
 * Why hand-made SVG rather than a charting library: every chart here is bars with labels, which is a few
 * rectangles and texts; SVG presentation attributes (fill, width, x, y…) are not governed by the CSP's
 * style-src, so nothing needs an inline style or script (most libraries set style="" or draw with
 * JavaScript); there is no extra dependency to vet and update; and the markup stays ours, so axe and the
 * Nu HTML Checker pass and the chart is one image with a name and a description for screen readers.
 *
 * Only the graphics are SVG: each bar is a small <svg> whose width attribute is a percentage of the plot
 * (an attribute, so CSP-safe, and it reflows). The words and numbers are HTML beside the bars, never on
 * top of an SVG: axe-core cannot decide the contrast of text drawn over an <svg> (it counts the SVG as an
 * image behind the text) and test/browser/checks.ts fails what axe cannot decide; HTML text also keeps the
 * reader's text size and wraps, where SVG text would shrink with the chart on a phone.
 *
 * Pure: no I/O.
 */

export interface ChartRow {
  label: string
  value: number
  /** Where the row's figure leads (the table beside the chart holds the links; the chart has none). */
  href?: string
}

export interface BarChart {
  /** The chart's id; its name, description and patterns take ids prefixed by it. */
  id: string
  title: string
  description: string
  bars: Bar[]
  /** 3 or 5 ticks from 0 to `max`, each with a grid line (none without rows). */
  ticks: Tick[]
  /** The value at the right end of the scale (a nice number: 1, 2 or 5 × 10ⁿ); 0 without rows. */
  max: number
  /** Room kept after the plot for the value printed after the longest bar: its characters, rounded up. */
  valueRoom: ValueRoom
}

export interface Bar {
  label: string
  value: number
  /** The value as printed after the bar ("1,250"). */
  valueText: string
  href?: string
  /** The bar's length, in per cent of the plot (the largest possible value fills it). */
  percent: number
  /** 0 solid, 1 diagonal hatch, 2 dots, 3 cross-hatch: adjacent bars differ by more than colour. */
  pattern: number
}

export interface Tick {
  value: number
  /** Where it stands, in per cent of the plot. */
  percent: number
  text: string
}

export type ValueRoom = 4 | 6 | 8 | 10 | 12

export const PATTERNS = 4

const NUMBER = new Intl.NumberFormat('en-GB')
const formatNumber = (n: number) => NUMBER.format(n)

/** Rounds away floating-point dust (0.1 + 0.2) from computed percentages and tick values. */
const round = (n: number) => Math.round(n * 1000) / 1000

/**
 * The scale: its right end (1, 2 or 5 × 10ⁿ, the smallest at or above `max`) and its step (2 or 4 steps,
 * so 3 or 5 ticks with 0). With whole numbers only (counts), the steps are whole too: a count of 3 goes on
 * a scale of 0, 5, 10 rather than 0, 2.5, 5.
 */
export function niceScale(max: number, wholeNumbers: boolean): { max: number; step: number } {
  const top = max > 0 ? max : 1
  let exponent = Math.floor(Math.log10(top))
  for (;;) {
    const power = 10 ** exponent
    for (const digit of [1, 2, 5]) {
      const niceMax = round(digit * power)
      if (niceMax < top) continue
      // 1 → quarters (0, 25, 50, 75, 100) or halves; 2 → quarters or halves; 5 → halves.
      for (const steps of digit === 5 ? [2] : [4, 2]) {
        const step = round(niceMax / steps)
        if (!wholeNumbers || Number.isInteger(step)) return { max: niceMax, step }
      }
    }
    exponent++
  }
}

function defaultDescription(rows: ChartRow[]): string {
  if (rows.length === 0) return 'No data.'
  return `${rows.map((r) => `${r.label}: ${formatNumber(r.value)}`).join(', ')}.`
}

function valueRoom(texts: string[]): ValueRoom {
  const longest = Math.max(0, ...texts.map((s) => s.length))
  return Math.min(12, Math.max(4, Math.ceil(longest / 2) * 2)) as ValueRoom
}

/**
 * A horizontal bar chart of `rows`, in their order: one row per category, its label above its bar, bars
 * scaled to a nice maximum, the value printed after each bar. Values must be finite and 0 or more.
 * `description` defaults to every row in words ("Low: 120, Medium: 40, High: 7."), "No data." without rows.
 */
export function barChart(opts: { id: string; title: string; description?: string; rows: ChartRow[] }): BarChart {
  const { id, title, rows } = opts
  for (const row of rows) {
    if (!Number.isFinite(row.value) || row.value < 0) {
      throw new RangeError(`Chart ${id}: the value of "${row.label}" must be a number of 0 or more`)
    }
  }
  const description = opts.description ?? defaultDescription(rows)
  if (rows.length === 0) return { id, title, description, bars: [], ticks: [], max: 0, valueRoom: 4 }

  const scale = niceScale(
    Math.max(...rows.map((r) => r.value)),
    rows.every((r) => Number.isInteger(r.value)),
  )
  const percent = (value: number) => round((value / scale.max) * 100)
  const bars = rows.map((row, i): Bar => {
    const bar: Bar = {
      label: row.label,
      value: row.value,
      valueText: formatNumber(row.value),
      percent: percent(row.value),
      pattern: i % PATTERNS,
    }
    if (row.href !== undefined) bar.href = row.href
    return bar
  })
  const ticks: Tick[] = []
  for (let value = 0; value <= scale.max + scale.step / 2; value = round(value + scale.step)) {
    ticks.push({ value, percent: percent(value), text: formatNumber(value) })
  }
  return { id, title, description, bars, ticks, max: scale.max, valueRoom: valueRoom(bars.map((b) => b.valueText)) }
}
