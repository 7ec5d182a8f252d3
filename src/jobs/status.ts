import type { Db } from '../db/knex.js'
import { cronInWords, nextCronTime } from './cron.js'
import type { JobDefinition, JobResult } from './definitions.js'
import { JOB_SCHEMA, outputMessage } from './queue.js'

/** The longest error message the page shows (the first line of it). */
const MESSAGE_LENGTH = 300

type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed'

interface JobRow {
  name: string
  state: JobState
  started_on: Date | null
  completed_on: Date | null
  start_after: Date
  retry_count: number
  retry_limit: number
  output: unknown
}

export interface LastRun {
  state: JobState
  startedOn: Date | null
  completedOn: Date | null
  /** When it runs again after a failure (state retry). */
  retryAt: Date | null
  /** The error of a failed run. */
  error?: string
  /** The counts of a completed run, in words ("3 sent"). */
  result?: string
}

export interface ScheduleStatus {
  name: string
  title: string
  /** The cron in words; undefined for a job without a schedule. */
  every?: string
  /** Whether a server that runs the queue has written this schedule. */
  scheduled: boolean
  next: Date | null
  last: LastRun | null
}

export interface JobFailure {
  name: string
  title: string
  at: Date | null
  /** 1 for the first attempt. */
  attempt: number
  attempts: number
  retryAt: Date | null
  error: string
}

/** The first line of a message, at most MESSAGE_LENGTH characters: never a stack trace. */
function firstLine(message: string | undefined): string {
  const line = (message ?? 'failed without a message').split('\n')[0]?.trim() || 'failed without a message'
  return line.length > MESSAGE_LENGTH ? `${line.slice(0, MESSAGE_LENGTH - 1)}…` : line
}

function resultInWords(output: unknown): string | undefined {
  if (!output || typeof output !== 'object') return undefined
  const parts = Object.entries(output as JobResult)
    .filter(([, value]) => typeof value === 'number')
    .map(([key, value]) => `${value} ${key}`)
  return parts.length > 0 ? parts.join(', ') : undefined
}

const COLUMNS = 'name, state::text AS state, started_on, completed_on, start_after, retry_count, retry_limit, output'

/**
 * What the Background jobs page shows, read from pg-boss's tables (jobs, their archive after 12 hours, and the
 * schedules): each job's schedule with its last and next run, and the recent failed attempts with their error.
 */
export async function jobsStatus(
  db: Db,
  definitions: readonly JobDefinition[],
  now = new Date(),
): Promise<{ schedules: ScheduleStatus[]; failures: JobFailure[] }> {
  const names = definitions.map((d) => d.name)
  const schedules: { name: string; cron: string; timezone: string | null }[] = await db
    .withSchema(JOB_SCHEMA)
    .from('schedule')
    .whereIn('name', names)
    .select('name', 'cron', 'timezone')
  // The latest run that started, per job, from the live table or the archive.
  const last: { rows: JobRow[] } = await db.raw(
    `SELECT r.* FROM unnest(?::text[]) AS n(name)
     CROSS JOIN LATERAL (
       SELECT * FROM (
         (SELECT ${COLUMNS} FROM ${JOB_SCHEMA}.job j
          WHERE j.name = n.name AND j.started_on IS NOT NULL ORDER BY j.started_on DESC LIMIT 1)
         UNION ALL
         (SELECT ${COLUMNS} FROM ${JOB_SCHEMA}.archive a
          WHERE a.name = n.name AND a.started_on IS NOT NULL ORDER BY a.started_on DESC LIMIT 1)
       ) latest ORDER BY started_on DESC LIMIT 1
     ) r`,
    [names],
  )
  // Failed attempts pg-boss still keeps: given up (failed), or waiting for their next attempt (retry).
  const failed: { rows: JobRow[] } = await db.raw(
    `SELECT * FROM (
       SELECT ${COLUMNS} FROM ${JOB_SCHEMA}.job WHERE name = ANY(?::text[]) AND state IN ('failed', 'retry')
       UNION ALL
       SELECT ${COLUMNS} FROM ${JOB_SCHEMA}.archive WHERE name = ANY(?::text[]) AND state = 'failed'
     ) f
     WHERE output IS NOT NULL
     ORDER BY coalesce(completed_on, started_on) DESC NULLS LAST
     LIMIT 20`,
    [names, names],
  )
  const title = (name: string) => definitions.find((d) => d.name === name)?.title ?? name
  return {
    schedules: definitions.map((def): ScheduleStatus => {
      const schedule = schedules.find((s) => s.name === def.name)
      const cron = schedule?.cron ?? def.cron
      const timeZone = schedule?.timezone ?? def.timeZone ?? 'UTC'
      const run = last.rows.find((r) => r.name === def.name)
      return {
        name: def.name,
        title: def.title,
        every: cron ? cronInWords(cron, timeZone) : undefined,
        scheduled: Boolean(schedule),
        next: schedule ? nextCronTime(schedule.cron, timeZone, now) : null,
        last: run
          ? {
              state: run.state,
              startedOn: run.started_on,
              completedOn: run.completed_on,
              retryAt: run.state === 'retry' ? run.start_after : null,
              error: run.state === 'failed' || run.state === 'retry' ? firstLine(outputMessage(run.output)) : undefined,
              result: run.state === 'completed' ? resultInWords(run.output) : undefined,
            }
          : null,
      }
    }),
    failures: failed.rows.map((row) => ({
      name: row.name,
      title: title(row.name),
      at: row.completed_on ?? row.started_on,
      attempt: row.retry_count + 1,
      attempts: row.retry_limit + 1,
      retryAt: row.state === 'retry' ? row.start_after : null,
      error: firstLine(outputMessage(row.output)),
    })),
  }
}
