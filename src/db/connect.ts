import path from 'node:path'
import type { Config } from '../config.js'
import { startEmbeddedPostgres } from './embedded.js'

export interface DatabaseHandle {
  url: string
  embedded: boolean
  stop: () => Promise<void>
}

export const EMBEDDED_PORT = 54329

/** DATABASE_URL when given; otherwise the embedded PostgreSQL under .data/postgres. */
export async function connectDatabase(config: Config): Promise<DatabaseHandle> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} }
  const port = Number(process.env.EMBEDDED_PG_PORT ?? EMBEDDED_PORT)
  const server = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), port)
  const url = server.url('postgres')
  await ensureDatabase(url, 'kyc_desk')
  return { url: server.url('kyc_desk'), embedded: true, stop: server.stop }
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`)
  } finally {
    await client.end()
  }
}
