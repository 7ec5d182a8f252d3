import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import type { Db } from '../../db/knex.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
  }
}

export const configPlugin = fp<{ config: Config }>(async (app, opts) => app.decorate('config', opts.config), {
  name: 'config',
})

export const dbPlugin = fp<{ db: Db }>(async (app, opts) => app.decorate('db', opts.db), { name: 'db' })
