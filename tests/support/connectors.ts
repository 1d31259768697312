import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import YAML from 'yaml';
import type { RunnerDeps } from '../../connectors/runner';
import type { Config } from '../../lib/config';
import { createDb } from '../../lib/db';
import { createKafka } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { migrateLatest } from '../../sql/migrate';
import { testConfig } from './stack';
import { parseSource, SourceDefinition } from '../../pipelines/normalise/mapping';
import { uniqueName } from './helpers';
import { SHIPPED_SOURCES } from './pipeline';

/** A source with the shipped mapping of `base` and the given connector, under a fresh id. */
export function connectorSource(base: 'jq-amr-penalty' | 'jq-12345' | 'jq-procuratorate', connector: Record<string, unknown>): { source: SourceDefinition; dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-connector-'));
  const doc = YAML.parse(fs.readFileSync(path.join(SHIPPED_SOURCES, `${base}.yaml`), 'utf8'));
  doc.id = uniqueName('it-conn').toLowerCase();
  doc.connector = connector;
  const file = path.join(dir, `${doc.id}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  return { source: parseSource(file, fs.readFileSync(file, 'utf8')), dir, file };
}

/** The penalty API as an http-pull source reads it (page/offset). */
export function penaltyPull(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'http-pull', config: { url: `${url}/api/v1/penalties`, style: 'page', page_size: 100, total_path: 'total', timeout_ms: 2000, ...extra } };
}

/** The 12345 API as an http-pull source reads it (cursor tokens). */
export function ticketPull(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'http-pull',
    config: { url: `${url}/api/tickets`, style: 'cursor', since_param: 'since', items_path: 'data', updated_at_field: '更新时间', id_field: '工单编号', page_size: 100, timeout_ms: 2000, ...extra },
  };
}

/**
 * Clients for connector tests against the running stack: Kafka, the registry and a migrated
 * database, opened before the file's tests and closed after them.
 */
export function useRunnerDeps(clientId: string): { config: Config; kafka: Kafka; registry: SchemaRegistry; deps: () => RunnerDeps; db: () => Knex } {
  const config = testConfig();
  const kafka = createKafka(config, { clientId });
  const registry = createRegistry(config);
  let db: Knex | undefined;
  beforeAll(async () => {
    db = createDb(config, { poolMax: 4 });
    await migrateLatest(db);
  });
  afterAll(() => db?.destroy());
  return {
    config,
    kafka,
    registry,
    db: () => db!,
    deps: () => ({ kafka, registry, db: db!, logger: createLogger({ test: clientId }, { level: 'error' }) }),
  };
}
