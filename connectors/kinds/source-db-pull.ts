import knex, { Knex } from 'knex';
import pg from 'pg';
import { z } from 'zod';
import { SourceError, isRetriableSqlState } from '../../lib/errors';
import type { ConnectorContext, ConnectorKind } from '../contract';
import type { Watermark } from '../keyset';

/**
 * `db-pull`: a table (or view) of an agency's PostgreSQL or MySQL/MariaDB database, read in
 * keyset order of (updated_at, id) from the watermark on, a batch at a time. Timestamps are
 * read as the text the database holds, so the watermark compares exactly in SQL.
 */
const DbPullConfig = z
  .object({
    client: z.enum(['pg', 'mysql2']),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535),
    database: z.string(),
    user: z.string(),
    /** Environment variable holding the password. */
    password_env: z.string().meta({ secret: true, description: 'name of the environment variable holding the password' }).optional(),
    table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'a table or view name'),
    updated_at_column: z.string().default('updated_at'),
    id_column: z.string().default('id'),
    batch_size: z.number().int().min(1).max(50_000).default(1000),
  })
  .strict();
export type DbPullConfig = z.infer<typeof DbPullConfig>;

// node-postgres: date (1082), timestamp (1114), timestamptz (1184) and bigint (20) as text, like
// mysql2's dateStrings and bigNumberStrings: the watermark must compare exactly in SQL.
const TEXT_OIDS = new Set([20, 1082, 1114, 1184]);
const PG_TEXT_TIMESTAMPS = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (TEXT_OIDS.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format)),
};

function connect(config: DbPullConfig, ctx: ConnectorContext): Knex {
  const password = config.password_env ? ctx.secret(config.password_env) : undefined;
  const connection =
    config.client === 'pg'
      ? { host: config.host, port: config.port, database: config.database, user: config.user, password, types: PG_TEXT_TIMESTAMPS }
      : { host: config.host, port: config.port, database: config.database, user: config.user, password, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, charset: 'utf8mb4' };
  return knex({ client: config.client, connection, pool: { min: 0, max: 1 } });
}

function sourceError(err: unknown, config: DbPullConfig): SourceError {
  const code = (err as { code?: string }).code;
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST'].includes(code ?? '');
  const lostConnection = code === undefined && /connection (terminated|ended)|timeout/i.test((err as Error).message);
  const retriable = network || lostConnection || (config.client === 'pg' ? isRetriableSqlState(code) : ['ER_LOCK_DEADLOCK', 'ER_CON_COUNT_ERROR', 'ER_LOCK_WAIT_TIMEOUT'].includes(code ?? ''));
  return new SourceError(`${config.client}://${config.host}:${config.port}/${config.database} ${config.table}: ${(err as Error).message}`, undefined, { retriable, cause: err });
}

export const dbPull: ConnectorKind<DbPullConfig> = {
  kind: 'db-pull',
  description: 'a PostgreSQL or MySQL/MariaDB table, incremental by keyset (updated_at, id)',
  config: DbPullConfig,

  async check(config, ctx) {
    const db = connect(config, ctx);
    try {
      const u = config.updated_at_column;
      const rows = await db(config.table).select(u).orderBy(u, 'desc').limit(1);
      return rows.length === 0 ? `${config.table} is readable and empty` : `${config.table} is readable; newest ${u} ${String(rows[0][u])}`;
    } catch (err) {
      throw sourceError(err, config);
    } finally {
      await db.destroy();
    }
  },

  async *read(config, state, ctx) {
    let watermark = (state?.watermark as Watermark | undefined) ?? null;
    const db = connect(config, ctx);
    const u = config.updated_at_column;
    const id = config.id_column;
    try {
      while (!ctx.signal.aborted) {
        // Rows without an updated_at can never be placed after a watermark: they are not read.
        const query = db(config.table).select('*').whereNotNull(u).orderBy([u, id]).limit(config.batch_size);
        if (watermark) {
          const w = watermark;
          query.where((q) => q.where(u, '>', w.updated_at).orWhere((q2) => q2.where(u, '=', w.updated_at).andWhere(id, '>', w.id)));
        }
        let rows: Array<Record<string, unknown>>;
        try {
          rows = await query;
        } catch (err) {
          throw sourceError(err, config);
        }
        for (const row of rows) {
          // The database compares the watermark, so it is kept as the text the database gave.
          const w: Watermark = { updated_at: String(row[u]), at: Number.NaN, id: String(row[id]) };
          if (row[id] === null || row[id] === undefined) yield { type: 'reject', what: `row at ${w.updated_at}`, reason: `no ${id}` };
          else yield { type: 'record', key: w.id, payload: row };
          watermark = w;
        }
        yield { type: 'state', state: { watermark } };
        if (rows.length < config.batch_size) return;
      }
    } finally {
      await db.destroy();
    }
  },
};
