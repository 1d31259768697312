import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { ensureApicurio } from './downloads';
import { spawnDetached } from './process';
import { REGISTRY_DATABASE } from './service-postgres';
import type { Service, StackPaths } from './service';
import { findJava } from './system';
import { STACK_VERSIONS } from './versions';

/**
 * Apicurio Registry with its Confluent-compatible API at /apis/ccompat/v7, storing its
 * schemas in the stack's PostgreSQL (database `apicurio`) so that schema ids survive a
 * restart — the ids are written into every Kafka message. Canonical-hash mode is on, so an
 * identical schema, however formatted, maps to its existing id.
 */
export class RegistryService implements Service {
  readonly name = 'registry' as const;
  readonly port: number;
  readonly ports: number[];
  readonly logFile: string;
  readonly startTimeoutMs: number;
  readonly stopSignal = 'SIGTERM' as const;
  readonly stopTimeoutMs = 30_000;
  readonly portKey = 'stack.registry.port';
  private readonly home: string;
  private runnerJar: string | null = null;
  private java: string | null = null;

  constructor(private readonly config: Config, private readonly paths: StackPaths) {
    this.port = config.stack.registry.port;
    this.ports = [this.port];
    this.logFile = path.join(paths.logDir, 'registry.log');
    this.startTimeoutMs = config.stack.registry.start_timeout_s * 1000;
    this.home = path.join(paths.dir, 'registry');
  }

  get marker(): string {
    return `-Dliandong.stack=${this.home}`;
  }

  async prepare(): Promise<void> {
    this.java = findJava('registry');
    const dist = await ensureApicurio({ cacheDir: this.paths.cacheDir, logFile: path.join(this.paths.logDir, 'downloads.log') });
    this.runnerJar = dist.runnerJar;
    fs.mkdirSync(this.home, { recursive: true });
  }

  launch(): number {
    if (!this.java || !this.runnerJar) throw new Error('prepare() must run before launch()');
    const heap = this.config.stack.registry.heap_mb;
    const db = this.config.stack.postgres.port;
    return spawnDetached({
      command: this.java,
      args: [
        `-Xmx${heap}m`, '-XX:+UseSerialGC', '-Djava.awt.headless=true',
        this.marker,
        `-Dquarkus.http.port=${this.port}`,
        '-Dquarkus.http.host=127.0.0.1',
        '-Dapicurio.storage.kind=sql',
        '-Dapicurio.storage.sql.kind=postgresql',
        `-Dapicurio.datasource.url=jdbc:postgresql://127.0.0.1:${db}/${REGISTRY_DATABASE}`,
        `-Dapicurio.datasource.username=${this.config.database.user}`,
        // The local PostgreSQL trusts loopback connections; the driver still wants a value.
        '-Dapicurio.datasource.password=local',
        '-Dapicurio.ccompat.use-canonical-hash=true',
        '-Dapicurio.ccompat.legacy-id-mode.enabled=false',
        '-jar', this.runnerJar,
      ],
      logFile: this.logFile,
      cwd: this.home,
    });
  }

  async probe(): Promise<boolean> {
    const base = `http://127.0.0.1:${this.port}`;
    const ready = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) });
    if (!ready.ok) return false;
    const subjects = await fetch(`${base}/apis/ccompat/v7/subjects`, { signal: AbortSignal.timeout(2000) });
    return subjects.ok;
  }

  version(): string {
    return `Apicurio Registry ${STACK_VERSIONS.apicurio} (ccompat v7, storage: PostgreSQL)`;
  }
}
