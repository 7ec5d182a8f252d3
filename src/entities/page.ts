import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ClientContext } from '../access/client-context.js'
import { auditSentence, userIdsIn } from '../audit/describe.js'
import { userNames } from '../audit/queries.js'
import { FormErrors } from '../forms/form-errors.js'
import { entityHistory } from './queries.js'
import {
  COUNTRIES,
  countryName,
  DELIVERY_CHANNELS,
  deliveryChannelLabel,
  ENTITY_KINDS,
  STATUSES,
  statusLabel,
  VOLUME_BANDS,
  volumeBandLabel,
} from './reference.js'

/**
 * A section of a client's page that another area adds (services, documents, and later risk, screening,
 * the portal), from its own folder: `app.addClientSection({...})` in its routes plugin. The client page
 * knows none of them; it renders each section's template with what its `load` returned.
 */
export interface ClientSection {
  /** The section's heading id, the anchor a redirect back to it uses (`/entities/<id>#services`). */
  id: string
  /** Where it stands on the page, smallest first; the client's details come before, its history after. */
  order: number
  /** Its template, e.g. '/services/_client-section'; it receives its data as `it.section`. */
  template: string
  /** The section's data for this reader and client; undefined leaves the section out. */
  load(request: FastifyRequest, client: ClientContext): Promise<Record<string, unknown> | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Adds a section to every client's page (see ClientSection). */
    addClientSection(section: ClientSection): void
  }
  interface FastifyReply {
    /** A client's page: details, every registered section, history. `errors` re-renders it after a refused form. */
    clientPage(client: ClientContext, errors?: FormErrors): Promise<FastifyReply>
  }
}

export const clientReference = {
  deliveryChannels: DELIVERY_CHANNELS,
  volumeBands: VOLUME_BANDS,
  deliveryChannelLabel,
  volumeBandLabel,
  kinds: ENTITY_KINDS,
  statuses: STATUSES,
  countries: COUNTRIES,
  countryName,
  statusLabel,
}

/** The client page and its section registry; areas register their sections after this plugin. */
export default fp(
  async (app) => {
    const sections: ClientSection[] = []
    app.decorate('addClientSection', (section: ClientSection) => {
      sections.push(section)
      sections.sort((a, b) => a.order - b.order)
    })
    app.decorateReply(
      'clientPage',
      async function (this: FastifyReply, client: ClientContext, errors = new FormErrors()) {
        const { entity } = client
        const [loaded, history] = await Promise.all([
          Promise.all(sections.map(async (s) => ({ ...s, data: await s.load(this.request, client) }))),
          entityHistory(app.db, entity.company_id, entity.id),
        ])
        const names = await userNames(app.db, entity.company_id, userIdsIn(history))
        // A refusal's own status (409: someone changed something meanwhile, or credits ran out) is kept.
        const status = errors.any ? (this.statusCode >= 400 ? this.statusCode : 422) : 200
        return this.code(status).page('entities/show', {
          title: entity.name,
          entity,
          sections: loaded.filter((s) => s.data !== undefined),
          history: history.map((h) => ({ ...h, sentence: auditSentence({ ...h, target: entity.name }, names) })),
          errors,
          ...clientReference,
        })
      },
    )
  },
  { name: 'client-page', dependencies: ['render', 'db'] },
)
