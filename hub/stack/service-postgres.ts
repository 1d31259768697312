import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../../lib/config';
import { StackError } from '../../lib/errors';
import { run, spawnDetached } from './process';
import type { Service, StackPaths } from './service';
import { createDataDir, RunAs, runAsFor, serviceDataDir } from './service-user';
import { aptInstall, findPostgres, isRoot, PostgresBinaries } from './system';
import { STACK_VERSIONS } from './versions';

/** Databases the stack creates: the hub's own and the schema registry's storage. */
export const REGISTRY_DATABASE = 'apicurio';

/**
 * PostgreSQL in a data directory and port of its own, run with the machine's binaries.
 * Listens on 127.0.0.1 only (no Unix socket), trust authentication: it is a local
 * development and test server; production points `database.*` at a managed PostgreSQL.
 */
export class PostgresService implements Service {
  readonly name = 'postgres' as const;
  readonly port: number;
  readonly ports: number[];
  readonly logFile: string;
  readonly startTimeoutMs: number;
  readonly stopSignal = 'SIGINT' as const; // fast shutdown
  readonly stopTimeoutMs = 30_000;
  readonly portKey = 'stack.postgres.port';
  private binaries: PostgresBinaries | null = null;
  private runAs: RunAs | null = null;
  readonly dataDir: string;

  constructor(private readonly config: Config, paths: StackPaths) {
    this.port = config.stack.postgres.port;
    this.ports = [this.port];
    this.logFile = path.join(paths.logDir, 'postgres.log');
    this.startTimeoutMs = config.stack.postgres.start_timeout_s * 1000;
    // Where the data lives depends only on whether an unprivileged user could reach the stack
    // folder; which user runs the server is decided in prepare(), after any package install.
    this.dataDir = serviceDataDir(paths.dir, 'postgres');
  }

  get marker(): string {
    return this.dataDir;
  }

  async prepare(): Promise<void> {
    this.binaries = findPostgres(STACK_VERSIONS.postgresMajor, this.config.stack.postgres.bin_dir);
    if (!this.binaries) {
      if (!isRoot()) {
        throw new StackError(
          'postgres',
          'BINARIES_MISSING',
          `PostgreSQL ${STACK_VERSIONS.postgresMajor}+ server binaries not found: install Debian package postgresql (sudo apt-get install postgresql), or set stack.postgres.bin_dir`,
        );
      }
      aptInstall('postgres', ['postgresql']);
      this.binaries = findPostgres(STACK_VERSIONS.postgresMajor, this.config.stack.postgres.bin_dir);
      if (!this.binaries) throw new StackError('postgres', 'BINARIES_MISSING', 'installed Debian package postgresql but found no server binaries');
    }
    // PostgreSQL refuses to run as root: the `postgres` account, or a created `liandong` one.
    this.runAs = runAsFor('postgres', this.dataDir, ['postgres']);
    if (fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) return;
    createDataDir(this.dataDir, this.runAs);
    const init = run(
      path.join(this.binaries.binDir, 'initdb'),
      ['-D', this.dataDir, '-U', this.config.database.user, '--auth=trust', '--encoding=UTF8', '--no-locale'],
      { uid: this.runAs?.uid, gid: this.runAs?.gid, cwd: this.dataDir, env: { ...process.env, HOME: this.dataDir } },
    );
    fs.appendFileSync(this.logFile, init.stdout + init.stderr);
    if (init.status !== 0) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      throw new StackError('postgres', 'INIT_FAILED', `initdb failed (exit ${init.status})`, (init.stderr || init.stdout).trim().slice(-3000));
    }
  }

  launch(): number {
    if (!this.binaries) throw new Error('prepare() must run before launch()');
    return spawnDetached({
      command: path.join(this.binaries.binDir, 'postgres'),
      args: [
        '-D', this.dataDir,
        '-p', String(this.port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=200',
        '-c', 'shared_buffers=256MB',
        '-c', 'logging_collector=off',
      ],
      logFile: this.logFile,
      cwd: this.dataDir,
      uid: this.runAs?.uid,
      gid: this.runAs?.gid,
      env: { ...process.env, HOME: this.dataDir },
    });
  }

  async probe(): Promise<boolean> {
    return withClient(this.config, 'postgres', async (client) => {
      await client.query('select 1');
      return true;
    });
  }

  async afterReady(): Promise<void> {
    await withClient(this.config, 'postgres', async (client) => {
      for (const db of [this.config.database.database, REGISTRY_DATABASE]) {
        const exists = await client.query('select 1 from pg_database where datname = $1', [db]);
        if (exists.rowCount === 0) await client.query(`create database "${db.replace(/"/g, '""')}"`);
      }
    });
  }

  version(): string {
    this.binaries ??= findPostgres(STACK_VERSIONS.postgresMajor, this.config.stack.postgres.bin_dir);
    return this.binaries ? `PostgreSQL ${this.binaries.major} (${this.binaries.binDir})` : 'PostgreSQL (server binaries not installed)';
  }
}

async function withClient<T>(config: Config, database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    host: '127.0.0.1',
    port: config.stack.postgres.port,
    user: config.database.user,
    database,
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
