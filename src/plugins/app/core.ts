import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import type { Db } from '../../db/knex.js'
import type { DocumentStorage } from '../../storage/document-storage.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    /** Where document bytes live (filesystem by default). */
    storage: DocumentStorage
  }
}

export const configPlugin = fp<{ config: Config }>(async (app, opts) => app.decorate('config', opts.config), {
  name: 'config',
})

export const dbPlugin = fp<{ db: Db }>(async (app, opts) => app.decorate('db', opts.db), { name: 'db' })

export const storagePlugin = fp<{ storage: DocumentStorage }>(
  async (app, opts) => app.decorate('storage', opts.storage),
  {
    name: 'storage',
  },
)
