/**
 * The bar chart of the Reports tab (issue 16): barChart()'s numbers (scale, ticks, patterns, the
 * description) and views/components/bar-chart.eta's markup (one image with a name and a description, bars
 * in SVG and words in HTML, no style attributes for the CSP, its text escaped). test/views/components.test.ts
 * puts it through axe and the Nu HTML Checker in a browser.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Eta } from 'eta'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'
import { type BarChart, barChart, niceScale } from '../../src/reports/chart.js'

const RISK = [
  { label: 'Low', value: 120, href: '/entities?risk=low' },
  { label: 'Medium', value: 40 },
  { label: 'High', value: 7 },
]

// The app's settings (src/plugins/external/views.ts): escaping on, whitespace kept.
const eta = new Eta({ views: path.join(ROOT_DIR, 'views'), autoEscape: true, autoTrim: false })
const render = (chart: BarChart) => eta.render('components/bar-chart', { chart })

t.test('bars are scaled to the nice maximum, a bar at it as long as the plot', async (t) => {
  const chart = barChart({
    id: 'c',
    title: 'T',
    rows: [50, 100, 25, 0].map((value, i) => ({ label: `R${i}`, value })),
  })
  t.equal(chart.max, 100)
  t.same(
    chart.bars.map((bar) => bar.percent),
    [50, 100, 25, 0],
    'the largest value, at the nice maximum, fills the plot; the others in proportion',
  )
  t.same(
    barChart({ id: 'c', title: 'T', rows: RISK }).bars.map((bar) => bar.percent),
    [60, 20, 3.5],
    'on a scale of 200',
  )
  t.same(
    barChart({
      id: 'c',
      title: 'T',
      rows: [
        { label: 'A', value: 1 },
        { label: 'B', value: 2 },
        { label: 'C', value: 3 },
      ],
    }).bars.map((bar) => bar.percent),
    [10, 20, 30],
    'three on a scale of 10 (whole ticks)',
  )
  t.throws(() => barChart({ id: 'n', title: 'T', rows: [{ label: 'A', value: -1 }] }), RangeError, 'negative')
  t.throws(() => barChart({ id: 'n', title: 'T', rows: [{ label: 'A', value: Number.NaN }] }), RangeError, 'NaN')
})

t.test('the maximum is a nice number (1, 2 or 5 × 10ⁿ) with 3 to 5 ticks', async (t) => {
  const cases: [number, number, number[]][] = [
    [120, 200, [0, 50, 100, 150, 200]],
    [100, 100, [0, 25, 50, 75, 100]],
    [7, 10, [0, 5, 10]],
    [3, 10, [0, 5, 10]], // not 0, 2.5, 5: counts have whole ticks
    [1, 2, [0, 1, 2]],
    [0, 2, [0, 1, 2]],
    [18, 20, [0, 5, 10, 15, 20]],
    [45, 50, [0, 25, 50]],
    [4321, 5000, [0, 2500, 5000]],
    [1_000_001, 2_000_000, [0, 500_000, 1_000_000, 1_500_000, 2_000_000]],
  ]
  for (const [value, max, ticks] of cases) {
    const chart = barChart({ id: 'c', title: 'T', rows: [{ label: 'A', value }] })
    t.equal(chart.max, max, `${value} → ${max}`)
    t.same(
      chart.ticks.map((tick) => tick.value),
      ticks,
      `${value}: ticks`,
    )
  }
  t.same(niceScale(0.3, false), { max: 0.5, step: 0.25 }, 'fractions may have fractional ticks')
  t.same(niceScale(1.5, false), { max: 2, step: 0.5 })

  const chart = barChart({ id: 'c', title: 'T', rows: [{ label: 'A', value: 4321 }] })
  t.same(
    chart.ticks.map((tick) => tick.percent),
    [0, 50, 100],
    'ticks from the start of the plot to its end',
  )
  t.same(
    chart.ticks.map((tick) => tick.text),
    ['0', '2,500', '5,000'],
    'tick texts in en-GB with thousands separators',
  )
  t.equal(chart.bars[0]?.valueText, '4,321', 'values too')
})

t.test('the description lists every row; without rows, "No data."', async (t) => {
  t.equal(barChart({ id: 'c', title: 'T', rows: RISK }).description, 'Low: 120, Medium: 40, High: 7.')
  t.equal(barChart({ id: 'c', title: 'T', rows: [{ label: 'Open', value: 12345 }] }).description, 'Open: 12,345.')
  t.equal(barChart({ id: 'c', title: 'T', rows: RISK, description: 'Mostly low.' }).description, 'Mostly low.')

  const empty = barChart({ id: 'c', title: 'Nothing yet', rows: [] })
  t.equal(empty.description, 'No data.')
  t.same(empty.bars, [])
  t.same(empty.ticks, [])
  t.equal(empty.max, 0)
  t.equal(empty.valueRoom, 4)
})

t.test('bars cycle through the four patterns; the href is kept for the table', async (t) => {
  const rows = Array.from({ length: 6 }, (_, i) => ({ label: `R${i}`, value: i + 1 }))
  const chart = barChart({ id: 'c', title: 'T', rows })
  t.same(
    chart.bars.map((b) => b.pattern),
    [0, 1, 2, 3, 0, 1],
  )
  const risk = barChart({ id: 'c', title: 'T', rows: RISK })
  t.equal(risk.bars[0]?.href, '/entities?risk=low')
  t.notOk('href' in (risk.bars[1] as object), 'no href key without one')
})

t.test('room after the plot for the longest value, in characters rounded up to an even number', async (t) => {
  const room = (...values: number[]) =>
    barChart({ id: 'c', title: 'T', rows: values.map((value, i) => ({ label: `R${i}`, value })) }).valueRoom
  t.equal(room(7, 120), 4, '"120": the least room')
  t.equal(room(12_345), 6, '"12,345"')
  t.equal(room(1_999_999), 10, '"1,999,999"')
  t.equal(room(123_456_789_012), 12, 'at most 12')
})

t.test('the template: one image named and described, words in HTML, no styles, no links', async (t) => {
  const chart = barChart({
    id: 'risk-chart',
    title: 'Clients by <risk> & "level"',
    rows: [...RISK, { label: '<script>alert(1)</script>', value: 1 }],
  })
  const html = render(chart)
  t.match(html, /^\s*<figure class="chart">/)
  const image = /<div id="risk-chart" [^>]*>/.exec(html)?.[0] ?? ''
  t.match(image, 'role="img"')
  t.match(image, 'class="chart-image chart-ticks-5 chart-room-4"', 'tick positions and room by class')
  const labelledBy = /aria-labelledby="([^"]+)"/.exec(image)?.[1]?.split(' ') ?? []
  t.same(labelledBy, ['risk-chart-title', 'risk-chart-desc'])
  for (const id of labelledBy) t.equal(html.split(`id="${id}"`).length, 2, `#${id} exists once`)
  t.match(html, '<span id="risk-chart-title" hidden>Clients by &lt;risk&gt; &amp; &quot;level&quot;</span>')
  t.match(
    html,
    '<span id="risk-chart-desc" hidden>Low: 120, Medium: 40, High: 7, &lt;script&gt;alert(1)&lt;/script&gt;: 1.</span>',
  )
  t.equal([...html.matchAll(/aria-hidden="true"/g)].length, 2, 'the drawing and the ticks are hidden: the image is one')

  t.notMatch(html, /style/i, 'no style attribute, no <style> element')
  t.notMatch(html, /<script/i, 'no script; the label is escaped')
  t.match(html, '<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>')
  t.notMatch(html, /<a[\s>]/, 'no links inside the image (the table holds them)')

  const bars = [...html.matchAll(/<svg class="chart-bar" width="([\d.]+)%" focusable="false">([\s\S]*?)<\/svg>/g)]
  t.same(
    bars.map((m) => Number(m[1])),
    chart.bars.map((b) => b.percent),
    'each bar an SVG as long as its per cent of the plot',
  )
  bars.forEach((m, i) => {
    const svg = m[2] as string
    t.match(svg, `<pattern id="risk-chart-p${i}"`, `bar ${i}: its own pattern, its id prefixed by the chart's`)
    t.match(
      svg,
      `<rect class="chart-bar-rect chart-pattern-${i % 4}" width="100%" height="100%" fill="url(#risk-chart-p${i})"/>`,
    )
    t.notMatch(svg, /<text/, `bar ${i}: no text in the SVG (axe could not check its contrast)`)
  })
  t.match(bars[1]?.[2], 'patternTransform="rotate(45)"', 'the second hatched')
  t.match(bars[2]?.[2], '<circle', 'the third dotted')
  t.same(
    [...html.matchAll(/<div class="chart-label"><bdi>([^<]*)<\/bdi><\/div>/g)].map((m) => m[1]),
    ['Low', 'Medium', 'High', '&lt;script&gt;alert(1)&lt;/script&gt;'],
  )
  t.same(
    [...html.matchAll(/<span class="chart-value">([^<]*)</g)].map((m) => m[1]),
    ['120', '40', '7', '1'],
  )
  t.equal(
    /<div class="chart-grid">((?:<span><\/span>)*)<\/div>/.exec(html)?.[1]?.split('</span>').length,
    6,
    '5 grid lines',
  )
  t.same(
    [...html.matchAll(/<span class="chart-tick">([^<]*)</g)].map((m) => m[1]),
    ['0', '50', '100', '150', '200'],
  )

  const empty = render(barChart({ id: 'none', title: 'Nothing yet', rows: [] }))
  t.match(empty, 'aria-labelledby="none-title none-desc"')
  t.match(empty, '<span id="none-desc" hidden>No data.</span>')
  t.match(empty, '<p class="chart-empty" aria-hidden="true">No data.</p>')
  t.notMatch(empty, /<svg|chart-tick"/)
  t.notMatch(empty, /style/i)
})

t.test('two charts on one page do not share an id', async (t) => {
  const html =
    render(barChart({ id: 'one', title: 'A', rows: RISK })) + render(barChart({ id: 'two', title: 'B', rows: RISK }))
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])
  t.equal(new Set(ids).size, ids.length, `${ids.length} ids, all different`)
})

t.test('the chart colour contrasts at 3:1 or more with the page (WCAG 1.4.11)', async (t) => {
  const css = readFileSync(path.join(ROOT_DIR, 'public', 'css', 'app.css'), 'utf8')
  const token = (name: string) => new RegExp(`${name}:\\s*(#[0-9a-f]{6})`, 'i').exec(css)?.[1] ?? ''
  const luminance = (hex: string) =>
    [1, 3, 5]
      .map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
      .reduce((sum, c, i) => sum + c * ([0.2126, 0.7152, 0.0722][i] as number), 0)
  const [bar, page] = [luminance(token('--colour-chart-bar')), luminance(token('--colour-page'))]
  const ratio = (Math.max(bar, page) + 0.05) / (Math.min(bar, page) + 0.05)
  t.ok(ratio >= 3, `--colour-chart-bar on the page: ${ratio.toFixed(2)}:1`)
  t.match(css, /\.chart-bar-rect\s*\{[^}]*stroke:\s*var\(--colour-chart-bar\)/, 'bars are outlined in it')
  t.match(
    css,
    /@media \(forced-colors: active\)\s*\{[^@]*\.chart-bar-rect\s*\{\s*stroke:\s*CanvasText/,
    'forced colours',
  )
  for (const n of [3, 5])
    t.match(css, `.chart-ticks-${n} .chart-tick:nth-child(${n})`, `the ticks of a ${n}-tick scale placed`)
  for (const n of [4, 6, 8, 10, 12]) t.match(css, `.chart-room-${n} {`, `room for ${n} characters`)
})
