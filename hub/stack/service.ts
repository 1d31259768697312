import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';

export type ServiceName = 'postgres' | 'kafka' | 'registry' | 'mariadb';

/** Where one stack instance keeps its files. */
export interface StackPaths {
  dir: string;
  cacheDir: string;
  logDir: string;
  runDir: string;
}

export function stackPaths(config: Config): StackPaths {
  const dir = config.stack.dir;
  return { dir, cacheDir: config.stack.cache_dir, logDir: path.join(dir, 'logs'), runDir: path.join(dir, 'run') };
}

export function ensureDirs(paths: StackPaths): void {
  for (const d of [paths.dir, paths.cacheDir, paths.logDir, paths.runDir]) fs.mkdirSync(d, { recursive: true });
}

/**
 * One service of the local stack. The stack orchestrator owns pid files, port checks,
 * health waits and shutdown; a service only knows how to prepare, launch and probe itself.
 */
export interface Service {
  readonly name: ServiceName;
  /** The port clients use. */
  readonly port: number;
  /** Every port the service binds (checked free before it starts). */
  readonly ports: number[];
  readonly logFile: string;
  /** Text that appears in the command line of this instance's process (guards against pid reuse). */
  readonly marker: string;
  readonly startTimeoutMs: number;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** Config key a user changes to move the port. */
  readonly portKey: string;
  /** Downloads and one-time initialisation; idempotent. */
  prepare(): Promise<void>;
  /** Starts the process; returns its pid (also its process-group id). */
  launch(): number;
  /** One health probe; true when clients can use the service. */
  probe(): Promise<boolean>;
  /** Runs once after the service first answers healthy (e.g. create databases). */
  afterReady?(): Promise<void>;
  /** A one-line description of the version actually running. */
  version(): string;
}

export interface PidRecord {
  pid: number;
  port: number;
  marker: string;
  startedAt: string;
}

export function pidFile(paths: StackPaths, name: ServiceName): string {
  return path.join(paths.runDir, `${name}.pid`);
}

export function readPid(paths: StackPaths, name: ServiceName): PidRecord | null {
  try {
    return JSON.parse(fs.readFileSync(pidFile(paths, name), 'utf8')) as PidRecord;
  } catch {
    return null;
  }
}

export function writePid(paths: StackPaths, name: ServiceName, record: PidRecord): void {
  fs.writeFileSync(pidFile(paths, name), JSON.stringify(record));
}

export function removePid(paths: StackPaths, name: ServiceName): void {
  fs.rmSync(pidFile(paths, name), { force: true });
}
