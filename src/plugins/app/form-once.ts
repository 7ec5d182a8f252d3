import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../../db/knex.js'
import { isUuid } from '../../http/params.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route creates something: one rendered form creates it at most once (see form-once.ts). */
    once?: true
  }
  interface FastifyRequest {
    /** The form submission this request claimed, released or completed when it is answered. */
    formClaim?: { key: string; route: string }
  }
}

/** How long a repeat waits for the first request of its form to be answered, and how often it looks. */
const WAIT_MS = 15_000
const LOOK_EVERY_MS = 50

/**
 * One rendered form creates at most one record (issue 12, defect 8). Every form carries `_once`, a random key
 * made when it is rendered (views/components/csrf.eta). For a route that declares `config.once`, the first
 * request with a key claims (user, key, route) in form_submissions before its handler runs. A repeat of the
 * same form (a double click, a form sent again from Back, racing requests) never runs the handler: it waits
 * for the first to be answered and is sent where the first was sent, told that the form was sent once. If
 * the first is refused or fails (any answer but a redirect), its claim is released and the form, corrected,
 * may be sent again. A request without a key (not from a form of ours) is not checked.
 */
export default fp(
  async (app) => {
    app.decorateRequest('formClaim', undefined)

    app.addHook('preHandler', async (request, reply) => {
      if (!request.routeOptions.config.once || !request.user) return
      const key = request.formKey ?? (request.body as Record<string, unknown> | undefined)?._once
      if (typeof key !== 'string' || !isUuid(key)) return
      const claim = { key, route: request.url.split('?')[0] as string }
      const user = request.user
      const deadline = Date.now() + WAIT_MS
      for (;;) {
        if (await claimForm(app.db, user, claim)) {
          request.formClaim = claim
          return
        }
        const first = await app
          .db('form_submissions')
          .where({ user_id: user.id, form_key: claim.key, route: claim.route })
          .first('location')
        if (first?.location) return sentAlready(reply, first.location)
        // Still being answered: wait. (Gone: the first failed and released it; the loop claims it now.)
        if (first && Date.now() > deadline) {
          return reply.code(409).page('errors/form-busy', { title: 'This form is still being saved' })
        }
        if (first) await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS))
      }
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const claim = request.formClaim
      if (!claim || !request.user) return payload
      request.formClaim = undefined
      const row = app
        .db('form_submissions')
        .where({ user_id: request.user.id, form_key: claim.key, route: claim.route })
      const location = reply.getHeader('location')
      if (reply.statusCode === 303 && typeof location === 'string') await row.update({ location })
      else await row.delete()
      return payload
    })
  },
  { name: 'form-once', dependencies: ['db', 'render', 'guard'] },
)

async function claimForm(
  db: Db,
  user: { id: string; companyId: string },
  claim: { key: string; route: string },
): Promise<boolean> {
  const claimed = await db('form_submissions')
    .insert({ company_id: user.companyId, user_id: user.id, form_key: claim.key, route: claim.route })
    .onConflict(['user_id', 'form_key', 'route', 'company_id'])
    .ignore()
    .returning('form_key')
  return claimed.length > 0
}

function sentAlready(reply: FastifyReply, location: string) {
  reply.flash({ kind: 'success', text: 'That form had already been sent: it was saved once, as shown here.' })
  return reply.redirect(location, 303)
}

/** Deletes the claims of forms sent more than a day ago (a form is not sent twice a day apart). */
export async function deleteOldFormClaims(db: Db): Promise<number> {
  return db('form_submissions').whereRaw("created_at < now() - interval '1 day'").delete()
}
