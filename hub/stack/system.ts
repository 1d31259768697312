import fs from 'node:fs';
import path from 'node:path';
import { StackError } from '../../lib/errors';
import { run } from './process';

/**
 * Finds (and, when we run as root, installs from Debian's packages) the programs the local
 * stack needs: a Java runtime, Maven, and PostgreSQL's and MariaDB's server binaries.
 */

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

let aptUpdated = false;

export interface AptOptions {
  /**
   * Keep the packages' maintainer scripts from starting system services (e.g. a MariaDB on
   * 3306): a `policy-rc.d` that denies every start is put in place for the install when the
   * machine has none. A machine's own policy-rc.d is left as it is.
   */
  denyServiceStarts?: boolean;
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const DENY_STARTS = '#!/bin/sh\n# Written by `liandong stack up` for the length of one apt-get install: start no service.\nexit 101\n';

/** Installs Debian packages; only as root. */
export function aptInstall(service: string, packages: string[], options: AptOptions = {}): void {
  if (!isRoot()) {
    throw new StackError(service, 'MISSING_PACKAGE', `needs Debian package(s) ${packages.join(' ')}: run \`sudo apt-get install ${packages.join(' ')}\``);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    const update = run('apt-get', ['update', '-qq'], { env });
    if (update.status !== 0) throw new StackError(service, 'APT_FAILED', `apt-get update failed: ${update.stderr.trim().slice(-2000)}`);
    aptUpdated = true;
  }
  const ownPolicy = options.denyServiceStarts === true && !fs.existsSync(POLICY_RC_D);
  if (ownPolicy) fs.writeFileSync(POLICY_RC_D, DENY_STARTS, { mode: 0o755 });
  try {
    const install = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
    if (install.status !== 0) {
      throw new StackError(service, 'APT_FAILED', `apt-get install ${packages.join(' ')} failed: ${install.stderr.trim().slice(-2000)}`);
    }
  } finally {
    if (ownPolicy && readText(POLICY_RC_D) === DENY_STARTS) fs.rmSync(POLICY_RC_D, { force: true });
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The `java` to run services with: $JAVA_HOME/bin/java, else the one on PATH. */
export function findJava(service: string): string {
  const candidates = [process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : null, 'java'].filter(
    (c): c is string => c !== null,
  );
  for (const java of candidates) {
    const probe = run(java, ['-version']);
    if (probe.status === 0) {
      const major = javaMajor(probe.stderr + probe.stdout);
      if (major !== null && major < 17) {
        throw new StackError(service, 'JAVA_TOO_OLD', `${java} is Java ${major}; Kafka 4 and Apicurio 3 need Java 17 or newer`);
      }
      return java;
    }
  }
  if (isRoot()) {
    // Debian 12 has 17; later releases dropped it for newer ones, which Kafka and Apicurio 3.0 also run on.
    try {
      aptInstall(service, ['openjdk-17-jre-headless']);
    } catch {
      aptInstall(service, ['default-jre-headless']);
    }
    return 'java';
  }
  throw new StackError(service, 'JAVA_MISSING', 'Java 17+ not found (set JAVA_HOME or install openjdk-17-jre-headless)');
}

export function javaMajor(versionText: string): number | null {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionText);
  if (!match) return null;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

export function ensureMaven(service: string): string {
  if (run('mvn', ['-v']).status === 0) return 'mvn';
  if (isRoot()) {
    aptInstall(service, ['maven']);
    return 'mvn';
  }
  throw new StackError(service, 'MAVEN_MISSING', 'Maven (mvn) is needed to fetch the service from Maven Central: install Debian package maven');
}

export interface PostgresBinaries {
  binDir: string;
  major: number;
}

/** PostgreSQL ≥ `minMajor` server binaries: the configured dir, Debian's newest, or PATH. */
export function findPostgres(minMajor: number, configured?: string): PostgresBinaries | null {
  const dirs: string[] = [];
  if (configured) dirs.push(configured);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    for (const v of fs.readdirSync(debian).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))) {
      dirs.push(path.join(debian, v, 'bin'));
    }
  }
  const pgConfig = run('pg_config', ['--bindir']);
  if (pgConfig.status === 0) dirs.push(pgConfig.stdout.trim());
  for (const dir of dirs) {
    const postgres = path.join(dir, 'postgres');
    if (!fs.existsSync(postgres) || !fs.existsSync(path.join(dir, 'initdb'))) continue;
    const version = run(postgres, ['--version']);
    const match = /(\d+)(?:\.\d+)?/.exec(version.stdout);
    if (version.status === 0 && match && Number(match[1]) >= minMajor) return { binDir: dir, major: Number(match[1]) };
    if (configured && dir === configured) return null;
  }
  return null;
}

export interface MariadbBinaries {
  /** The server: `mariadbd`, or `mysqld` on older packages. */
  server: string;
  /** The data directory initialiser: `mariadb-install-db` or `mysql_install_db`. */
  installDb: string;
}

/** Debian's MariaDB server binaries (package mariadb-server), or null when not installed. */
export function findMariadb(): MariadbBinaries | null {
  const server = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((f) => fs.existsSync(f));
  const installDb = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db', '/usr/sbin/mariadb-install-db'].find((f) => fs.existsSync(f));
  return server && installDb ? { server, installDb } : null;
}
