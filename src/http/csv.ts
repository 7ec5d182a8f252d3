import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'
import type { FastifyReply } from 'fastify'

/**
 * Sends rows as a CSV download, streamed as they are read (a header row first). Cells that a spreadsheet
 * would take for a formula (starting with = + - @, a tab or a carriage return) are prefixed with an
 * apostrophe, so an exported name never runs as one. The file is named `<name>-<today>.csv` and not cached.
 */
export function sendCsv(
  reply: FastifyReply,
  name: string,
  columns: readonly string[],
  rows: AsyncIterable<unknown[]>,
): FastifyReply {
  const csv = Readable.from(rows).pipe(
    stringify({
      header: true,
      columns: [...columns],
      cast: { string: (value) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value) },
    }),
  )
  const day = new Date().toISOString().slice(0, 10)
  return reply
    .type('text/csv; charset=utf-8')
    .header('Content-Disposition', `attachment; filename="${name}-${day}.csv"`)
    .header('Cache-Control', 'private, no-store')
    .send(csv)
}
