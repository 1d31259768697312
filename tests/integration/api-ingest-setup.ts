import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { Knex } from 'knex';
import type { Config } from '../../lib/config';
import { createLogger } from '../../lib/log';
import { DlqTableSink } from '../../pipelines/normalise/dlq-sink';
import { Normaliser } from '../../pipelines/normalise/normaliser';
import { partitionRanges, readRanges } from '../../pipelines/raw-reader';
import { startTestHub, TestHub } from '../support/api';
import { eventually, uniqueName } from '../support/helpers';
import { isolatedConfig, SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

/**
 * The push API against the real stack, as the ingest tests need it: the shipped push sources
 * copied under fresh ids and naming fresh agency codes, the hub app, and the real normaliser and
 * dead-letter table writer with groups of their own — so receipts can be followed to the end.
 */
export interface IngestWorld {
  hub: TestHub;
  config: Config;
  db: Knex;
  /** Push source ids: the environment bureau's cases and the procuratorate's supervision records. */
  ids: { env: string; proc: string };
  /** The agency codes those sources let push. */
  agencies: { env: string; proc: string };
  /** A key of an agency, with these scopes. */
  key(agency: 'env' | 'proc', scopes: string[]): Promise<string>;
  /** Polls a receipt until it is complete (every record canonical, dead or rejected). */
  settled(receiptUrl: string, key: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function startIngestWorld(edit: (config: Config) => Config = (c) => c): Promise<IngestWorld> {
  const run = uniqueName('it').toLowerCase();
  const ids = { env: `${run}-sthj`, proc: `${run}-12309` };
  const agencies = { env: `AG-${run}-ENV`.toUpperCase(), proc: `AG-${run}-PROC`.toUpperCase() };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-push-sources-'));
  for (const [role, shipped] of [['env', 'jq-sthj-cases'], ['proc', 'jq-procuratorate-12309']] as const) {
    const doc = YAML.parse(fs.readFileSync(path.join(SHIPPED_SOURCES, `${shipped}.yaml`), 'utf8')) as Record<string, any>;
    doc.id = ids[role];
    doc.connector.config.agencies = [agencies[role]];
    fs.writeFileSync(path.join(dir, `${doc.id}.yaml`), YAML.stringify(doc));
  }
  const config = edit(isolatedConfig(testConfig(), dir));
  const hub = await startTestHub(() => config);
  const { rt } = hub;
  const logger = createLogger({ test: 'api-ingest' }, { level: 'warn' });
  const normaliser = new Normaliser({ ...rt, logger });
  const sink = new DlqTableSink({ ...rt, logger });
  try {
    await normaliser.start();
    await sink.start();
  } catch (err) {
    // A hub left running would keep its receipt tracker retrying after the test file is gone.
    await normaliser.stop().catch(() => undefined);
    await sink.stop().catch(() => undefined);
    await hub.close();
    throw err;
  }
  return {
    hub,
    config,
    db: rt.db,
    ids,
    agencies,
    key: (agency, scopes) => hub.key(scopes, { code: agencies[agency], name: agency === 'env' ? '酒泉市生态环境局（测试）' : '酒泉市人民检察院（测试）' }),
    settled: (url, key, timeoutMs = 60_000) =>
      eventually(async () => {
        const res = await hub.call('GET', url, { key });
        if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
        return res.body.complete ? res.body : undefined;
      }, timeoutMs, `receipt ${url} to be complete`),
    close: async () => {
      await normaliser.stop();
      await sink.stop();
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Committed messages of a topic produced since `since` (not the whole topic: canonical topics are shared and large), decoded. */
export async function readSince(world: IngestWorld, topic: string, since: Date, keep: (value: Record<string, any>) => boolean): Promise<Array<{ partition: number; offset: string; key: string; value: Record<string, any> }>> {
  const { kafka, registry } = world.hub.rt;
  const out: Array<{ partition: number; offset: string; key: string; value: Record<string, any> }> = [];
  await readRanges(kafka, topic, await partitionRanges(kafka, topic, new Date(since.getTime() - 60_000)), async (partition, messages) => {
    for (const m of messages) {
      let value: Record<string, any>;
      try {
        value = (await registry.decode(m.value!)) as Record<string, any>;
      } catch {
        continue; // another test's garbage on a shared topic
      }
      if (keep(value)) out.push({ partition, offset: m.offset, key: m.key?.toString('utf8') ?? '', value });
    }
  });
  return out;
}

/** How many messages a topic holds (the sum of its partitions' high watermarks; raw topics have no transaction markers). */
export async function messageCount(world: IngestWorld, topic: string): Promise<number> {
  const admin = world.hub.rt.kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}
