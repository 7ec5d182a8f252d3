import fp from 'fastify-plugin'
import { JOBS, type JobDefinition, type JobResult } from './definitions.js'
import type { JobQueue } from './queue.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobs: {
      /** The jobs the app knows (the queue's, or every job of the app when it has none). */
      definitions: readonly JobDefinition[]
      /** The app's queue, when it was given one. */
      queue: JobQueue | undefined
      /**
       * Runs a job now, in this process, recorded by pg-boss like a scheduled run (JobQueue.runNow); needs a
       * queue, which may be one that does not work (`work: false`), so that nothing else runs by itself.
       */
      runNow(name: string): Promise<JobResult>
    }
  }
}

/**
 * The background jobs (src/jobs/definitions.ts) on the job queue the app was given: started once the app is
 * ready, so in every server process, and stopped gracefully when it closes (running jobs end first). An app
 * built without a queue (most tests) runs no job by itself.
 */
export default fp<{ queue?: JobQueue }>(
  async (app, opts) => {
    const queue = opts.queue
    app.decorate('jobs', {
      definitions: queue?.definitions ?? JOBS,
      queue,
      async runNow(name: string) {
        if (!queue) throw new Error('this app has no job queue (buildApp’s `jobs`)')
        return queue.runNow(name)
      },
    })
    if (!queue) return
    app.addHook('onReady', async () => {
      await queue.start({
        db: app.db,
        config: app.config,
        storage: app.storage,
        deliverMail: () => app.deliverMail(),
        mailTransport: app.hasMailTransport,
        log: app.log.child({ component: 'jobs' }),
      })
    })
    // The queue stops as soon as closing starts (preClose: no job is taken from then on, running ones are told
    // to end early), at the same time as the requests in flight finish, and is waited for once they have
    // (onClose). It gives running jobs the shutdown's grace period (src/server.ts) less 2 s, counted from the
    // start, to close the pool and exit.
    let stopped: Promise<void> | undefined
    const stop = () => {
      stopped ??= queue.stop(Math.max(1_000, app.config.shutdownGraceSeconds * 1_000 - 2_000))
      // Awaited in onClose; until then its failure must not count as unhandled.
      stopped.catch(() => undefined)
      return stopped
    }
    app.addHook('preClose', async () => {
      void stop()
    })
    app.addHook('onClose', async () => {
      await stop()
    })
  },
  { name: 'jobs', dependencies: ['config', 'db', 'storage', 'mail-worker'] },
)
