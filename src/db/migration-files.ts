import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Knex } from 'knex'

/** The migrations beside the running code: migrations/*.ts from the sources, build/migrations/*.js compiled. */
export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '..', '..', 'migrations')

interface MigrationModule {
  up(knex: Knex): Promise<void>
  down(knex: Knex): Promise<void>
}

/**
 * The migration files, whether run as TypeScript (tsx) or compiled to JavaScript (the container image). Each
 * is recorded in knex_migrations under its `.ts` name, as every database has recorded them from the start,
 * so a database migrated by one can be run by the other.
 */
export class MigrationFiles implements Knex.MigrationSource<string> {
  constructor(private readonly dir = MIGRATIONS_DIR) {}

  async getMigrations(): Promise<string[]> {
    const files = await readdir(this.dir)
    return files.filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort()
  }

  getMigrationName(file: string): string {
    return file.replace(/\.js$/, '.ts')
  }

  async getMigration(file: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(this.dir, file)).href)) as MigrationModule
  }
}
