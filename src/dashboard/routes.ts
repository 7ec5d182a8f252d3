import type { FastifyInstance } from 'fastify'
import { PERMISSIONS } from '../access/permissions.js'
import { signedInUser } from '../http/params.js'
import { countActiveUsers } from '../users/queries.js'

export default async function dashboardRoutes(app: FastifyInstance) {
  /** The dashboard is a work queue: what waits for the reader, each with a count and a link. */
  app.get('/', { config: { access: 'authenticated' } }, async (request, reply) => {
    const user = signedInUser(request)
    const [activeUsers, work] = await Promise.all([
      countActiveUsers(app.db, user.companyId),
      app.workQueue(request, user),
    ])
    return reply.page('dashboard/index', { title: 'Dashboard', activeUsers, work })
  })

  /** The reader's own profile: who they are, and what each of their permissions lets them do. */
  app.get('/profile', { config: { access: 'authenticated' } }, async (request, reply) => {
    const user = signedInUser(request)
    return reply.page('dashboard/profile', {
      title: 'Your profile',
      permissions: PERMISSIONS.filter((p) => user.permissions.has(p.key)),
    })
  })
}
