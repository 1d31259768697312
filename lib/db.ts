import knex, { Knex } from 'knex';
import type { Config } from './config';

/** A knex instance over a pg pool for the configured database. */
export function createDb(config: Config, options: { database?: string; user?: string; poolMax?: number } = {}): Knex {
  return knex({
    client: 'pg',
    connection: {
      host: config.database.host,
      port: config.database.port,
      database: options.database ?? config.database.database,
      user: options.user ?? config.database.user,
      password: config.secrets.databasePassword,
      application_name: 'liandong',
      connectionTimeoutMillis: 5000,
    },
    pool: { min: 0, max: options.poolMax ?? config.database.pool_max },
  });
}

/** Readiness: the server answers; returns its version string. */
export async function dbReady(db: Knex): Promise<{ version: string }> {
  const result = await db.raw<{ rows: Array<{ version: string }> }>("select current_setting('server_version') as version");
  return { version: result.rows[0].version };
}
