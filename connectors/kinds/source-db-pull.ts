import knex, { Knex } from 'knex';
import pg from 'pg';
import { z } from 'zod';
import { SourceError, isRetriableSqlState } from '../../lib/errors';
import type { ConnectorContext, ConnectorKind } from '../contract';
import { Watermark, watermarkOf } from '../keyset';

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

// node-postgres: timestamp (1114) and timestamptz (1184) as text, like mysql2's dateStrings.
const PG_TEXT_TIMESTAMPS = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 1114 || oid === 1184 ? (v: string) => v : pg.types.getTypeParser(oid, format)),
};

function connect(config: DbPullConfig, ctx: ConnectorContext): Knex {
  const password = config.password_env ? ctx.secret(config.password_env) : undefined;
  const connection =
    config.client === 'pg'
      ? { host: config.host, port: config.port, database: config.database, user: config.user, password, types: PG_TEXT_TIMESTAMPS }
      : { host: config.host, port: config.port, database: config.database, user: config.user, password, dateStrings: true, charset: 'utf8mb4' };
  return knex({ client: config.client, connection, pool: { min: 0, max: 1 } });
}

function sourceError(err: unknown, config: DbPullConfig): SourceError {
  const code = (err as { code?: string }).code;
  const retriable = config.client === 'pg' ? isRetriableSqlState(code) || code === 'ECONNREFUSED' : ['ECONNREFUSED', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_LOCK_DEADLOCK', 'ER_CON_COUNT_ERROR'].includes(code ?? '');
  return new SourceError(`${config.client}://${config.host}:${config.port}/${config.database} ${config.table}: ${(err as Error).message}`, undefined, { retriable, cause: err });
}

export const dbPull: ConnectorKind<DbPullConfig> = {
  kind: 'db-pull',
  description: 'a PostgreSQL or MySQL/MariaDB table, incremental by keyset (updated_at, id)',
  config: DbPullConfig,

  async check(config, ctx) {
    const db = connect(config, ctx);
    try {
      const [{ n }] = await db(config.table).count<{ n: string | number }[]>('* as n');
      return `${config.table} has ${n} row(s)`;
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
        const query = db(config.table).select('*').orderBy([u, id]).limit(config.batch_size);
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
          const w = watermarkOf(row[u], row[id]);
          if (!w) {
            yield { type: 'reject', what: `row ${JSON.stringify(row[id] ?? null)}`, reason: `no ${u} or ${id}` };
            continue;
          }
          yield { type: 'record', key: w.id, payload: row };
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
