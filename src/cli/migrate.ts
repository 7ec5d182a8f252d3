import { loadConfig } from '../config.js'
import { connectDatabase } from '../db/connect.js'
import { createDb, migrateLatest } from '../db/knex.js'

const config = loadConfig()
const database = await connectDatabase(config)
const db = createDb(database.url)
const applied = await migrateLatest(db)
process.stdout.write(
  applied.length ? `Applied:\n${applied.map((m) => `  ${m}`).join('\n')}\n` : 'Already up to date.\n',
)
await db.destroy()
await database.stop()
