import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { RawProducer } from '../../connectors/raw-producer';
import { ensureMavenLibs } from '../../hub/stack/downloads';
import { findJava } from '../../hub/stack/system';
import { createKafka } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { loadSources } from '../../pipelines/normalise/mapping';
import { normaliseContext, Normaliser } from '../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { buildEnvelope, RawEnvelope } from '../../pipelines/raw-envelope';
import { partitionRanges, readRanges } from '../../pipelines/raw-reader';
import { DATASET_TOPICS } from '../../schemas/catalog';
import { eventually } from '../support/helpers';
import { isolatedConfig, isolatedSources, testStart } from '../support/pipeline';
import { testConfig } from '../support/stack';

const JAVA_DIR = path.resolve(__dirname, '../support/java');
const RECORDS = 300;

describe('an independent Avro implementation reads what the normaliser wrote', () => {
  it('Apache Avro for Java decodes canonical messages from Kafka with the registry schema; money, dates and timestamps equal what was sent', async () => {
    const since = testStart();
    const { dir, ids } = isolatedSources();
    const config = isolatedConfig(testConfig(), dir);
    const kafka = createKafka(config, { clientId: 'it-avro-java' });
    const registry = createRegistry(config);
    const sources = loadSources(dir);
    const schemas = await prepareTopicsAndSchemas(config, kafka, registry, [...sources.keys()]);

    // Raw records in, through the real normaliser (its codec, its transactions).
    const envelopes = new Map<string, RawEnvelope>();
    const raw = new RawProducer(kafka, registry);
    await raw.connect();
    const batch = [...new AgencySimulator({ seed: 4242, count: RECORDS, sources: ids }).records()].map((r) =>
      buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: 'it-avro' }),
    );
    const sent = await raw.send(batch);
    await raw.disconnect();
    expect(sent.length).toBeGreaterThan(0);
    const normaliser = new Normaliser({ config, kafka, registry, sources, piiSecret: 'test-secret', logger: createLogger({}, { level: 'error' }) });
    await normaliser.start();
    try {
      await eventually(() => normaliser.stats.read >= RECORDS, 60_000, 'the normaliser to read the records');
    } finally {
      await normaliser.stop();
    }
    // The raw envelope at every position of our raw topics: what the agencies sent.
    for (const id of Object.values(ids)) {
      const topic = `raw.${id}`;
      await readRanges(kafka, topic, await partitionRanges(kafka, topic, 'earliest'), async (partition, rawMessages) => {
        for (const m of rawMessages) envelopes.set(`${topic}/${partition}/${m.offset}`, (await registry.decode(m.value!)) as RawEnvelope);
      });
    }
    expect(envelopes.size).toBe(RECORDS);

    // Out: the canonical messages of this run, as bytes.
    const ours = new Set(Object.values(ids));
    const messages: Array<{ bytes: Buffer; node: Record<string, any> }> = [];
    for (const topic of Object.values(DATASET_TOPICS)) {
      await readRanges(kafka, topic, await partitionRanges(kafka, topic, since), async (_p, batchMessages) => {
        for (const m of batchMessages) {
          const node = (await registry.decode(m.value!)) as Record<string, any>;
          if (ours.has(node.lineage.source_id)) messages.push({ bytes: m.value!, node });
        }
      });
    }
    expect(messages).toHaveLength(normaliser.stats.canonical);
    expect(new Set(messages.map((m) => m.node.lineage.source_id)).size).toBe(3);

    const libs = await ensureMavenLibs({ cacheDir: config.stack.cache_dir, logFile: path.join(config.stack.dir, 'logs', 'downloads.log') }, 'avro-java', path.join(JAVA_DIR, 'pom.xml'));
    const result = spawnSync(findJava('tests'), ['-cp', path.join(libs, '*'), path.join(JAVA_DIR, 'AvroDecode.java'), config.registry.url], {
      input: messages.map((m) => m.bytes.toString('base64')).join('\n') + '\n',
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    expect(result.status).toBe(0);
    const decoded = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { schema_id: number; record: Record<string, any> });
    expect(decoded).toHaveLength(messages.length);

    // What was sent: the same raw record normalised again here, at the same raw position.
    const ctx = normaliseContext({ config, sources, piiSecret: 'test-secret' });
    let withMoney = 0;
    decoded.forEach(({ schema_id, record }, i) => {
      const lineage = messages[i].node.lineage;
      const envelope = envelopes.get(`${lineage.raw_topic}/${lineage.raw_partition}/${lineage.raw_offset}`);
      expect(envelope).toBeDefined();
      const expected = normaliseEnvelope(envelope!, { topic: lineage.raw_topic, partition: lineage.raw_partition, offset: String(lineage.raw_offset) }, ctx);
      expect(expected.kind).toBe('canonical');
      if (expected.kind !== 'canonical') return;
      expect(schema_id).toBe(schemas.canonical[expected.dataset]);
      // Field for field — decimals, dates and timestamps included — Java reads what we meant.
      expect(record).toEqual(JSON.parse(JSON.stringify(expected.record)));
      expect(messages[i].node).toEqual(expected.record);
      if (record.fine_amount) withMoney++;
    });
    expect(withMoney).toBeGreaterThan(10);
  });
});
