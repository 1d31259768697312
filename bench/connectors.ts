import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { runSource } from '../connectors/runner';
import { AgencySimulator } from '../connectors/simulators/agency-records';
import { startEnforcementApi } from '../connectors/simulators/enforcement-api';
import type { Config } from '../lib/config';
import { createDb } from '../lib/db';
import { createKafka } from '../lib/kafka-client';
import { createLogger } from '../lib/log';
import { createRegistry } from '../lib/registry-client';
import { parseSource, SourceDefinition } from '../pipelines/normalise/mapping';
import { prepareTopicsAndSchemas } from '../pipelines/topics';
import { migrateLatest } from '../sql/migrate';
import { BenchResult, rssMb } from './support';

function source(base: string, id: string, connector: Record<string, unknown>): SourceDefinition {
  const doc = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../config/sources', `${base}.yaml`), 'utf8'));
  doc.id = id;
  doc.connector = connector;
  return parseSource(`${id}.yaml`, YAML.stringify(doc));
}

/**
 * Pull throughput of each connector kind against the simulators, records read from the
 * source and acknowledged by Kafka per second, state checkpoints included.
 */
export async function benchConnectors(config: Config, records: number): Promise<BenchResult[]> {
  const kafka = createKafka(config, { clientId: 'bench-connectors' });
  const registry = createRegistry(config);
  const db = createDb(config, { poolMax: 4 });
  await migrateLatest(db);
  const deps = { kafka, registry, db, logger: createLogger({ bench: 'connectors' }, { level: 'error' }) };
  const run = `bench-${Date.now().toString(36)}`;
  const results: BenchResult[] = [];
  const measure = async (name: string, src: SourceDefinition, note: string) => {
    await prepareTopicsAndSchemas(config, kafka, registry, [src.id]);
    const summary = await runSource(deps, src);
    if (summary.status !== 'succeeded') throw new Error(`${name}: ${summary.error}`);
    results.push({ name, value: Math.round(summary.read / (summary.durationMs / 1000)), unit: 'records/s', note: `${summary.read} records in ${(summary.durationMs / 1000).toFixed(2)} s; ${note}; RSS ${rssMb()} MB` });
  };
  try {
    const api = await startEnforcementApi({ seed: 5, count: records });
    try {
      await measure('http-pull (page/offset API)', source('jq-amr-penalty', `${run}-http`, { kind: 'http-pull', config: { url: `${api.url}/api/v1/penalties`, style: 'page', page_size: 1000, total_path: 'total' } }), 'simulator in the same process, 1000 per page');
    } finally {
      await api.close();
    }

    const table = `bench_${run.replace(/-/g, '_')}`;
    await db.schema.createTable(table, (t) => {
      t.bigInteger('id').primary();
      t.timestamp('updated_at', { useTz: false, precision: 3 }).notNullable();
      t.text('payload').notNullable();
      t.index(['updated_at', 'id']);
    });
    try {
      const sim = new AgencySimulator({ seed: 6, count: records });
      let i = 0;
      const rows = [...sim.records()].map((r) => ({ id: ++i, updated_at: `2025-06-01 08:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}:00`, payload: r.payload }));
      await db.batchInsert(table, rows, 2000);
      const c = config.database;
      await measure('db-pull (PostgreSQL table)', source('jq-procuratorate', `${run}-db`, { kind: 'db-pull', config: { client: 'pg', host: c.host, port: c.port, database: c.database, user: c.user, table, batch_size: 5000 } }), 'keyset batches of 5000');
    } finally {
      await db.schema.dropTableIfExists(table);
    }

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-bench-drop-'));
    const sim = new AgencySimulator({ seed: 7, count: records });
    const penalties = [...sim.records()].map((r) => JSON.parse(r.payload.endsWith('}') ? r.payload : '{}') as Record<string, unknown>);
    const header = ['案件编号', '决定书文号', '当事人名称', '统一社会信用代码', '罚款金额（万元）', '处罚决定日期', '更新时间'];
    const csv = [header.join(','), ...penalties.map((p, n) => header.map((h) => (h === '案件编号' ? `F-${n}` : String(p[h] ?? '').replace(/,/g, '，'))).join(','))].join('\n');
    fs.writeFileSync(path.join(dir, 'penalties.csv'), csv);
    await measure('file-drop (one CSV file)', source('jq-amr-penalty', `${run}-file`, { kind: 'file-drop', config: { dir, id_field: '案件编号' } }), `${(Buffer.byteLength(csv) / 1024 / 1024).toFixed(1)} MB of UTF-8 CSV`);
  } finally {
    await db.destroy();
  }
  return results;
}
