import type { Knex } from 'knex';
import { MIGRATIONS } from './migrations';

/** Knex's migration bookkeeping lives in `ops`, beside the rest of the hub's own state. */
const MIGRATION_CONFIG = (): Knex.MigratorConfig => ({
  migrationSource: {
    getMigrations: async () => MIGRATIONS.map(([name]) => name),
    getMigrationName: (name: string) => name,
    getMigration: async (name: string) => {
      const found = MIGRATIONS.find(([n]) => n === name);
      if (!found) throw new Error(`unknown migration ${name}`);
      return found[1];
    },
  },
  schemaName: 'ops',
  tableName: 'knex_migrations',
});

async function ensureOpsSchema(db: Knex): Promise<void> {
  await db.raw('create schema if not exists ops');
}

/** Applies every pending migration; returns the names applied now. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  await ensureOpsSchema(db);
  const [, applied] = (await db.migrate.latest(MIGRATION_CONFIG())) as [number, string[]];
  return applied;
}

/** Rolls back the last batch (or everything with `all`). */
export async function migrateRollback(db: Knex, all = false): Promise<string[]> {
  await ensureOpsSchema(db);
  const [, reverted] = (await db.migrate.rollback(MIGRATION_CONFIG(), all)) as [number, string[]];
  return reverted;
}

export async function migrationStatus(db: Knex): Promise<{ applied: string[]; pending: string[] }> {
  await ensureOpsSchema(db);
  const [done, pending] = (await db.migrate.list(MIGRATION_CONFIG())) as [Array<{ name: string } | string>, Array<{ file: string } | string>];
  return {
    applied: done.map((m) => (typeof m === 'string' ? m : m.name)),
    pending: pending.map((m) => (typeof m === 'string' ? m : m.file)),
  };
}
