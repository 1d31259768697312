import type { Config } from '../../lib/config';
import { StackError } from '../../lib/errors';
import fs from 'node:fs';
import path from 'node:path';
import { commandLine, groupRssKb, isAlive, portInUse, sleep, stopGroup, tailFile, waitFor } from './process';
import { ensureDirs, readPid, removePid, Service, ServiceName, stackPaths, StackPaths, writePid } from './service';
import { KafkaService } from './service-kafka';
import { MariadbService } from './service-mariadb';
import { PostgresService } from './service-postgres';
import { RegistryService } from './service-registry';

/**
 * The local stack: PostgreSQL, Kafka, the schema registry and a MariaDB standing in for an
 * agency's database, as plain processes, started by one idempotent `up` that waits until each
 * is healthy, and stopped by `down` with no process left behind.
 */
export interface Stack {
  paths: StackPaths;
  postgres: PostgresService;
  kafka: KafkaService;
  registry: RegistryService;
  mariadb: MariadbService;
  /** The enabled services, in start order; `down` goes the other way. */
  services: Service[];
}

export function createStack(config: Config): Stack {
  const paths = stackPaths(config);
  const postgres = new PostgresService(config, paths);
  const kafka = new KafkaService(config, paths);
  const registry = new RegistryService(config, paths);
  const mariadb = new MariadbService(config, paths);
  const services: Service[] = [postgres, kafka, registry];
  if (config.stack.mariadb.enabled) services.push(mariadb);
  return { paths, postgres, kafka, registry, mariadb, services };
}

export type Health = 'healthy' | 'unhealthy' | 'stopped';

export interface ServiceStatus {
  service: ServiceName;
  port: number;
  pid: number | null;
  health: Health;
  rssMb: number | null;
  version: string;
  log: string;
}

type Reporter = (line: string) => void;

/** The pid of this instance's running process for a service, or null. */
export function runningPid(stack: Stack, service: Service): number | null {
  const record = readPid(stack.paths, service.name);
  if (!record || !isAlive(record.pid)) return null;
  // A recycled pid that now belongs to another program is not our service.
  return commandLine(record.pid).includes(service.marker) ? record.pid : null;
}

async function probe(service: Service): Promise<boolean> {
  return service.probe().catch(() => false);
}

export async function status(stack: Stack): Promise<ServiceStatus[]> {
  return Promise.all(
    stack.services.map(async (service) => {
      const pid = runningPid(stack, service);
      const health: Health = pid === null ? 'stopped' : (await probe(service)) ? 'healthy' : 'unhealthy';
      return {
        service: service.name,
        port: service.port,
        pid,
        health,
        rssMb: pid === null ? null : Math.round(groupRssKb(pid) / 1024),
        version: service.version(),
        log: service.logFile,
      };
    }),
  );
}

/**
 * Brings every service up; a running, healthy service is left alone, so a second `up` is a
 * no-op. Ports are checked before anything starts, so a taken port fails fast, by name.
 */
export async function up(stack: Stack, report: Reporter = () => undefined): Promise<ServiceStatus[]> {
  ensureDirs(stack.paths);
  const release = await lock(stack, report);
  try {
    return await upLocked(stack, report);
  } finally {
    release();
  }
}

/**
 * One `up` at a time per stack folder (a test run's global setup and a user may race): a
 * second one waits, then finds the services running. A lock left by a dead process is taken over.
 */
async function lock(stack: Stack, report: Reporter): Promise<() => void> {
  const file = path.join(stack.paths.runDir, 'up.lock');
  const deadline = Date.now() + 15 * 60_000;
  let told = false;
  while (true) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(file, 'utf8').trim());
    if (!isAlive(holder)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new StackError('stack', 'LOCKED', `another \`stack up\` (pid ${holder}) has held ${file} for 15 minutes`);
    if (!told) report(`waiting for another \`stack up\` (pid ${holder}) to finish`);
    told = true;
    await sleep(500);
  }
}

async function upLocked(stack: Stack, report: Reporter): Promise<ServiceStatus[]> {
  const toStart: Service[] = [];
  for (const service of stack.services) {
    if (runningPid(stack, service) === null) {
      removePid(stack.paths, service.name);
      toStart.push(service);
    }
  }
  for (const service of toStart) {
    for (const port of service.ports) {
      if (await portInUse(port)) {
        throw new StackError(
          service.name,
          'PORT_TAKEN',
          `port ${port} on 127.0.0.1 is already in use by another process; stop it or choose another port (${service.portKey} in liandong.yaml, or LIANDONG__${service.portKey.toUpperCase().replace(/\./g, '__')})`,
        );
      }
    }
  }
  const starting = new Set(toStart);
  const bringUp = async (service: Service): Promise<void> => {
    if (!starting.has(service)) {
      await waitHealthy(stack, service, runningPid(stack, service)!, report);
      return;
    }
    const t0 = Date.now();
    await service.prepare();
    const pid = service.launch();
    writePid(stack.paths, service.name, { pid, port: service.port, marker: service.marker, startedAt: new Date().toISOString() });
    await waitHealthy(stack, service, pid, report);
    await service.afterReady?.();
    report(`${service.name}: started on 127.0.0.1:${service.port} (pid ${pid}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  };
  // Kafka and MariaDB need nothing; the registry stores its schemas in PostgreSQL. Every chain
  // runs to its end before a failure is reported, so nothing is left starting unseen in the background.
  const chains = [bringUp(stack.kafka), bringUp(stack.postgres).then(() => bringUp(stack.registry))];
  if (stack.services.includes(stack.mariadb)) chains.push(bringUp(stack.mariadb));
  const results = await Promise.allSettled(chains);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (toStart.length === 0) report('stack already running');
  return status(stack);
}

async function waitHealthy(stack: Stack, service: Service, pid: number, report: Reporter): Promise<void> {
  if (await probe(service)) return;
  report(`${service.name}: waiting for it to become healthy (up to ${service.startTimeoutMs / 1000}s)`);
  const outcome = await waitFor(() => service.probe(), service.startTimeoutMs, () => !isAlive(pid));
  if (outcome === 'ready') return;
  const tail = tailFile(service.logFile, 40);
  if (outcome === 'died') {
    removePid(stack.paths, service.name);
    throw new StackError(service.name, 'EXITED', `exited during start-up (log: ${service.logFile})`, tail);
  }
  await stopGroup(pid, service.stopSignal, service.stopTimeoutMs);
  removePid(stack.paths, service.name);
  throw new StackError(service.name, 'START_TIMEOUT', `not healthy after ${service.startTimeoutMs / 1000}s; stopped it (log: ${service.logFile})`, tail);
}

/**
 * Stops every service (MariaDB, the registry, Kafka, then PostgreSQL) and waits until no process
 * is left; a MariaDB disabled in the configuration since it was started is stopped too.
 */
export async function down(stack: Stack, report: Reporter = () => undefined): Promise<void> {
  const all = stack.services.includes(stack.mariadb) ? stack.services : [...stack.services, stack.mariadb];
  for (const service of [...all].reverse()) {
    const pid = runningPid(stack, service);
    if (pid === null) {
      removePid(stack.paths, service.name);
      continue;
    }
    const killed = await stopGroup(pid, service.stopSignal, service.stopTimeoutMs);
    removePid(stack.paths, service.name);
    report(`${service.name}: stopped (pid ${pid})${killed ? ' — did not exit in time, killed' : ''}`);
  }
}
