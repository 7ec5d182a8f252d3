import cronParser from 'cron-parser'

const pad = (n: string) => n.padStart(2, '0')

/** A five-field cron expression in words, for the expressions the app uses; any other is shown as it is. */
export function cronInWords(cron: string, timeZone = 'UTC'): string {
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5) return `cron “${cron}”`
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string]
  const everyDay = dayOfMonth === '*' && month === '*' && dayOfWeek === '*'
  if (everyDay && hour === '*' && minute === '*') return 'every minute'
  const step = /^\*\/(\d+)$/.exec(minute)
  if (everyDay && hour === '*' && step) return `every ${step[1]} minutes`
  if (everyDay && hour === '*' && /^\d+$/.test(minute)) return `every hour at minute ${minute}`
  if (everyDay && /^\d+$/.test(hour) && /^\d+$/.test(minute))
    return `every day at ${pad(hour)}:${pad(minute)} ${timeZone}`
  return `cron “${cron}” (${timeZone})`
}

/** When the cron next comes round after `now`. */
export function nextCronTime(cron: string, timeZone = 'UTC', now = new Date()): Date {
  return cronParser.parseExpression(cron, { tz: timeZone, currentDate: now }).next().toDate()
}
