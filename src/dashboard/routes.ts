import type { FastifyInstance } from 'fastify'
import { PERMISSIONS } from '../access/permissions.js'
import { countActiveUsers } from '../users/queries.js'

export default async function dashboardRoutes(app: FastifyInstance) {
  app.get('/', { config: { access: 'authenticated' } }, async (request, reply) => {
    const user = request.user
    if (!user) throw new Error('the guard lets only signed-in users reach the dashboard')
    const activeUsers = await countActiveUsers(app.db, user.companyId)
    return reply.page('dashboard/index', {
      title: 'Dashboard',
      activeUsers,
      permissions: PERMISSIONS.filter((p) => user.permissions.has(p.key)),
    })
  })
}
