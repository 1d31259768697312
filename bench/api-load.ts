import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import type { Config } from '../lib/config';
import { createBenchDatabase } from './bench-database';
import { HubProcesses } from './child-processes';
import { BenchResult } from './support';

const run = promisify(execFile);
const CLI = path.resolve(__dirname, '../bin/liandong.js');
const say = (line: string) => process.stderr.write(`  ${line}\n`);

interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  status2xx: number;
  non2xx: number;
  status4xx: number;
  status5xx: number;
  errors: number;
  timeouts: number;
  recordsSent: number;
  durationS: number;
}

/**
 * `npm run bench -- api`: the push API under load, end to end. The whole hub runs as a process of
 * its own (`liandong run`: API, normaliser, dead-letter table, warehouse sink) on a database of
 * its own; a second process (bench/api-load-client.ts, autocannon) POSTs batches for
 * BENCH_API_SECONDS (60) at BENCH_API_CONNECTIONS (50) concurrent connections. Then it checks
 * what the issue asks: no 5xx, and every accepted record reached a canonical topic or the DLQ
 * (its receipt fate). It throws when either fails, so the figures printed are of a correct run.
 */
export async function benchApiLoad(config: Config): Promise<BenchResult[]> {
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 60);
  const connections = Number(process.env.BENCH_API_CONNECTIONS ?? 50);
  const perBatch = Number(process.env.BENCH_API_BATCH ?? 20);
  const runId = `bench${Date.now().toString(36)}`;
  const agency = `BENCH-${runId.toUpperCase()}`;
  const database = await createBenchDatabase(config);
  const sourcesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-bench-api-'));
  const doc = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../config/sources/jq-sthj-cases.yaml'), 'utf8')) as Record<string, any>;
  doc.id = `${runId}-sthj`;
  doc.connector.config.agencies = [agency];
  fs.writeFileSync(path.join(sourcesDir, `${doc.id}.yaml`), YAML.stringify(doc));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env: NodeJS.ProcessEnv = {
    LIANDONG__DATABASE__DATABASE: database.name,
    LIANDONG__SOURCES_DIR: sourcesDir,
    LIANDONG__HUB__PORT: String(port),
    // The limit per key is not what this measures: one key carries all 50 connections here.
    LIANDONG__HUB__RATE_LIMIT__PER_SECOND: '1000000',
    LIANDONG__HUB__RATE_LIMIT__BURST: '1000000',
    LIANDONG__NORMALISER__GROUP_ID: `${runId}-normaliser`,
    LIANDONG__NORMALISER__TRANSACTIONAL_ID: `${runId}-tx`,
    LIANDONG__NORMALISER__DLQ_GROUP_ID: `${runId}-dlq`,
    LIANDONG__WAREHOUSE__INITIAL_POSITION: 'latest',
    LIANDONG_LOG_LEVEL: 'warn',
  };
  const hub = new HubProcesses();
  try {
    await hub.start('hub', ['run'], env, /hub listening on/);
    const added = await run(process.execPath, [CLI, 'agency', 'add', agency, '--name', '压测单位', '--scopes', 'ingest:enforcement-case'], { env: { ...process.env, ...env } });
    const key = /ld_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}/.exec(added.stdout)?.[0];
    if (!key) throw new Error(`agency add printed no key:\n${added.stdout}\n${added.stderr}`);

    say(`${seconds} s of POST /v1/ingest/enforcement-case, ${connections} connections, ${perBatch} records per request…`);
    const load = await loadFromSecondProcess([`http://127.0.0.1:${port}`, key, String(seconds), String(connections), String(perBatch), runId]);
    const failed = hub.failed();
    if (failed) throw new Error(`the hub died under load: ${failed}`);

    const fates = async () =>
      (
        await database.db.raw<{ rows: Array<Record<string, string>> }>(`
          select count(*) as accepted,
                 count(*) filter (where c.raw_offset is not null) as canonical,
                 count(*) filter (where d.raw_offset is not null) as dead,
                 count(*) filter (where c.raw_offset is not null and d.raw_offset is not null) as both_fates,
                 count(*) filter (where r.raw_offset is null) as unplaced
          from ops.ingest_records r
          left join ops.ingest_canonical c using (raw_topic, raw_partition, raw_offset)
          left join ops.dlq d on d.raw_topic = r.raw_topic and d.raw_partition = r.raw_partition and d.raw_offset = r.raw_offset
          where r.outcome = 'accepted'`)
      ).rows[0];
    const rejected = Number((await database.db.raw<{ rows: Array<{ n: string }> }>(`select count(*) as n from ops.ingest_records where outcome = 'rejected'`)).rows[0].n);
    const loadEnded = Date.now();
    let f = await fates();
    while (Number(f.canonical) + Number(f.dead) - Number(f.both_fates) < Number(f.accepted)) {
      if (Date.now() - loadEnded > 300_000) throw new Error(`5 minutes after the load, not every accepted record has a fate: ${JSON.stringify(f)}`);
      await new Promise((r) => setTimeout(r, 500));
      f = await fates();
    }
    const settleS = (Date.now() - loadEnded) / 1000;
    const [accepted, canonical, dead] = [Number(f.accepted), Number(f.canonical), Number(f.dead)];
    if (load.status5xx > 0) throw new Error(`${load.status5xx} responses were 5xx`);
    if (Number(f.both_fates) > 0 || canonical + dead !== accepted) throw new Error(`a record has two fates or none: ${JSON.stringify(f)}`);
    const recordsPerSecond = Math.round(((load.status2xx * perBatch) / load.durationS) * 10) / 10;
    const note = `${connections} connections, ${load.durationS} s, ${perBatch} records/request`;
    return [
      { name: 'api ingest requests', value: Math.round(load.requestsPerSecond), unit: 'req/s', note: `${note}; ${load.requests} requests, ${load.status5xx} 5xx, ${load.status4xx} 4xx, ${load.errors} errors, ${load.timeouts} timeouts` },
      { name: 'api ingest records', value: recordsPerSecond, unit: 'records/s', note: `${accepted} accepted (${rejected} refused at the door)` },
      { name: 'api ingest latency p50', value: load.latencyP50, unit: 'ms', note },
      { name: 'api ingest latency p99', value: load.latencyP99, unit: 'ms', note },
      { name: 'api ingest fates', value: canonical + dead, unit: 'records', note: `every accepted record: ${canonical} canonical + ${dead} dead letters; the last settled ${settleS.toFixed(1)} s after the load ended` },
    ];
  } finally {
    await hub.stopAll();
    await database.drop();
    fs.rmSync(sourcesDir, { recursive: true, force: true });
  }
}

function loadFromSecondProcess(args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.resolve(__dirname, 'api-load-client.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
      } catch (err) {
        reject(new Error(`the load generator printed no result: ${out}`));
      }
    });
  });
}
