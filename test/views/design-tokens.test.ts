/**
 * The colour tokens of public/css/app.css meet WCAG 1.4.3 (4.5:1 for text): every rule that sets a text
 * and a background colour together, and the pairs that meet on the page by nesting (text on the page, on a
 * panel, in the header, on the focus highlight). axe-core checks the rendered pages too; this checks the
 * tokens themselves, including pairs no page shows yet (the tags of risk levels).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT_DIR } from '../../src/config.js'

const css = readFileSync(path.join(ROOT_DIR, 'public', 'css', 'app.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
const tokens = new Map(
  [...css.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})\s*;/gi)].map((m) => [m[1], m[2]] as [string, string]),
)

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}
export function contrast(a: string, b: string): number {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (l1 + 0.05) / (l2 + 0.05)
}

/** Pairs that meet by nesting rather than in one rule. */
const NESTED: [string, string][] = [
  ...[
    '--colour-text',
    '--colour-secondary-text',
    '--colour-link',
    '--colour-link-visited',
    '--colour-error',
    '--colour-success',
  ].flatMap((text): [string, string][] => [
    [text, '--colour-page'],
    [text, '--colour-surface'],
  ]),
  ['--colour-header-text', '--colour-header'],
  ['--colour-header-secondary-text', '--colour-header'],
  ['--colour-focus-text', '--colour-focus'],
  ['--colour-text', '--tag-grey'],
]

t.test('every text colour token meets 4.5:1 on the backgrounds it is used on', async (t) => {
  t.ok(tokens.size >= 20, `${tokens.size} colour tokens read`)
  const pairs = new Map<string, [string, string]>()
  for (const [, body] of css.matchAll(/\{([^{}]*)\}/g)) {
    const text = /(?:^|;)\s*color:\s*var\((--[\w-]+)\)/.exec(body as string)?.[1]
    const background = /(?:^|;)\s*background(?:-color)?:\s*var\((--[\w-]+)\)/.exec(body as string)?.[1]
    if (text && background) pairs.set(`${text} on ${background}`, [text, background])
  }
  t.ok(pairs.size >= 10, `${pairs.size} pairs set together in one rule`)
  for (const [text, background] of NESTED) pairs.set(`${text} on ${background}`, [text, background])
  for (const [name, [text, background]] of pairs) {
    const a = tokens.get(text)
    const b = tokens.get(background)
    if (!t.ok(a && b, `${name}: both are colour tokens`)) continue
    const ratio = contrast(a as string, b as string)
    t.ok(ratio >= 4.5, `${name}: ${ratio.toFixed(2)}:1`)
  }
})

t.test('form fields and focus are visible against the page (3:1 for graphics, WCAG 1.4.11)', async (t) => {
  for (const token of ['--colour-border', '--colour-focus-text', '--colour-error']) {
    const ratio = contrast(tokens.get(token) as string, tokens.get('--colour-page') as string)
    t.ok(ratio >= 3, `${token} on the page: ${ratio.toFixed(2)}:1`)
  }
})
