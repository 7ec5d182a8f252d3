import type { FastifyInstance } from 'fastify'

/** Stylesheets, scripts and the pinned htmx from public/ (no CDN). */
export default async function assetRoutes(app: FastifyInstance) {
  app.get<{ Params: { '*': string } }>('/public/*', { config: { access: 'public' } }, async (request, reply) => {
    return reply.header('Cache-Control', 'public, max-age=3600').sendFile(request.params['*'])
  })
}
