import { setTimeout as sleep } from 'node:timers/promises'
import PgBoss from 'pg-boss'
import { JOBS, type JobContext, type JobDefinition, type JobResult } from './definitions.js'

/** pg-boss's schema, created by migrations/20261126000100_job_queue.ts. */
export const JOB_SCHEMA = 'pgboss'

export interface JobQueueOptions {
  /** The app's own PostgreSQL. */
  connectionString: string
  /** The jobs this queue knows (default: every job of the app, JOBS). */
  jobs?: readonly JobDefinition[]
  /**
   * true (default): work — run scheduled jobs, write the schedules, and take part in pg-boss's upkeep (expiring
   * stuck jobs, archiving). false: only connect and create the queues, so that jobs run through `runNow`
   * and nothing runs by itself (tests, tools).
   */
  work?: boolean
  /** How often each job's worker looks for a job to run, in seconds (default 5; at least 0.5). */
  pollingIntervalSeconds?: number
  /** Connections of the queue's own pool (default 4). */
  maxConnections?: number
}

/** The context the app hands the queue when it starts it (the signal is the queue's own). */
export type AppContext = Omit<JobContext, 'signal'>

/** An Error with the message alone: pg-boss keeps what a handler throws as the job's output, never a stack. */
function withoutStack(error: unknown): Error {
  const plain = new Error(error instanceof Error ? error.message : String(error))
  plain.stack = undefined
  return plain
}

/** The message of a failed job's output as pg-boss stores it: a serialised Error, or `{ value: … }`. */
export function outputMessage(output: unknown): string | undefined {
  if (!output || typeof output !== 'object') return undefined
  const o = output as { message?: unknown; value?: unknown }
  if (typeof o.message === 'string') return o.message
  if (typeof o.value === 'string') return o.value
  if (o.value && typeof o.value === 'object' && typeof (o.value as { message?: unknown }).message === 'string') {
    return (o.value as { message: string }).message
  }
  return undefined
}

/**
 * The app's job queue: pg-boss on the app's own PostgreSQL, with a small pool of its own. Constructed by
 * whoever starts the server (src/server.ts) and handed to the app (buildApp's `jobs`), which starts it when
 * ready and stops it, gracefully, when it closes (src/jobs/plugin.ts).
 *
 * Each job is a pg-boss queue of policy "stately" (across every process at most one run waiting, one waiting
 * for its retry and one running: a burst of sends collapses into one run), with its retry policy (retryLimit more attempts, the
 * first after retryDelaySeconds, doubling with jitter) and its longest run (expireInSeconds, after which
 * pg-boss fails it and retries). Jobs with a cron are scheduled with pg-boss's `schedule()`: whichever
 * process's clock check comes first sends the job, once per cron slot.
 */
export class JobQueue {
  readonly definitions: readonly JobDefinition[]
  readonly #boss: PgBoss
  readonly #work: boolean
  readonly #pollingIntervalSeconds: number
  readonly #stopping = new AbortController()
  #context: AppContext | undefined
  #started: Promise<void> | undefined

  constructor(options: JobQueueOptions) {
    this.definitions = options.jobs ?? JOBS
    this.#work = options.work ?? true
    this.#pollingIntervalSeconds = options.pollingIntervalSeconds ?? 5
    this.#boss = new PgBoss({
      connectionString: options.connectionString,
      schema: JOB_SCHEMA,
      application_name: 'kyc-desk jobs',
      max: options.maxConnections ?? 4,
      supervise: this.#work,
      schedule: this.#work,
    })
    // pg-boss reports trouble (a lost connection, a failed clock check) as events; unheard, one would crash.
    this.#boss.on('error', (err) => this.#context?.log.error({ err }, 'job queue error'))
  }

  /** The definition of a job, by name. */
  definition(name: string): JobDefinition {
    const found = this.definitions.find((d) => d.name === name)
    if (!found) throw new Error(`no job named ${name}`)
    return found
  }

  /** Connects, creates each job's queue (and, when working, its schedule and worker). */
  start(context: AppContext): Promise<void> {
    this.#context = context
    this.#started ??= this.#start()
    return this.#started
  }

  async #start(): Promise<void> {
    await this.#boss.start()
    for (const def of this.definitions) {
      const options = {
        name: def.name,
        policy: 'stately' as const,
        retryLimit: def.retryLimit,
        retryDelay: def.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: def.expireInSeconds,
      }
      // createQueue leaves an existing queue as it is; updateQueue brings its policy up to date.
      await this.#boss.createQueue(def.name, options)
      await this.#boss.updateQueue(def.name, options)
      if (!this.#work) continue
      if (def.cron) await this.#boss.schedule(def.name, def.cron, {}, { tz: def.timeZone ?? 'UTC' })
      await this.#boss.work(def.name, { pollingIntervalSeconds: this.#pollingIntervalSeconds, batchSize: 1 }, (jobs) =>
        this.#runJobs(def, jobs),
      )
      if (def.sendOnStart) await this.#boss.send(def.name, {})
    }
    this.#context?.log.info({ jobs: this.definitions.map((d) => d.name), working: this.#work }, 'job queue started')
  }

  /** pg-boss hands a worker an array of jobs (one, with batchSize 1); their output is the last result. */
  async #runJobs(def: JobDefinition, jobs: PgBoss.Job<unknown>[]): Promise<JobResult> {
    let result: JobResult = {}
    for (const job of jobs) result = await this.#execute(def, job.id, true)
    return result
  }

  /** Runs a job's handler (repeating it when it repeats and `scheduled`), logs the outcome, returns the counts. */
  async #execute(def: JobDefinition, id: string, scheduled: boolean): Promise<JobResult> {
    const app = this.#context
    if (!app) throw new Error('the job queue has not been started')
    const context: JobContext = { ...app, signal: this.#stopping.signal }
    const started = Date.now()
    try {
      const result = { ...(await def.run(context)) }
      const repeat = def.repeat
      if (scheduled && repeat && (repeat.when?.(context) ?? true)) {
        const until = started + repeat.forSeconds * 1000
        while (!context.signal.aborted && Date.now() + repeat.everySeconds * 1000 <= until) {
          await sleep(repeat.everySeconds * 1000, undefined, { signal: context.signal }).catch(() => undefined)
          if (context.signal.aborted) break
          for (const [key, value] of Object.entries(await def.run(context))) result[key] = (result[key] ?? 0) + value
        }
      }
      // A run that found nothing to do (most of them) is logged at debug level only.
      const level = Object.values(result).some((n) => n !== 0) ? 'info' : 'debug'
      app.log[level]({ job: def.name, id, result, ms: Date.now() - started }, 'job done')
      return result
    } catch (error) {
      app.log.error({ err: error, job: def.name, id, ms: Date.now() - started }, 'job failed')
      throw withoutStack(error)
    }
  }

  /** Sends a job now, through pg-boss (a worker of any process runs it); null when one is already waiting. */
  send(name: string): Promise<string | null> {
    this.definition(name)
    return this.#boss.send(name, {})
  }

  /**
   * Runs a job now, in this process, recorded by pg-boss like any run: the job is sent, taken (fetch) and
   * completed or failed with its output, so it shows on the Background jobs page. For a queue that does not
   * work (tests, tools); when a worker takes the job first, waits for that run's outcome instead.
   */
  async runNow(name: string, timeoutMs = 30_000): Promise<JobResult> {
    const def = this.definition(name)
    if (!this.#started) throw new Error('the job queue has not been started')
    await this.#started
    const sent = await this.#boss.send(name, {})
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const [job] = await this.#boss.fetch(name)
      if (job) {
        let result: JobResult
        try {
          result = await this.#execute(def, job.id, false)
        } catch (error) {
          await this.#boss.fail(name, job.id, error as object)
          throw error
        }
        await this.#boss.complete(name, job.id, result)
        return result
      }
      if (sent) {
        const run = await this.#boss.getJobById<object>(name, sent, { includeArchive: true })
        if (run?.state === 'completed') return (run.output ?? {}) as JobResult
        if (run?.state === 'failed') throw new Error(outputMessage(run.output) ?? `${name} failed`)
      }
      if (Date.now() > deadline) throw new Error(`${name} could not be run now: another run did not end in time`)
      await sleep(200)
    }
  }

  /**
   * Stops taking jobs, tells running ones to end early (a repeating job stops repeating), waits for them
   * at most `timeoutMs` (at least 1 s, pg-boss's floor), then closes the pool. A job still running then is
   * failed by pg-boss ("pg-boss shut down while active") and so goes back to its queue, to be retried by
   * whichever process works next, as its retry policy allows.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.#stopping.abort()
    if (!this.#started) return
    await this.#started.catch(() => undefined)
    await this.#boss.stop({ graceful: true, wait: true, timeout: timeoutMs })
  }
}
