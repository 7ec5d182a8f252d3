import type { FastifyInstance } from 'fastify'

/** Stylesheets, scripts and the pinned htmx from public/ (no CDN). */
export default async function assetRoutes(app: FastifyInstance) {
  app.get<{ Params: { '*': string } }>('/public/*', { config: { access: 'public' } }, async (request, reply) => {
    return reply.header('Cache-Control', 'public, max-age=3600').sendFile(request.params['*'])
  })
  // Browsers and tools that ignore the layout's <link rel="icon"> still ask for /favicon.ico: no 404 in their console.
  app.get('/favicon.ico', { config: { access: 'public' } }, async (_request, reply) =>
    reply.header('Cache-Control', 'public, max-age=86400').type('image/svg+xml').sendFile('favicon.svg'),
  )
}
