import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import YAML from 'yaml';
import type { Config } from '../../lib/config';
import { partitionRanges, readRanges } from '../../pipelines/raw-reader';
import { uniqueName } from './helpers';

export const SHIPPED_SOURCES = path.resolve(__dirname, '../../config/sources');

/**
 * Copies the shipped source definitions under fresh ids (so each test run has raw topics of
 * its own), optionally editing them, into a temporary sources folder.
 */
export function isolatedSources(edit: (id: string, doc: Record<string, any>) => void = () => undefined): {
  dir: string;
  ids: { penalty: string; hotline: string; supervision: string };
  write: (edit: (id: string, doc: Record<string, any>) => void) => void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-sources-'));
  const run = uniqueName('it').toLowerCase();
  const ids = { penalty: `${run}-penalty`, hotline: `${run}-hotline`, supervision: `${run}-supervision` };
  const shipped: Record<string, string> = { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };
  const write = (change: (id: string, doc: Record<string, any>) => void) => {
    for (const [role, id] of Object.entries(ids)) {
      const doc = YAML.parse(fs.readFileSync(path.join(SHIPPED_SOURCES, `${shipped[role]}.yaml`), 'utf8')) as Record<string, any>;
      doc.id = id;
      change(id, doc);
      fs.writeFileSync(path.join(dir, `${id}.yaml`), YAML.stringify(doc));
    }
  };
  write(edit);
  return { dir, ids, write };
}

/** A copy of the configuration with its own sources folder and its own consumer groups. */
export function isolatedConfig(base: Config, sourcesDir: string): Config {
  const run = uniqueName('it');
  return {
    ...base,
    sources_dir: sourcesDir,
    normaliser: { ...base.normaliser, group_id: `${run}-normaliser`, transactional_id: `${run}-tx`, dlq_group_id: `${run}-dlq` },
  };
}

export interface ConsumedMessage {
  key: string;
  partition: number;
  offset: string;
  value: Record<string, any>;
}

/**
 * Every committed message of a topic, decoded through the registry — from `since` on when given:
 * the canonical topics are shared by every test run, and a test that reads only what was produced
 * after it began does not slow down as they grow.
 */
export async function consumeAll(kafka: Kafka, registry: SchemaRegistry, topic: string, keep: (value: Record<string, any>) => boolean = () => true, since: Date | 'earliest' = 'earliest'): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  const ranges = await partitionRanges(kafka, topic, since);
  await readRanges(kafka, topic, ranges, async (partition, messages) => {
    for (const m of messages) {
      const value = (await registry.decode(m.value!)) as Record<string, any>;
      if (keep(value)) out.push({ key: m.key?.toString('utf8') ?? '', partition, offset: m.offset, value });
    }
  });
  return out;
}

/** When a test began, less a margin for clock skew between this process and the broker's timestamps. */
export function testStart(): Date {
  return new Date(Date.now() - 60_000);
}
