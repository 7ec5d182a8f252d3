import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../../scripts/test-database.js'
import { ROOT_DIR } from '../../src/config.js'
import { type RunningPostgres, startEmbeddedPostgres } from '../../src/db/embedded.js'

/**
 * A fresh folder for data directories under .data, like .data/test-postgres: as root, the server runs
 * as the `postgres` user, which must be able to reach it (a system temp dir made by mkdtemp is 0700).
 */
function tempParent(): string {
  mkdirSync(path.join(ROOT_DIR, '.data'), { recursive: true })
  const parent = mkdtempSync(path.join(ROOT_DIR, '.data', 'test-embedded-'))
  chmodSync(parent, 0o755)
  return parent
}

t.test('a second start on a data directory whose PostgreSQL runs says it is in use and what to do', async (t) => {
  const parent = tempParent()
  const dir = path.join(parent, 'postgres')
  let first: RunningPostgres | undefined = await startEmbeddedPostgres(dir, await freePort())
  t.teardown(async () => {
    await first?.stop()
    rmSync(parent, { recursive: true, force: true })
  })
  const pidFile = path.join(dir, 'postmaster.pid')
  const pid = readFileSync(pidFile, 'utf8').split('\n')[0]

  const refused = await startEmbeddedPostgres(dir, await freePort()).catch((error: unknown) => error)
  t.type(refused, Error)
  const message = (refused as Error).message
  t.match(message, `the PostgreSQL data directory ${dir} is in use`)
  t.match(message, `pid ${pid}`)
  t.match(message, 'another `npm start`')
  t.match(message, 'DATABASE_URL')
  t.match(message, 'DATA_DIR')
  t.ok(existsSync(pidFile), 'the running server keeps its pid file')

  // Once it is stopped, a pid file of a process that no longer runs (a crash) does not stop a start.
  await first.stop()
  first = undefined
  writeFileSync(pidFile, `${2 ** 22 + 1}\n${dir}\n`) // above Linux's largest pid: never a live process
  first = await startEmbeddedPostgres(dir, await freePort())
  t.not(readFileSync(pidFile, 'utf8').split('\n')[0], String(2 ** 22 + 1), 'the stale pid file was replaced')
})
