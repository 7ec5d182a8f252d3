/**
 * `npm run soak`: two app processes behind HAProxy (scripts/cluster.ts) on a PostgreSQL of the soak's own
 * (embedded, under .data/soak, made afresh each run), on loopback only, with the demo company. It first
 * measures saturation: closed-loop workers (2, 4, 8, 16) sending the mixed workload as fast as answers come,
 * SOAK_STEP_SECONDS (15) each; the best throughput is the saturation. Then it sends the same mix at half that
 * rate, open-loop (a request every 1/rate seconds, whatever the answers), for SOAK_MINUTES (10), and checks:
 *   - 0 errors (an error: any answer but the one the request expects, or no answer);
 *   - the p99 of each minute within 2× of the first minute's;
 *   - each process's resident memory, from the end of the first minute to the end, grows less than 10 %;
 *   - the session, job and rate-limit tables bounded (see `bounded` below).
 * It prints the figures (also written to .data/soak/result.json) and exits 1 when a check fails.
 *
 * The mix, as staff use KYC Desk: the client list, a name search, a client page, the sharing dialog, the
 * dashboard, a permission toggled on and off, a document upload, a manual screening search, and a whole
 * sign-in / sign-out by someone arriving (each from an address of its own, as different people would be).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { loadConfig, ROOT_DIR } from '../src/config.js'
import { createDb } from '../src/db/knex.js'
import { startCluster } from './cluster.js'
import { freePort } from './free-port.js'

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10)
const STEP_SECONDS = Number(process.env.SOAK_STEP_SECONDS ?? 15)
const dataDir = path.join(ROOT_DIR, '.data', 'soak')

/** A person with a browser: cookies, and the CSRF token of the last page. */
class Client {
  cookies = new Map<string, string>()
  csrf = ''
  constructor(
    readonly base: string,
    readonly address = '127.0.0.1',
  ) {}

  async send(
    method: string,
    url: string,
    body?: URLSearchParams | FormData,
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      'x-forwarded-for': this.address,
    }
    const res = await fetch(this.base + url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at)
      const value = pair.slice(at + 1)
      if (/max-age=0/i.test(c) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await res.text()
    const token = /name="csrf-token" content="([^"]+)"/.exec(text) ?? /name="_csrf" value="([^"]+)"/.exec(text)
    if (token?.[1]) this.csrf = token[1]
    return { status: res.status, text }
  }

  form(url: string, fields: Record<string, string>) {
    return this.send('POST', url, new URLSearchParams({ _csrf: this.csrf, ...fields }))
  }

  async signIn(email: string, password: string): Promise<number> {
    await this.send('GET', '/login')
    return (await this.form('/login', { email, password })).status
  }
}

/** true when the answer is the expected one; otherwise what came instead, for the report. */
function expect(answer: { status: number }, status: number, what: string): true | string {
  return answer.status === status || `${what}: ${answer.status}`
}

interface Sample {
  at: number
  ms: number
  ok: boolean
  action: string
  /** Why it failed (the answer that came instead), when it did. */
  failure?: string
}

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
)

async function main() {
  rmSync(dataDir, { recursive: true, force: true })
  const port = await freePort()
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: '',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    SEED_DEMO: 'true',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  })
  process.env.EMBEDDED_PG_PORT = String(await freePort())
  process.stdout.write('Starting two processes behind HAProxy, with the demo company…\n')
  const cluster = await startCluster({ ...config, databaseUrl: undefined }, { processes: 2, quiet: true })
  const db = createDb(cluster.databaseUrl, config.dbTimeouts)
  try {
    const admin = cluster.logins.find((l) => l.profile === 'administrator')
    if (!admin) throw new Error('no demo administrator')
    const company = await db('users').where({ email: admin.email }).first('company_id')
    const clients: { id: string; name: string }[] = await db('entities')
      .where({ company_id: company.company_id })
      .whereNull('deleted_at')
      .select('id', 'name')
    const reader = await db('users').where({ email: 'reader@demo.test' }).first('id')
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)] as T

    // The staff: a few administrators signed in through the load balancer.
    const staff = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const c = new Client(cluster.url, `198.51.100.${10 + i}`)
        if ((await c.signIn(admin.email, admin.password)) !== 303)
          throw new Error('the demo administrator could not sign in')
        await c.send('GET', '/')
        return c
      }),
    )
    // Enough screening credits for every manual search of the run.
    const topUp = staff[0] as Client
    await topUp.send('GET', '/settings/screening/credits')
    const topped = await topUp.form('/settings/screening/credits', { amount: '100000', note: 'Soak test' })
    if (topped.status !== 303) throw new Error(`topping up credits answered ${topped.status}`)

    let arrivals = 0
    let toggles = 0
    const actions: { name: string; weight: number; run: (c: Client) => Promise<true | string> }[] = [
      { name: 'list', weight: 20, run: async (c) => expect(await c.send('GET', '/entities'), 200, 'list') },
      {
        name: 'search',
        weight: 15,
        run: async (c) =>
          expect(
            await c.send('GET', `/entities?q=${encodeURIComponent(pick(clients).name.slice(0, 4))}`),
            200,
            'search',
          ),
      },
      {
        name: 'client',
        weight: 20,
        run: async (c) => expect(await c.send('GET', `/entities/${pick(clients).id}`), 200, 'client'),
      },
      {
        name: 'sharing',
        weight: 10,
        run: async (c) => expect(await c.send('GET', `/entities/${pick(clients).id}/sharing`), 200, 'sharing'),
      },
      { name: 'dashboard', weight: 10, run: async (c) => expect(await c.send('GET', '/'), 200, 'dashboard') },
      {
        name: 'toggle',
        weight: 8,
        run: async (c) => {
          toggles++
          const url = `/settings/users/${reader.id}/permissions/view_reports`
          return expect(await c.form(url, { on: toggles % 2 ? '1' : '0' }), 303, 'toggle')
        },
      },
      {
        name: 'upload',
        weight: 5,
        run: async (c) => {
          const form = new FormData()
          form.set('_csrf', c.csrf)
          form.set('file', new Blob([PDF], { type: 'application/pdf' }), 'passport-scan.pdf')
          return expect(await c.send('POST', `/entities/${pick(clients).id}/documents`, form), 303, 'upload')
        },
      },
      {
        name: 'screening',
        weight: 5,
        run: async (c) =>
          expect(await c.form(`/entities/${pick(clients).id}/searches`, { profile: '' }), 303, 'screening'),
      },
      {
        name: 'sign-in',
        weight: 7,
        run: async () => {
          arrivals++
          const c = new Client(cluster.url, `203.0.${Math.floor(arrivals / 250) % 250}.${arrivals % 250}`)
          const signedIn = await c.signIn(admin.email, admin.password)
          if (signedIn !== 303) return `sign-in: ${signedIn}`
          const home = expect(await c.send('GET', '/'), 200, 'sign-in home')
          return home === true ? expect(await c.form('/logout', {}), 303, 'sign-out') : home
        },
      },
    ]
    const total = actions.reduce((s, a) => s + a.weight, 0)
    const choose = () => {
      let r = Math.random() * total
      for (const a of actions) {
        r -= a.weight
        if (r < 0) return a
      }
      return actions[0] as (typeof actions)[number]
    }
    const samples: Sample[] = []
    const once = async () => {
      const action = choose()
      const started = performance.now()
      let outcome: true | string
      try {
        outcome = await action.run(pick(staff))
      } catch (error) {
        outcome = `${action.name}: ${error instanceof Error ? error.message : String(error)}`
      }
      const ms = performance.now() - started
      const failure = outcome === true ? undefined : outcome
      samples.push({ at: Date.now(), ms, ok: outcome === true, action: action.name, failure })
    }

    // 1. Saturation: closed loop.
    const saturation: { workers: number; perSecond: number }[] = []
    for (const workers of [2, 4, 8, 16]) {
      const from = samples.length
      const until = Date.now() + STEP_SECONDS * 1_000
      await Promise.all(
        Array.from({ length: workers }, async () => {
          while (Date.now() < until) await once()
        }),
      )
      const done = samples.slice(from)
      saturation.push({ workers, perSecond: done.length / STEP_SECONDS })
      process.stdout.write(`  ${workers} workers: ${(done.length / STEP_SECONDS).toFixed(1)} actions/s\n`)
    }
    const warmupErrors = samples.filter((s) => !s.ok)
    const best = Math.max(...saturation.map((s) => s.perSecond))
    const rate = best / 2
    process.stdout.write(
      `Saturation ${best.toFixed(1)} actions/s; soaking at ${rate.toFixed(1)}/s for ${MINUTES} min\n`,
    )

    // 2. The soak: open loop at half the saturation.
    samples.length = 0
    const memory: { at: number; rss: number[] }[] = []
    const tables: { at: number; counts: Record<string, number> }[] = []
    const rss = (pid: number | undefined) =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
    const count = async () => {
      const n = async (table: string) => Number((await db(table).count<{ n: string }[]>('* as n'))[0]?.n)
      return {
        sessions: await n('sessions'),
        'pgboss.job': await n('pgboss.job'),
        'pgboss.archive': await n('pgboss.archive'),
        rate_limit_hits: await n('rate_limit_hits'),
        form_submissions: await n('form_submissions'),
      }
    }
    const start = Date.now()
    const end = start + MINUTES * 60_000
    const inFlight = new Set<Promise<void>>()
    const sampler = setInterval(() => {
      memory.push({ at: Date.now(), rss: cluster.processes.map((p) => rss(p.child.pid)) })
      void count().then((counts) => tables.push({ at: Date.now(), counts }))
    }, 10_000)
    memory.push({ at: start, rss: cluster.processes.map((p) => rss(p.child.pid)) })
    tables.push({ at: start, counts: await count() })
    let next = performance.now()
    while (Date.now() < end) {
      const p = once()
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
      next += 1_000 / rate
      const wait = next - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
    await Promise.all(inFlight)
    clearInterval(sampler)
    memory.push({ at: Date.now(), rss: cluster.processes.map((p) => rss(p.child.pid)) })
    tables.push({ at: Date.now(), counts: await count() })

    // 3. The figures.
    const p99 = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b)
      return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0
    }
    const minutes = Array.from({ length: MINUTES }, (_, m) => {
      const inMinute = samples.filter((s) => s.at >= start + m * 60_000 && s.at < start + (m + 1) * 60_000)
      // Each action's own p99 in the minute, to tell which one a slow minute came from.
      const byAction = Object.fromEntries(
        actions.map((a) => [a.name, Math.round(p99(inMinute.filter((s) => s.action === a.name).map((s) => s.ms)))]),
      )
      return { minute: m + 1, requests: inMinute.length, p99: Math.round(p99(inMinute.map((s) => s.ms))), byAction }
    })
    const errors = samples.filter((s) => !s.ok)
    const firstP99 = minutes[0]?.p99 ?? 0
    const worstP99 = Math.max(...minutes.map((m) => m.p99))
    const afterWarmup = memory.find((m) => m.at >= start + 60_000) ?? memory[0]
    const last = memory[memory.length - 1]
    const growth = cluster.processes.map((_, i) => {
      const from = afterWarmup?.rss[i] ?? 0
      const to = last?.rss[i] ?? 0
      return { from: Math.round(from), to: Math.round(to), percent: Math.round(((to - from) / from) * 1000) / 10 }
    })
    // The background jobs that ran during the soak, by the minute they started in (to read a slow minute by).
    const jobRuns: { name: string; minute: number; ms: number }[] = (
      await db.raw(
        `SELECT name, floor(extract(epoch FROM started_on - to_timestamp(:start / 1000.0)) / 60)::int + 1 AS minute,
                round(extract(epoch FROM completed_on - started_on) * 1000)::int AS ms
         FROM pgboss.job WHERE started_on >= to_timestamp(:start / 1000.0) ORDER BY started_on`,
        { start },
      )
    ).rows
    const firstTables = tables[0]?.counts ?? {}
    const lastTables = tables[tables.length - 1]?.counts ?? {}
    // Bounded: sessions stay about the staff signed in (arrivals sign out); rate-limit counters and form
    // claims are swept; pg-boss's rows grow with its schedules (a few a minute), never with the load.
    const maxSessions = Math.max(...tables.map((t) => t.counts.sessions ?? 0))
    const bounded = {
      sessions: maxSessions <= staff.length + 20,
      jobs: (lastTables['pgboss.job'] ?? 0) + (lastTables['pgboss.archive'] ?? 0) <= 20 * MINUTES + 50,
    }
    const result = {
      minutes: MINUTES,
      saturation,
      rate,
      requests: samples.length,
      errors: errors.length,
      errorsByAction: Object.fromEntries(
        actions.map((a) => [a.name, errors.filter((e) => e.action === a.name).length]),
      ),
      warmupErrors: warmupErrors.length,
      warmupFailures: [...new Set(warmupErrors.map((e) => e.failure))].slice(0, 20),
      failures: [...new Set(errors.map((e) => e.failure))].slice(0, 20),
      perMinute: minutes,
      firstP99,
      worstP99,
      memoryMb: growth,
      jobRuns: jobRuns.filter((j) => j.name !== 'outbox.deliver' && j.name !== 'auth.password_resets'),
      tables: { start: firstTables, end: lastTables, maxSessions },
      checks: {
        noErrors: errors.length === 0,
        p99Within2x: worstP99 <= 2 * firstP99,
        memoryFlat: growth.every((g) => g.percent < 10),
        sessionsBounded: bounded.sessions,
        jobsBounded: bounded.jobs,
      },
    }
    writeFileSync(path.join(dataDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    const passed = Object.values(result.checks).every(Boolean)
    process.stdout.write(passed ? 'Soak passed\n' : 'Soak FAILED\n')
    process.exitCode = passed ? 0 : 1
  } finally {
    await db.destroy()
    await cluster.stop()
  }
}

await main()
