import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FormErrors } from '../forms/form-errors.js'
import { fields, formBody } from '../http/schemas.js'
import { acceptInvitation, findOpenInvitation, newPasswordOf } from './invitations.js'

/** The invitation link: public (the token is the credential), single use, expiring. */
export default async function invitationRoutes(app: FastifyInstance) {
  /** The password form of an open invitation (never showing what was typed), or the page saying the link is dead. */
  const acceptPage = async (request: FastifyRequest, reply: FastifyReply, errors = new FormErrors()) => {
    reply.header('Referrer-Policy', 'no-referrer').header('Cache-Control', 'no-store')
    const invitation = await findOpenInvitation(app.db, (request.params as { token: string }).token)
    if (!invitation) return reply.code(404).page('invitations/invalid', { title: 'This invitation link does not work' })
    return reply.page('invitations/accept', { title: 'Choose your password', needsCsrf: true, invitation, errors })
  }

  app.get<{ Params: { token: string } }>('/invitations/:token', { config: { access: 'public' } }, acceptPage)

  app.post<{ Params: { token: string } }>(
    '/invitations/:token',
    {
      config: { access: 'public', form: acceptPage },
      schema: { body: formBody(fields(['password', 'password_confirmation'], 2_000)) },
    },
    async (request, reply) => {
      const password = newPasswordOf(request.body)
      const accepted = await acceptInvitation(app.db, request.params.token, password, request.ip)
      if (!accepted) return acceptPage(request, reply)
      reply.header('Cache-Control', 'no-store')
      return reply.redirect('/login?welcome=1', 303)
    },
  )
}
