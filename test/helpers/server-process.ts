import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { freePort } from '../../scripts/free-port.js'
import { haproxyConfig } from '../../scripts/haproxy-config.js'
import { ROOT_DIR } from '../../src/config.js'
import { Visitor } from './app.js'

/**
 * The compiled server, what the container runs: `npm test` compiles it for the run (TEST_BUILD_DIR);
 * otherwise `npm run build`'s build/.
 */
export const COMPILED_SERVER = path.join(process.env.TEST_BUILD_DIR ?? path.join(ROOT_DIR, 'build'), 'src', 'server.js')

/** The same secret for every process of one test, as every process behind a load balancer must have. */
const SESSION_SECRET = 'cluster-test-secret-cluster-test-secret-0123'

export interface ServerProcess {
  port: number
  url: string
  child: ChildProcess
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  exited: Promise<number | null>
  /** What it wrote, stdout and stderr together. */
  output: () => string
}

/**
 * One KYC Desk server process, as `node build/src/server.js` runs in the container, on the given database;
 * killed at the end of the test if still running.
 */
export async function startServer(
  t: Test,
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<ServerProcess> {
  if (!existsSync(COMPILED_SERVER)) throw new Error(`no ${COMPILED_SERVER}: run \`npm run build\` (npm test does)`)
  const port = await freePort()
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'kyc-server-'))
  if (!options.dataDir) t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const child = spawn(process.execPath, [COMPILED_SERVER], {
    cwd: ROOT_DIR,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      SESSION_SECRET,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d) => {
    out += String(d)
  })
  child.stderr?.on('data', (d) => {
    out += String(d)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  const deadline = Date.now() + 60_000
  while (!out.includes('KYC Desk is running')) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${out}`)
    if (Date.now() > deadline) throw new Error(`the server did not start in 60 s:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { port, url: `http://127.0.0.1:${port}`, child, exited, output: () => out }
}

/** A Set-Cookie header as app.inject reports it. */
function parseSetCookie(header: string): { name: string; value: string; maxAge?: number; expires?: Date } {
  const [pair = '', ...attributes] = header.split(';')
  const at = pair.indexOf('=')
  const cookie: { name: string; value: string; maxAge?: number; expires?: Date } = {
    name: pair.slice(0, at).trim(),
    value: pair.slice(at + 1).trim(),
  }
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split('=').map((s) => s.trim())
    if (key.toLowerCase() === 'max-age') cookie.maxAge = Number(value)
    if (key.toLowerCase() === 'expires') cookie.expires = new Date(value)
  }
  return cookie
}

/**
 * A Visitor (cookies, CSRF tokens, forms) over real HTTP to a base address, instead of app.inject: the same
 * helper drives a process, or a load balancer in front of several.
 */
export class RemoteVisitor extends Visitor {
  constructor(public base: string) {
    const inject = async (opts: InjectOptions): Promise<LightMyRequestResponse> => {
      const res = await fetch(new URL(String(opts.url), this.base), {
        method: opts.method ?? 'GET',
        headers: opts.headers as Record<string, string>,
        body: opts.payload as string | undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
      })
      const body = await res.text()
      return {
        statusCode: res.status,
        headers: Object.fromEntries(res.headers),
        body,
        cookies: res.headers.getSetCookie().map(parseSetCookie),
      } as unknown as LightMyRequestResponse
    }
    super({ inject } as unknown as FastifyInstance)
  }
}

/** Debian's haproxy, or undefined (then the test fails under CI=true, and is reported skipped otherwise). */
export function haproxyPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim()
  return found || undefined
}

/**
 * HAProxy on a free port in front of the given processes: round robin, health checks on /healthz every
 * 500 ms, and a request whose connection to a process fails sent to another (retries, redispatch). The
 * same configuration as `npm run cluster` (scripts/cluster.ts).
 */
export async function startHaproxy(t: Test, binary: string, backends: number[]): Promise<{ url: string }> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmpdir(), 'kyc-haproxy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'haproxy.cfg')
  writeFileSync(file, haproxyConfig(port, backends))
  const child = spawn(binary, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stderr?.on('data', (d) => {
    out += String(d)
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(() => {
    child.kill('SIGKILL')
    return exited
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${out}`)
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return { url }
    if (Date.now() > deadline) throw new Error(`haproxy did not answer in 10 s:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
