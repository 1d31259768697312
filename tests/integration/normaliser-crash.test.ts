import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { RawProducer } from '../../connectors/raw-producer';
import { createKafka } from '../../lib/kafka-client';
import { createRegistry } from '../../lib/registry-client';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { DATASET_TOPICS, DLQ_TOPIC, rawTopic } from '../../schemas/catalog';
import { CLI } from '../support/cli';
import { eventually, uniqueName } from '../support/helpers';
import { consumeAll, isolatedSources, testStart } from '../support/pipeline';
import { testConfig } from '../support/stack';

const RECORDS = 40_000;
const KILLS = 3;

/** Committed offsets of the normaliser's group, summed over the raw partitions. */
async function committed(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics });
  return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

describe('the normaliser killed with SIGKILL mid-stream', () => {
  it('loses nothing and duplicates nothing: every raw record lands exactly once', async () => {
    const base = testConfig();
    const { dir, ids } = isolatedSources();
    const run = uniqueName('it-crash');
    const groupId = `${run}-normaliser`;
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-crash-'));
    const configFile = path.join(runDir, 'liandong.yaml');
    fs.writeFileSync(
      configFile,
      [
        'stack:',
        `  dir: ${base.stack.dir}`,
        `  cache_dir: ${base.stack.cache_dir}`,
        `sources_dir: ${dir}`,
        'normaliser:',
        `  group_id: ${groupId}`,
        `  transactional_id: ${run}-tx`,
        `  dlq_group_id: ${run}-dlq`,
        // A killed member is noticed after this long; the default 30 s would make the test slow, not stronger.
        '  session_timeout_ms: 6000',
        '',
      ].join('\n'),
    );
    const kafka = createKafka(base, { clientId: 'it-crash' });
    const registry = createRegistry(base);
    const sourceIds = Object.values(ids);
    const since = testStart();
    await prepareTopicsAndSchemas(base, kafka, registry, sourceIds);
    const raw = new RawProducer(kafka, registry);
    await raw.connect();
    const simulated = [...new AgencySimulator({ seed: 777, count: RECORDS, defectRate: 0.05, sources: ids }).records()];
    for (let i = 0; i < simulated.length; i += 5000) {
      await raw.send(simulated.slice(i, i + 5000).map((r) => buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: run })));
    }
    await raw.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const topics = sourceIds.map(rawTopic);
    const log = fs.openSync(path.join(runDir, 'normaliser.log'), 'a');
    const start = () => spawn(process.execPath, [CLI, 'normaliser'], { env: { ...process.env, LIANDONG_CONFIG: configFile, LIANDONG_LOG_LEVEL: 'error' }, stdio: ['ignore', log, log] });
    const exited = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));
    try {
      let progress = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const child = start();
        // Kill it at a random moment once it has committed something new.
        await eventually(async () => (await committed(admin, groupId, topics)) > progress, 120_000, 'the normaliser to commit progress');
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
        child.kill('SIGKILL');
        await exited(child);
        const now = await committed(admin, groupId, topics);
        expect(now).toBeLessThan(RECORDS + topics.length * 3 * 1000); // sanity: offsets, not garbage
        progress = now;
      }
      const last = start();
      const ends = (await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)))).flat().reduce((s, p) => s + Number(p.high), 0);
      await eventually(async () => (await committed(admin, groupId, topics)) >= ends, 180_000, 'the restarted normaliser to catch up');
      last.kill('SIGTERM');
      await exited(last);
    } finally {
      await admin.disconnect();
    }

    const ours = new Set(sourceIds);
    const canonical = (await Promise.all(Object.values(DATASET_TOPICS).map((t) => consumeAll(kafka, registry, t, (v) => ours.has(v.lineage.source_id), since)))).flat();
    const dead = await consumeAll(kafka, registry, DLQ_TOPIC, (v) => ours.has(v.source_id), since);
    const positions = [
      ...canonical.map((m) => `${m.value.lineage.raw_topic}/${m.value.lineage.raw_partition}/${m.value.lineage.raw_offset}`),
      ...dead.map((m) => `${m.value.raw.topic}/${m.value.raw.partition}/${m.value.raw.offset}`),
    ];
    expect(positions.length).toBe(RECORDS);
    expect(new Set(positions).size).toBe(RECORDS);
    // The shipped mapping already reads the older 案件编码 column.
    expect(canonical.length).toBe(simulated.filter((r) => !r.defect || r.defect === 'OLD_CASE_NUMBER_FIELD').length);
  });
});
