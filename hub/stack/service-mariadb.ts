import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection, escape, escapeId } from 'mysql2/promise';
import type { Config } from '../../lib/config';
import { StackError } from '../../lib/errors';
import { isAlive, pidsNamed, run, sleep, spawnDetached } from './process';
import type { Service, StackPaths } from './service';
import { createDataDir, RunAs, runAsFor, serviceDataDir } from './service-user';
import { aptInstall, findMariadb, isRoot, MariadbBinaries } from './system';

/** The database the stack's MariaDB serves to clients, standing in for an agency's own. */
export const MARIADB_DATABASE = 'agency';
export const MARIADB_USER = 'liandong';
/** For the local development and test server only; set LIANDONG_MARIADB_PASSWORD for anything else. */
export const MARIADB_DEV_PASSWORD = 'liandong-dev';

/** How a client (e.g. knex with the `mysql2` driver) reaches the stack's MariaDB. */
export interface MariadbConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/**
 * Connection settings for the stack's MariaDB, e.g.
 * `knex({ client: 'mysql2', connection: { ...mariadbConnection(config), timezone: 'Z' } })`.
 */
export function mariadbConnection(config: Config): MariadbConnection {
  return {
    host: '127.0.0.1',
    port: config.stack.mariadb.port,
    user: MARIADB_USER,
    password: config.secrets.mariadbPassword ?? MARIADB_DEV_PASSWORD,
    database: MARIADB_DATABASE,
  };
}

/** Programs a MariaDB package runs as its system server (and the wrapper that restarts it). */
const WRAPPERS = ['mysqld_safe', 'mariadbd-safe'];
const SERVERS = ['mariadbd', 'mysqld'];

/**
 * MariaDB from Debian's packages, in a data directory, port, socket and pid file of its own,
 * so it never meets a system MariaDB on 3306 or /run/mysqld. Listens on 127.0.0.1 only.
 * Root authenticates only through the Unix socket (as the machine's root); clients use the
 * `liandong` user with a password, which an init file sets on every start, so a changed
 * LIANDONG_MARIADB_PASSWORD takes effect at the next start.
 */
export class MariadbService implements Service {
  readonly name = 'mariadb' as const;
  readonly port: number;
  readonly ports: number[];
  readonly logFile: string;
  readonly startTimeoutMs: number;
  readonly stopSignal = 'SIGTERM' as const; // a clean shutdown
  readonly stopTimeoutMs = 60_000;
  readonly portKey = 'stack.mariadb.port';
  readonly dataDir: string;
  /** In the data directory, unless that path is too long for a socket address. */
  readonly socket: string;
  private binaries: MariadbBinaries | null = null;
  private runAs: RunAs | null = null;
  private versionText: string | null = null;

  constructor(private readonly config: Config, paths: StackPaths) {
    this.port = config.stack.mariadb.port;
    this.ports = [this.port];
    this.logFile = path.join(paths.logDir, 'mariadb.log');
    this.startTimeoutMs = config.stack.mariadb.start_timeout_s * 1000;
    this.dataDir = serviceDataDir(paths.dir, 'mariadb');
    const socket = path.join(this.dataDir, 'mariadb.sock');
    // sun_path holds 108 bytes; a deep stack folder gets a socket named after it in /tmp.
    this.socket = Buffer.byteLength(socket) < 100 ? socket : path.join(os.tmpdir(), `liandong-mariadb-${crypto.createHash('sha256').update(this.dataDir).digest('hex').slice(0, 12)}.sock`);
  }

  get marker(): string {
    return this.dataDir;
  }

  private get initFile(): string {
    return path.join(this.dataDir, 'liandong-init.sql');
  }

  async prepare(): Promise<void> {
    this.binaries = findMariadb();
    if (!this.binaries) {
      if (!isRoot()) {
        throw new StackError('mariadb', 'BINARIES_MISSING', 'MariaDB server binaries not found: install Debian package mariadb-server (sudo apt-get install mariadb-server), or set stack.mariadb.enabled to false');
      }
      await installServerPackage();
      this.binaries = findMariadb();
      if (!this.binaries) throw new StackError('mariadb', 'BINARIES_MISSING', 'installed Debian package mariadb-server but found no mariadbd or mariadb-install-db');
    }
    // mariadbd refuses to run as root without --user: the package's `mysql` account, or `liandong`.
    this.runAs = runAsFor('mariadb', this.dataDir, ['mysql']);
    if (!fs.existsSync(path.join(this.dataDir, 'mysql'))) this.initialise(this.binaries);
    this.writeInitFile();
  }

  private initialise(binaries: MariadbBinaries): void {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    createDataDir(this.dataDir, this.runAs);
    // Run as the service user itself, so no --user (which would chown files outside the data dir).
    const init = run(
      binaries.installDb,
      [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        // No password-less root over TCP: root logs in through the socket only, as whoever ran `stack up`.
        '--auth-root-authentication-method=socket',
        `--auth-root-socket-user=${os.userInfo().username}`,
        '--skip-test-db',
        '--skip-name-resolve',
      ],
      { uid: this.runAs?.uid, gid: this.runAs?.gid, cwd: this.dataDir, env: { ...process.env, HOME: this.dataDir } },
    );
    fs.appendFileSync(this.logFile, init.stdout + init.stderr);
    if (init.status !== 0 || !fs.existsSync(path.join(this.dataDir, 'mysql'))) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      throw new StackError('mariadb', 'INIT_FAILED', `${path.basename(binaries.installDb)} failed (exit ${init.status})`, (init.stderr || init.stdout).trim().slice(-3000));
    }
  }

  /** Statements the server runs at start-up, before it accepts clients; one per line, as --init-file wants. */
  private writeInitFile(): void {
    const { user, password, database } = mariadbConnection(this.config);
    const pw = escape(password);
    const db = escapeId(database);
    const accounts = ['127.0.0.1', 'localhost'].map((host) => `${escape(user)}@${escape(host)}`);
    const sql = [
      `CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
      ...accounts.flatMap((account) => [`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${pw};`, `ALTER USER ${account} IDENTIFIED BY ${pw};`]),
      `GRANT ALL PRIVILEGES ON ${db}.* TO ${accounts.join(', ')};`,
      '',
    ].join('\n');
    fs.writeFileSync(this.initFile, sql, { mode: 0o600 });
    if (this.runAs) fs.chownSync(this.initFile, this.runAs.uid, this.runAs.gid);
  }

  launch(): number {
    if (!this.binaries) throw new Error('prepare() must run before launch()');
    return spawnDetached({
      command: this.binaries.server,
      args: [
        '--no-defaults', // never the system's /etc/mysql: its socket, port and data directory are not ours
        `--datadir=${this.dataDir}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${this.socket}`,
        `--pid-file=${path.join(this.dataDir, 'mariadbd.pid')}`,
        `--init-file=${this.initFile}`,
        '--skip-name-resolve',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_unicode_ci',
        '--default-time-zone=+00:00',
        '--max-connections=200',
        '--innodb-buffer-pool-size=128M',
      ],
      logFile: this.logFile,
      cwd: this.dataDir,
      uid: this.runAs?.uid,
      gid: this.runAs?.gid,
      env: { ...process.env, HOME: this.dataDir },
    });
  }

  async probe(): Promise<boolean> {
    const connection = await createConnection({ ...mariadbConnection(this.config), connectTimeout: 2000 });
    connection.on('error', () => undefined);
    try {
      await connection.query('select 1');
      return true;
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  /** The password has been applied: it need not stay on disk. */
  async afterReady(): Promise<void> {
    fs.rmSync(this.initFile, { force: true });
  }

  version(): string {
    this.binaries ??= findMariadb();
    if (!this.binaries) return 'MariaDB (server binaries not installed)';
    if (this.versionText === null) {
      const out = run(this.binaries.server, ['--no-defaults', '--version']).stdout;
      const match = /Ver\s+(\d+\.\d+\.\d+)/.exec(out);
      this.versionText = `MariaDB ${match ? match[1] : '(unknown version)'} (${this.binaries.server})`;
    }
    return this.versionText;
  }
}

/**
 * Installs Debian's mariadb-server. Its maintainer scripts start a system server on 3306 where
 * they may: starts are denied for the install, and a server that started anyway (a machine
 * whose own policy allows it) is stopped again, so only the stack's instance runs.
 */
async function installServerPackage(): Promise<void> {
  const before = new Set(pidsNamed([...WRAPPERS, ...SERVERS]));
  aptInstall('mariadb', ['mariadb-server'], { denyServiceStarts: true });
  const started = () => pidsNamed([...WRAPPERS, ...SERVERS]).filter((pid) => !before.has(pid));
  if (started().length === 0) return;
  if (fs.existsSync('/run/systemd/system')) run('systemctl', ['stop', 'mariadb.service']);
  // The wrapper first, or it restarts the server it sees stop.
  await terminate(pidsNamed(WRAPPERS).filter((pid) => !before.has(pid)));
  await terminate(started());
  if (started().length > 0) {
    throw new StackError('mariadb', 'SYSTEM_SERVER_RUNNING', `installing mariadb-server started a system MariaDB (pid ${started().join(', ')}) that could not be stopped`);
  }
}

async function terminate(pids: number[], timeoutMs = 60_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pids.some((pid) => isAlive(pid)) && Date.now() < deadline) await sleep(200);
  if (pids.some((pid) => isAlive(pid))) signal('SIGKILL');
}
