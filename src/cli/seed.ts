import path from 'node:path'
import { loadConfig, ROOT_DIR } from '../config.js'
import { connectDatabase } from '../db/connect.js'
import { createDb, migrateLatest } from '../db/knex.js'

const config = loadConfig()
const database = await connectDatabase(config)
const db = createDb(database.url)
await migrateLatest(db)
const [files] = await db.seed.run({ directory: path.join(ROOT_DIR, 'seeds'), loadExtensions: ['.ts'] })
process.stdout.write(`Seeds run: ${files.map((f) => path.basename(f)).join(', ')}\n`)
await db.destroy()
await database.stop()
