import type { FastifyInstance } from 'fastify'
import { FormErrors } from '../forms/form-errors.js'
import { fields, formBody } from '../http/schemas.js'
import { acceptInvitation, findOpenInvitation, passwordProblem } from './invitations.js'

/** The invitation link: public (the token is the credential), single use, expiring. */
export default async function invitationRoutes(app: FastifyInstance) {
  app.get<{ Params: { token: string } }>(
    '/invitations/:token',
    { config: { access: 'public' } },
    async (request, reply) => {
      reply.header('Referrer-Policy', 'no-referrer').header('Cache-Control', 'no-store')
      const invitation = await findOpenInvitation(app.db, request.params.token)
      if (!invitation)
        return reply.code(404).page('invitations/invalid', { title: 'This invitation link does not work' })
      return reply.page('invitations/accept', {
        title: 'Choose your password',
        needsCsrf: true,
        invitation,
        errors: new FormErrors(),
      })
    },
  )

  app.post<{ Params: { token: string } }>(
    '/invitations/:token',
    { config: { access: 'public' }, schema: { body: formBody(fields(['password', 'password_confirmation'], 2_000)) } },
    async (request, reply) => {
      reply.header('Cache-Control', 'no-store')
      const body = (request.body ?? {}) as Record<string, unknown>
      const password = typeof body.password === 'string' ? body.password : ''
      const confirmation = typeof body.password_confirmation === 'string' ? body.password_confirmation : ''
      const invitation = await findOpenInvitation(app.db, request.params.token)
      if (!invitation)
        return reply.code(404).page('invitations/invalid', { title: 'This invitation link does not work' })
      const problem = passwordProblem(password, confirmation)
      if (problem) {
        const errors = new FormErrors().add(problem.includes('match') ? 'password_confirmation' : 'password', problem)
        return reply
          .code(422)
          .page('invitations/accept', { title: 'Choose your password', needsCsrf: true, invitation, errors })
      }
      const accepted = await acceptInvitation(app.db, request.params.token, password, request.ip)
      if (!accepted) return reply.code(404).page('invitations/invalid', { title: 'This invitation link does not work' })
      return reply.redirect('/login?welcome=1', 303)
    },
  )
}
