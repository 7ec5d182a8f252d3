import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { loadConfig } from '../src/config.js'

t.test('defaults: port 3000, embedded database, a session secret generated once under the data folder', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kyc-config-'))
  const config = loadConfig({ DATA_DIR: dataDir })
  t.equal(config.port, 3000)
  t.equal(config.databaseUrl, undefined)
  t.equal(config.production, false)
  t.equal(config.seedDemo, true)
  t.equal(config.idleTimeoutMinutes, 30)
  t.equal(config.absoluteTimeoutHours, 12)
  const file = path.join(dataDir, 'session-secret')
  t.ok(existsSync(file))
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only')
  t.equal(config.sessionSecret, readFileSync(file, 'utf8').trim())
  t.ok(config.sessionSecret.length >= 64)
  t.equal(loadConfig({ DATA_DIR: dataDir }).sessionSecret, config.sessionSecret, 'kept between starts')
})

t.test('values from the environment, checked', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    DATABASE_URL: 'postgres://u:p@db/kyc',
    SESSION_SECRET: 'x'.repeat(40),
    NODE_ENV: 'production',
    TRUST_PROXY: 'true',
    SESSION_IDLE_MINUTES: '15',
  })
  t.equal(config.port, 8080)
  t.equal(config.databaseUrl, 'postgres://u:p@db/kyc')
  t.equal(config.production, true)
  t.equal(config.seedDemo, false, 'no demo data in production unless SEED_DEMO=true')
  t.equal(config.trustProxy, true)
  t.equal(config.idleTimeoutMinutes, 15)
  t.equal(loadConfig({ SESSION_SECRET: 'x'.repeat(40), TRUST_PROXY: '10.0.0.1' }).trustProxy, '10.0.0.1')
  t.throws(() => loadConfig({ PORT: 'abc', SESSION_SECRET: 'x'.repeat(40) }), /PORT must be a positive whole number/)
  t.throws(() => loadConfig({ SESSION_SECRET: 'short' }), /at least 32 characters/)
})
