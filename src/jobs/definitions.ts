import type { FastifyBaseLogger } from 'fastify'
import { sendResetLinks } from '../auth/password-reset.js'
import { runDueDigests } from '../client-access/digest.js'
import type { Config } from '../config.js'
import type { Db } from '../db/knex.js'
import { flushStorageDeletions } from '../documents/service.js'
import { deleteExpiredRateLimits } from '../http/rate-limit-store.js'
import { deleteExpiredPortalSessions } from '../identity/portal-sessions.js'
import { deleteExpiredSessions } from '../identity/session-store.js'
import { deleteOldFormClaims } from '../plugins/app/form-once.js'
import { sendReminders } from '../portal/requests.js'
import { recheckAll } from '../risk/risk-state.js'
import { screenAllCompanies } from '../screening/nightly.js'
import type { DocumentStorage } from '../storage/document-storage.js'

/** What a job gets to work with: the app's database, configuration, storage and mail delivery. */
export interface JobContext {
  db: Db
  config: Config
  storage: DocumentStorage
  /** Delivers due outbox messages once; 0 when there is no mail transport (no SMTP_URL). */
  deliverMail: () => Promise<number>
  /** Whether there is a mail transport; without one, messages stay in the outbox. */
  mailTransport: boolean
  log: FastifyBaseLogger
  /** Aborted when the queue stops, so that a job that repeats itself ends early. */
  signal: AbortSignal
}

/** What a run did, in counts (logged, and kept by pg-boss as the job's output). */
export type JobResult = Record<string, number>

export interface JobDefinition {
  /** The pg-boss queue name (also the name of its schedule). */
  name: string
  /** The job in words, for the Background jobs page. */
  title: string
  /** A five-field cron expression (pg-boss's resolution is one minute); none: the job runs only when sent. */
  cron?: string
  /** The cron's time zone (default UTC). */
  timeZone?: string
  /** Attempts after the first failure, the first wait in seconds (then doubling, with jitter), and the longest run. */
  retryLimit: number
  retryDelaySeconds: number
  expireInSeconds: number
  /**
   * Within one scheduled run, run again every `everySeconds` until `forSeconds` have passed or the queue stops:
   * for work that must happen more often than the cron's one minute (delivering email). `runNow` runs once;
   * so does a run for which `when` says no.
   */
  repeat?: { everySeconds: number; forSeconds: number; when?: (context: JobContext) => boolean }
  /** Also send the job when a process starts its queue (pg-boss's first cron check may be a minute away). */
  sendOnStart?: boolean
  /** The work itself; it must be idempotent, since a queue runs a job at least once, not exactly once. */
  run(context: JobContext): Promise<JobResult>
}

/**
 * Every background job of the app. Each is idempotent on its own: the outbox locks each message while it is
 * sent (FOR UPDATE SKIP LOCKED) and marks it sent once; a company's digest for a day is claimed in
 * digest_runs and each email carries the dedupe key digest:<user>:<day>; the sweeps delete what has expired
 * or was queued for deletion, which a second run finds gone.
 */
export const JOBS: readonly JobDefinition[] = [
  {
    name: 'outbox.deliver',
    title: 'Outgoing email delivery',
    cron: '* * * * *',
    // Each run delivers every 5 seconds for a minute; the next minute's run is already waiting when it ends
    // (one waits, one runs: the queue is "stately"), so runs follow each other and a message waits about
    // 5 seconds, not up to a minute. Without a transport there is nothing to deliver: the run ends at once.
    repeat: { everySeconds: 5, forSeconds: 60, when: (context) => context.mailTransport },
    sendOnStart: true,
    retryLimit: 3,
    retryDelaySeconds: 10,
    expireInSeconds: 150,
    run: async (context) => ({ sent: await context.deliverMail() }),
  },
  {
    name: 'auth.password_resets',
    title: 'Password reset links',
    // Requests from the Forgotten password page become links, every 5 seconds for the minute of each run
    // (as the outbox's delivery), so the page itself only writes the request.
    cron: '* * * * *',
    repeat: { everySeconds: 5, forSeconds: 60 },
    sendOnStart: true,
    retryLimit: 3,
    retryDelaySeconds: 10,
    expireInSeconds: 150,
    run: async (context) => ({ sent: await sendResetLinks(context.db, context.config.publicUrl) }),
  },
  {
    name: 'digest.check',
    title: 'Daily digest',
    // Each company's hour and time zone are decided in runDueDigests; the check itself runs every minute.
    cron: '* * * * *',
    retryLimit: 3,
    retryDelaySeconds: 30,
    expireInSeconds: 600,
    run: async (context) => ({ queued: await runDueDigests(context.db, context.config.publicUrl) }),
  },
  {
    name: 'sessions.sweep',
    title: 'Expired sessions sweep',
    cron: '*/10 * * * *',
    retryLimit: 3,
    retryDelaySeconds: 60,
    expireInSeconds: 300,
    run: async (context) => ({
      deleted: await deleteExpiredSessions(context.db, {
        idleMinutes: context.config.idleTimeoutMinutes,
        absoluteHours: context.config.absoluteTimeoutHours,
      }),
    }),
  },
  {
    name: 'rate_limits.sweep',
    title: 'Rate-limit counters sweep',
    // Counters whose window has ended (src/http/rate-limit-store.ts).
    cron: '*/10 * * * *',
    retryLimit: 3,
    retryDelaySeconds: 60,
    expireInSeconds: 300,
    run: async (context) => ({ deleted: await deleteExpiredRateLimits(context.db) }),
  },
  {
    name: 'forms.sweep',
    title: 'Sent forms sweep',
    // The keys of forms sent more than a day ago (src/plugins/app/form-once.ts).
    cron: '17 * * * *',
    retryLimit: 3,
    retryDelaySeconds: 60,
    expireInSeconds: 300,
    run: async (context) => ({ deleted: await deleteOldFormClaims(context.db) }),
  },
  {
    name: 'risk.recheck',
    title: 'Risk assessment recheck',
    // Clients whose data, services, rule set or country lists changed, or whose override ended: is the
    // saved assessment still what the rules recommend, and which classification applies now.
    cron: '* * * * *',
    sendOnStart: true,
    retryLimit: 3,
    retryDelaySeconds: 30,
    expireInSeconds: 600,
    run: async (context) => recheckAll(context.db, context.signal),
  },
  {
    name: 'screening.nightly',
    title: 'Nightly screening',
    // Every live client of every company with lists, against its lists, incrementally (src/screening/nightly.ts).
    cron: '0 2 * * *',
    retryLimit: 3,
    retryDelaySeconds: 300,
    // Far longer than a run takes (100,000 clients: under a minute), so the queue never starts a second run
    // beside one still going.
    expireInSeconds: 6 * 3600,
    run: async (context) => {
      const { companies, screened, searches } = await screenAllCompanies(context.db, context.signal)
      return { companies, screened, searches }
    },
  },
  {
    name: 'portal.reminders',
    title: 'Self-service reminders and portal sessions sweep',
    // Unsubmitted requests about to expire get their reminder; idle portal sessions are removed.
    cron: '23 * * * *',
    retryLimit: 3,
    retryDelaySeconds: 60,
    expireInSeconds: 600,
    run: async (context) => ({
      reminded: await sendReminders(context.db, context.config.publicUrl),
      sessions_deleted: await deleteExpiredPortalSessions(context.db),
    }),
  },
  {
    name: 'storage.sweep',
    title: 'Document storage sweep',
    // Bytes whose rows were deleted but whose removal failed at the time.
    cron: '*/10 * * * *',
    retryLimit: 3,
    retryDelaySeconds: 60,
    expireInSeconds: 300,
    run: async (context) => ({ removed: await flushStorageDeletions(context.db, context.storage) }),
  },
]
