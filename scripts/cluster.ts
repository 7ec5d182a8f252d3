/**
 * `npm run cluster`: KYC Desk as a firm that has outgrown one server runs it, on one machine: two app
 * processes (the compiled build, `node build/src/server.js`, as the container runs it) on one PostgreSQL,
 * behind HAProxy (Debian's `haproxy`, which must be installed) on PORT (3000). The database is DATABASE_URL,
 * or the embedded PostgreSQL under .data/ as for `npm start`; the demo company is seeded once, before the
 * processes start. CLUSTER_PROCESSES sets how many processes (2). Ctrl-C stops everything gracefully.
 *
 * Also used by `npm run soak` (scripts/soak.ts), which starts the cluster the same way.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Config, loadConfig, ROOT_DIR } from '../src/config.js'
import { connectDatabase } from '../src/db/connect.js'
import { createDb, migrateLatest } from '../src/db/knex.js'
import { demoLogins, seedDemoCompany } from '../src/seed/demo.js'
import { storageFromConfig } from '../src/storage/from-config.js'
import { freePort } from './free-port.js'
import { haproxyConfig } from './haproxy-config.js'

export const COMPILED_SERVER = path.join(ROOT_DIR, 'build', 'src', 'server.js')

export interface AppProcess {
  name: string
  port: number
  child: ChildProcess
}

export interface Cluster {
  /** The load balancer's address. */
  url: string
  databaseUrl: string
  processes: AppProcess[]
  logins: { profile: string; email: string; password: string }[]
  stop(): Promise<void>
}

function haproxyBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim()
  if (!found) throw new Error('HAProxy is not installed: `apt-get install haproxy` (Debian), then run this again')
  return found
}

/** `logFile`: where the process's log goes instead of this terminal (the soak keeps it out of its report). */
function startProcess(name: string, port: number, env: NodeJS.ProcessEnv, logFile?: string): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--expose-gc', COMPILED_SERVER], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let ready = false
    const onData = (data: Buffer) => {
      const text = String(data)
      if (!ready && text.includes('KYC Desk is running')) {
        ready = true
        resolve({ name, port, child })
        return
      }
      if (logFile) appendFileSync(logFile, text)
      else for (const line of text.split('\n')) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (d: Buffer) =>
      logFile ? appendFileSync(logFile, String(d)) : process.stderr.write(`[${name}] ${String(d)}`),
    )
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${name} exited with ${code} before it was ready`))
    })
  })
}

/** Waits for a child to exit; resolves at once if it already has. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

export async function startCluster(
  config: Config,
  /** `quiet`: each process's log goes to DATA_DIR/cluster/<name>.log rather than to this terminal. */
  options: { processes?: number; quiet?: boolean } = {},
): Promise<Cluster> {
  const binary = haproxyBinary()
  const database = await connectDatabase(config)
  const db = createDb(database.url, config.dbTimeouts)
  await migrateLatest(db)
  if (config.seedDemo) await seedDemoCompany(db, storageFromConfig(config), config.publicUrl)
  const logins = config.seedDemo ? await demoLogins(db) : []
  await db.destroy()

  // Every process gets the same secret (a session signed by one is read by the others), the same database,
  // the same document storage, and trusts the load balancer's X-Forwarded-For for the client's address.
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: database.url,
    SESSION_SECRET: config.sessionSecret,
    DATA_DIR: config.dataDir,
    SEED_DEMO: 'false',
    TRUST_PROXY: '127.0.0.1',
    PUBLIC_URL: config.publicUrl,
  }
  const count = options.processes ?? 2
  const url = `http://localhost:${config.port}`
  const processes: AppProcess[] = []
  let haproxy: ChildProcess | undefined
  // Whatever started is stopped again if the rest cannot start.
  const stopAll = async () => {
    for (const p of processes) p.child.kill('SIGTERM')
    await Promise.all(processes.map((p) => exited(p.child)))
    haproxy?.kill('SIGTERM')
    if (haproxy) await exited(haproxy)
    await database.stop()
  }
  const dir = path.join(config.dataDir, 'cluster')
  mkdirSync(dir, { recursive: true })
  try {
    for (let i = 1; i <= count; i++) {
      const name = `app${i}`
      const logFile = options.quiet ? path.join(dir, `${name}.log`) : undefined
      processes.push(await startProcess(name, await freePort(), env, logFile))
    }

    const file = path.join(dir, 'haproxy.cfg')
    writeFileSync(
      file,
      haproxyConfig(
        config.port,
        processes.map((p) => p.port),
        config.host,
      ),
    )
    haproxy = spawn(binary, ['-f', file, '-db'], { stdio: ['ignore', 'inherit', 'inherit'] })
    const deadline = Date.now() + 15_000
    for (;;) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      if (haproxy.exitCode !== null || Date.now() > deadline) throw new Error('HAProxy did not start (see above)')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } catch (error) {
    await stopAll()
    throw error
  }

  return {
    url,
    databaseUrl: database.url,
    processes,
    logins,
    stop: stopAll,
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const config = loadConfig()
  const count = Number(process.env.CLUSTER_PROCESSES ?? 2)
  const cluster = await startCluster(config, { processes: count }).catch((error: unknown) => {
    process.stderr.write(`The cluster could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    // Each process has its own grace period (SHUTDOWN_GRACE_SECONDS); past it and a little more, give up.
    setTimeout(() => process.exit(1), (config.shutdownGraceSeconds + 10) * 1_000).unref()
    await cluster.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
  const lines = [
    '',
    `KYC Desk is running at ${cluster.url}: ${cluster.processes.length} processes behind HAProxy`,
    ...cluster.processes.map((p) => `  ${p.name}: pid ${p.child.pid}, http://127.0.0.1:${p.port}`),
  ]
  if (cluster.logins.length > 0) {
    lines.push('Demo logins:')
    for (const login of cluster.logins) lines.push(`  ${login.profile}: ${login.email} / ${login.password}`)
  }
  process.stdout.write(`${lines.join('\n')}\n\n`)
}
