import path from 'node:path'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import assetRoutes from './assets/routes.js'
import auditRoutes from './audit/routes.js'
import passwordRoutes from './auth/password-routes.js'
import authRoutes from './auth/routes.js'
import ssoRoutes from './auth/sso-routes.js'
import twoFactorRoutes from './auth/two-factor-routes.js'
import clientAccessRoutes from './client-access/routes.js'
import type { Config } from './config.js'
import dashboardRoutes from './dashboard/routes.js'
import workQueue from './dashboard/work-queue.js'
import type { Db } from './db/knex.js'
import documentRoutes from './documents/routes.js'
import clientPage from './entities/page.js'
import entityRoutes from './entities/routes.js'
import healthRoutes from './health/routes.js'
import jobs from './jobs/plugin.js'
import type { JobQueue } from './jobs/queue.js'
import jobRoutes from './jobs/routes.js'
import type { MailTransport } from './mail/outbox.js'
import outboxRoutes from './mail/routes.js'
import mailWorker from './mail/worker.js'
import { configPlugin, dbPlugin, storagePlugin } from './plugins/app/core.js'
import currentUser from './plugins/app/current-user.js'
import errors from './plugins/app/errors.js'
import formOnce from './plugins/app/form-once.js'
import guard from './plugins/app/guard.js'
import render from './plugins/app/render.js'
import security, { frameworkErrorHandler } from './plugins/external/security.js'
import session from './plugins/external/session.js'
import views from './plugins/external/views.js'
import portalRoutes from './portal/portal-routes.js'
import portalRequestRoutes from './portal/routes.js'
import portalSettingsRoutes from './portal/settings-routes.js'
import recycleBinRoutes from './recycle-bin/routes.js'
import reportRoutes from './reports/routes.js'
import countryListRoutes from './risk/country-list-routes.js'
import riskRoutes, { riskSettingsRoutes } from './risk/routes.js'
import screeningRoutes from './screening/routes.js'
import searchRoutes from './screening/search-routes.js'
import screeningSettingsRoutes from './screening/settings-routes.js'
import serviceRoutes from './services/routes.js'
import sessionRoutes from './sessions/routes.js'
import { type DocumentStorage, FileSystemStorage } from './storage/document-storage.js'
import invitationRoutes from './users/invitation-routes.js'
import permissionRoutes from './users/permission-routes.js'
import userRoutes from './users/routes.js'
import './types.js'

export interface AppOptions {
  config: Config
  db: Db
  logger?: FastifyServerOptions['logger']
  /** Outbox delivery: a transport for tests (otherwise SMTP_URL's); app.deliverMail() delivers due mail once. */
  mail?: { transport?: MailTransport }
  /**
   * The job queue (src/jobs/queue.ts) the app starts when ready and stops when it closes: it runs the
   * outbox delivery, the daily digest and the sweeps on their schedules. None (tests): no job runs by itself.
   */
  jobs?: JobQueue
  /** Document storage; by default files under DATA_DIR/documents. */
  storage?: DocumentStorage
}

/** What never reaches a log line: credentials, session ids, CSRF tokens. */
export const LOG_REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  '_csrf',
  '*._csrf',
]

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return { level, redact: { paths: LOG_REDACT, censor: '[redacted]' } }
}

/**
 * Builds the application in three layers (STYLE.md): configuration of other people's plugins, our own
 * plugins (guard, current user, rendering, errors), then the routes, one folder per area.
 */
export async function buildApp({
  config,
  db,
  logger,
  mail,
  storage,
  jobs: queue,
}: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? loggerOptions(config.logLevel),
    trustProxy: config.trustProxy,
    bodyLimit: 1_048_576,
    frameworkErrors: frameworkErrorHandler(config),
  })

  // Once closing (SIGTERM, src/server.ts), the answer to a request still in flight closes its connection:
  // a kept-alive connection would otherwise hold the server open until the grace period ends.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('Connection', 'close')
    return payload
  })

  await app.register(configPlugin, { config })
  await app.register(dbPlugin, { db })
  await app.register(storagePlugin, {
    storage: storage ?? new FileSystemStorage(path.join(config.dataDir, 'documents')),
  })

  await app.register(security)
  await app.register(session)
  await app.register(views)

  await app.register(currentUser)
  await app.register(render)
  await app.register(errors)
  await app.register(guard)
  await app.register(formOnce)
  await app.register(mailWorker, mail ?? {})
  await app.register(jobs, { queue })

  await app.register(assetRoutes)
  await app.register(healthRoutes)
  await app.register(authRoutes)
  await app.register(passwordRoutes)
  await app.register(twoFactorRoutes)
  await app.register(ssoRoutes)
  await app.register(workQueue)
  await app.register(dashboardRoutes)
  await app.register(userRoutes)
  await app.register(permissionRoutes)
  await app.register(sessionRoutes)
  await app.register(invitationRoutes)
  await app.register(auditRoutes)
  await app.register(outboxRoutes)
  await app.register(jobRoutes)
  // The client page first: the areas after it add their sections to it.
  await app.register(clientPage)
  await app.register(entityRoutes)
  await app.register(riskRoutes)
  await app.register(riskSettingsRoutes)
  await app.register(countryListRoutes)
  await app.register(screeningRoutes)
  await app.register(searchRoutes)
  await app.register(screeningSettingsRoutes)
  await app.register(portalRequestRoutes)
  await app.register(portalSettingsRoutes)
  await app.register(portalRoutes)
  await app.register(serviceRoutes)
  await app.register(documentRoutes)
  await app.register(recycleBinRoutes)
  await app.register(reportRoutes)
  await app.register(clientAccessRoutes)

  return app
}
