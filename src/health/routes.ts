import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', { config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    try {
      await app.db.raw('SELECT 1')
      return reply.header('Cache-Control', 'no-store').send({ status: 'ok', database: 'ok' })
    } catch (error) {
      app.log.error({ err: error }, 'health check: database unreachable')
      return reply
        .code(503)
        .header('Cache-Control', 'no-store')
        .send({ status: 'unavailable', database: 'unreachable' })
    }
  })
}
