import type { FastifyRequest } from 'fastify'

/** Fields never shown back or carried in a page: passwords are typed again. */
const SECRET_FIELD = /password/i
const LIMIT = 1_048_576

/**
 * The fields of a url-encoded form whose request failed before it was handled (the database could not be
 * reached), so the error page can show them and send them again: nothing the person typed is lost. The
 * body is the one Fastify parsed, or, when the failure came before parsing (the session read), read here
 * from the request itself. Password fields are left out; the CSRF token is kept, so the form can go again.
 */
export async function unsentFormFields(request: FastifyRequest): Promise<[string, string][] | undefined> {
  if (request.method !== 'POST') return undefined
  const type = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') return undefined
  let pairs: [string, string][]
  if (request.body && typeof request.body === 'object') {
    pairs = Object.entries(request.body as Record<string, unknown>).flatMap(([k, v]) =>
      [v]
        .flat()
        .filter((x): x is string => typeof x === 'string')
        .map((x): [string, string] => [k, x]),
    )
  } else {
    const raw = await readBody(request)
    if (raw === undefined) return undefined
    pairs = [...new URLSearchParams(raw)]
  }
  return pairs.filter(([name, value]) => !SECRET_FIELD.test(name) && !value.includes('\u0000'))
}

async function readBody(request: FastifyRequest): Promise<string | undefined> {
  const stream = request.raw
  if (stream.readableEnded || stream.destroyed) return undefined
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length
      if (size > LIMIT) return undefined
      chunks.push(chunk as Buffer)
    }
  } catch {
    return undefined
  }
  return Buffer.concat(chunks).toString('utf8')
}
