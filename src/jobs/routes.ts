import type { FastifyInstance } from 'fastify'
import { query } from '../http/schemas.js'
import { jobsStatus } from './status.js'

/** Settings > Background jobs (administrators): each schedule's last and next run, and recent failures. */
export default async function jobRoutes(app: FastifyInstance) {
  app.get(
    '/settings/jobs',
    { config: { access: { permission: 'system_administrator' } }, schema: { querystring: query() } },
    async (_request, reply) => {
      const { schedules, failures } = await jobsStatus(app.db, app.jobs.definitions)
      return reply.page('jobs/index', { title: 'Background jobs', schedules, failures })
    },
  )
}
