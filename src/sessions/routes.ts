import type { FastifyInstance } from 'fastify'
import { writeAudit } from '../audit/audit.js'
import { isolate } from '../forms/names.js'
import { requestActor } from '../http/actor.js'
import { isUuid, NotFoundError, signedInUser } from '../http/params.js'
import { signOutEverywhere } from '../users/service.js'
import { routeUser } from '../users/target.js'
import { listSessionsOfUser, listSignedInUsers } from './queries.js'

const SIGNOUT = { access: { permission: 'signout_users' } } as const

export default async function sessionRoutes(app: FastifyInstance) {
  app.get('/settings/sessions', { config: SIGNOUT }, async (request, reply) => {
    const users = await listSignedInUsers(app.db, signedInUser(request).companyId)
    return reply.page('sessions/index', { title: 'Signed-in users', users })
  })

  app.get<{ Params: { id: string } }>('/settings/users/:id/sessions', { config: SIGNOUT }, async (request, reply) => {
    const target = await routeUser(request)
    const sessions = await listSessionsOfUser(app.db, target.company_id, target.id)
    return reply.page('sessions/user', { title: `Sessions of ${isolate(target.name)}`, target, sessions })
  })

  app.post<{ Params: { id: string } }>(
    '/settings/users/:id/sessions/end',
    { config: SIGNOUT },
    async (request, reply) => {
      const target = await routeUser(request)
      const ended = await signOutEverywhere(app.db, requestActor(request), target.id)
      reply.flash({
        kind: 'success',
        text: `${isolate(target.name)} was signed out of ${ended} ${ended === 1 ? 'session' : 'sessions'}.`,
      })
      if (target.id === signedInUser(request).id) return reply.redirect('/login', 303)
      return reply.redirect(`/settings/users/${target.id}/sessions`, 303)
    },
  )

  // Everyone sees and ends their own sessions.
  app.get('/profile/sessions', { config: { access: 'authenticated' } }, async (request, reply) => {
    const user = signedInUser(request)
    const sessions = await listSessionsOfUser(app.db, user.companyId, user.id)
    const currentId = (await app.db('sessions').where({ sid: request.session.sessionId }).first('id'))?.id
    return reply.page('sessions/own', { title: 'Your sessions', sessions, currentId })
  })

  app.post<{ Params: { sessionId: string } }>(
    '/profile/sessions/:sessionId/end',
    { config: { access: 'authenticated' } },
    async (request, reply) => {
      const user = signedInUser(request)
      const { sessionId } = request.params
      const ended = isUuid(sessionId)
        ? await app.db.transaction(async (trx) => {
            const n = await trx('sessions').where({ id: sessionId, user_id: user.id }).delete()
            if (n > 0) {
              await writeAudit(trx, {
                companyId: user.companyId,
                actorUserId: user.id,
                action: 'user.session_ended',
                targetType: 'user',
                targetId: user.id,
                after: { session: sessionId },
                ip: request.ip,
              })
            }
            return n
          })
        : 0
      if (ended === 0) throw new NotFoundError('session')
      reply.flash({ kind: 'success', text: 'That session was ended.' })
      return reply.redirect('/profile/sessions', 303)
    },
  )
}
