import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type pg from 'pg';
import type { Config } from '../lib/config';
import { createDb } from '../lib/db';
import { migrateLatest } from '../sql/migrate';
import { once } from './interrupt';

/**
 * A PostgreSQL database of the bench's own, migrated to the latest schema and dropped at the
 * end: the shared `liandong` database holds every test run's rows, which would make the
 * sink's upserts and link statements measure other people's data.
 */
export interface BenchDatabase {
  name: string;
  db: Knex;
  /** Connection settings for a plain pg client (the COPY baseline). */
  clientConfig: pg.ClientConfig;
  drop(): Promise<void>;
}

async function onMaintenanceDb<T>(config: Config, fn: (db: Knex) => Promise<T>): Promise<T> {
  const admin = createDb(config, { poolMax: 1 });
  try {
    return await fn(admin);
  } finally {
    await admin.destroy();
  }
}

export async function createBenchDatabase(config: Config): Promise<BenchDatabase> {
  // Lower-case hex only: the name needs no quoting and never parses as JSON in a LIANDONG__ override.
  const name = `liandong_bench_${crypto.randomBytes(5).toString('hex')}`;
  await onMaintenanceDb(config, (admin) => admin.raw(`create database ${name}`));
  const db = createDb(config, { database: name, poolMax: 4 });
  const drop = once(async () => {
    await db.destroy();
    // FORCE ends sessions a killed child process may have left behind.
    await onMaintenanceDb(config, (admin) => admin.raw(`drop database if exists ${name} with (force)`));
  });
  try {
    await migrateLatest(db);
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  return {
    name,
    db,
    clientConfig: {
      host: config.database.host,
      port: config.database.port,
      database: name,
      user: config.database.user,
      password: config.secrets.databasePassword,
      application_name: 'liandong-bench-copy',
    },
    drop,
  };
}
