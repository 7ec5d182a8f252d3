import path from 'node:path'
import fastifyStatic from '@fastify/static'
import view from '@fastify/view'
import { Eta } from 'eta'
import fp from 'fastify-plugin'
import { ROOT_DIR } from '../../config.js'

/** Eta templates from views/ (escaping on by default) and files from public/ (sent by our own route). */
export default fp(
  async (app) => {
    await app.register(view, {
      engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
      templates: path.join(ROOT_DIR, 'views'),
      production: app.config.cacheTemplates,
    })
    // serve: false — the route is declared in src/assets/routes.ts like every other route.
    await app.register(fastifyStatic, { root: path.join(ROOT_DIR, 'public'), serve: false })
  },
  { name: 'views', dependencies: ['config'] },
)
