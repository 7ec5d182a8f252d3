import type { FastifyInstance } from 'fastify'

/** A database that does not answer within this is not ready, whatever the reason (down, stuck, pool full). */
export const READINESS_TIMEOUT_MS = 2_000

/** Whether the database answers a trivial query within the readiness timeout. */
async function databaseAnswers(app: FastifyInstance): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS)
  })
  try {
    return await Promise.race([app.db.raw('SELECT 1').then(() => true), timeout])
  } catch (error) {
    app.log.warn({ err: error }, 'health check: database unreachable')
    return false
  } finally {
    clearTimeout(timer)
  }
}

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', { config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    reply.header('Cache-Control', 'no-store')
    if (await databaseAnswers(app)) return reply.send({ status: 'ok', database: 'ok' })
    return reply.code(503).send({ status: 'unavailable', database: 'not answering' })
  })
}
