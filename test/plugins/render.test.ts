import t from 'tap'
import { fmt } from '../../src/plugins/app/render.js'

t.test('fmt.dateTime writes UTC minutes, the same as toISOString would', async (t) => {
  const iso = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
  for (let i = 0; i < 2000; i++) {
    const d = new Date(Date.UTC(1900 + (i % 200), i % 12, 1 + (i % 28), i % 24, (i * 7) % 60, i % 60))
    t.equal(fmt.dateTime(d), iso(d), d.toISOString())
  }
  t.equal(fmt.dateTime('2026-11-24T09:05:59.999Z'), '2026-11-24 09:05 UTC', 'a string')
  t.equal(fmt.dateTime('2026-11-24T23:30:00-02:00'), '2026-11-25 01:30 UTC', 'another zone, in UTC')
  t.equal(fmt.dateTime(new Date(Date.UTC(999, 0, 1))), '0999-01-01 00:00 UTC', 'a year before 1000')
  t.equal(fmt.dateTime(null), '—')
  t.equal(fmt.dateTime(undefined), '—')
  t.throws(() => fmt.dateTime('not a date'), RangeError, 'an invalid date fails as before')
})
