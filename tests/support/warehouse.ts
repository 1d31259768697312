import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../../lib/config';
import { createDb } from '../../lib/db';
import { migrateLatest } from '../../sql/migrate';

/**
 * A PostgreSQL database of a test's own, migrated to the latest schema.
 *
 * The stack's `liandong` database keeps every earlier run's warehouse: the simulators number
 * decisions, cases and tickets the same way in every run and draw parties from the same
 * companies, so in a shared warehouse each run's records link to (and are joined against)
 * every earlier run's. A fresh database holds this run's records only — and whatever other
 * tests produce to the shared canonical topics meanwhile, should the test run a sink.
 *
 * @example
 *   const fresh = await freshDatabase(testConfig(), 'whcrash');
 *   try {
 *     const sink = new WarehouseSink({ config: fresh.config, db: fresh.db, … });
 *     spawn(…, { env: { ...process.env, ...fresh.env } });   // a child process uses it too
 *   } finally {
 *     await fresh.drop();
 *   }
 */
export interface FreshDatabase {
  /** The database's name: lower case letters, digits and underscores. */
  name: string;
  /** A copy of the base configuration whose database.database is this database. */
  config: Config;
  /** A knex pool on it. */
  db: Knex;
  /** The configuration override that points a `liandong` child process at it. */
  env: Record<string, string>;
  /** Closes the pool and drops the database, whoever is still connected. */
  drop(): Promise<void>;
}

/** Prefix of every such database: lets a later run find the ones a killed run left behind. */
const PREFIX = 'it_';
/** A database left by a run that died is dropped by a later run once it is this old. */
const ABANDONED_AFTER_MS = 24 * 3_600_000;

export async function freshDatabase(base: Config, label: string, options: { poolMax?: number } = {}): Promise<FreshDatabase> {
  const stamp = Date.now().toString(36);
  // PostgreSQL keeps 63 bytes of a name: the label gives way, the stamp and random tail stay.
  const name = `${PREFIX}${label.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, 40)}_${stamp}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = createDb(base, { poolMax: 1 });
  try {
    await dropAbandoned(admin);
    await createDatabase(admin, name);
  } finally {
    await admin.destroy();
  }
  const config: Config = { ...base, database: { ...base.database, database: name } };
  const db = createDb(config, { poolMax: options.poolMax ?? 4 });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await db.destroy();
    const again = createDb(base, { poolMax: 1 });
    try {
      // A killed child process may still hold a session: force ends it (PostgreSQL 13+).
      await again.raw('drop database if exists ?? with (force)', [name]);
    } finally {
      await again.destroy();
    }
  };
  try {
    await migrateLatest(db);
  } catch (err) {
    await drop();
    throw err;
  }
  return { name, config, db, env: { LIANDONG__DATABASE__DATABASE: name }, drop };
}

/**
 * CREATE DATABASE copies template1 and refuses (55006, object in use) while another session is
 * connected to it — briefly, e.g. while another run creates its own: try again a few times.
 */
async function createDatabase(admin: Knex, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.raw('create database ??', [name]);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006' || attempt === 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Test databases whose name says they were made more than a day ago: their run is long dead. */
async function dropAbandoned(admin: Knex): Promise<void> {
  const { rows } = await admin.raw<{ rows: Array<{ datname: string }> }>(`select datname from pg_database where starts_with(datname, ?)`, [PREFIX]);
  for (const { datname } of rows) {
    const stamp = /_([0-9a-z]+)_[0-9a-f]{6}$/.exec(datname)?.[1];
    const made = stamp ? parseInt(stamp, 36) : NaN;
    if (Number.isFinite(made) && Date.now() - made > ABANDONED_AFTER_MS) await admin.raw('drop database if exists ?? with (force)', [datname]);
  }
}
