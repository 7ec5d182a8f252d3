import t from 'tap'
import { migrateLatest } from '../../src/db/knex.js'
import { testDatabase } from '../helpers/database.js'

t.test('a process that finds the migration lock taken waits for it, rather than failing to start', async (t) => {
  const { db } = await testDatabase(t)
  // Another process is migrating: it holds knex's lock.
  await db('knex_migrations_lock').update({ is_locked: 1 })
  const started = Date.now()
  const waiting = migrateLatest(db, 10_000)
  setTimeout(() => void db('knex_migrations_lock').update({ is_locked: 0 }).then(), 1_000)
  t.same(await waiting, [], 'it runs once the lock is free: nothing is pending')
  t.ok(Date.now() - started >= 900, 'after waiting for the other process')

  await db('knex_migrations_lock').update({ is_locked: 1 })
  await t.rejects(migrateLatest(db, 500), { name: 'MigrationLocked' }, 'a lock never freed fails the start in the end')
  await db('knex_migrations_lock').update({ is_locked: 0 })
})
