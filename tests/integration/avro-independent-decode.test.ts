import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { ensureMavenLibs } from '../../hub/stack/downloads';
import { findJava } from '../../hub/stack/system';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createRegistry } from '../../lib/registry-client';
import { loadSources } from '../../pipelines/normalise/mapping';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { OutputSchemas, prepareTopicsAndSchemas, validateRecord } from '../../pipelines/normalise/outcomes';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { partitionRanges, readRanges } from '../../pipelines/raw-reader';
import type { CanonicalRecord } from '../../pipelines/normalise/build-record';
import type { Dataset } from '../../pipelines/normalise/canonical-fields';
import { uniqueName } from '../support/helpers';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

const config = testConfig();
const JAVA_DIR = path.resolve(__dirname, '../support/java');

/** Decodes Confluent-framed values with Apache Avro for Java, schemas fetched from the registry. */
async function decodeWithJava(values: Buffer[]): Promise<Array<{ schema_id: number; record: Record<string, any> }>> {
  const libs = await ensureMavenLibs({ cacheDir: config.stack.cache_dir, logFile: path.join(config.stack.dir, 'logs', 'downloads.log') }, 'avro-java', path.join(JAVA_DIR, 'pom.xml'));
  const result = spawnSync(findJava('tests'), ['-cp', path.join(libs, '*'), path.join(JAVA_DIR, 'AvroDecode.java'), config.registry.url], {
    input: values.map((v) => v.toString('base64')).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`AvroDecode failed (${result.status}): ${result.stderr}`);
  return result.stdout.trim().split('\n').map((line) => JSON.parse(line));
}

describe('an independent Avro implementation reads our canonical messages', () => {
  it('Apache Avro for Java decodes them from Kafka with the registry schema, money, dates and timestamps equal', async () => {
    const kafka = createKafka(config, { clientId: 'it-avro-java' });
    const registry = createRegistry(config);
    const sources = loadSources(SHIPPED_SOURCES);
    const schemas: OutputSchemas = await prepareTopicsAndSchemas(config, kafka, registry, [...sources.keys()]);
    const ctx = { sources, piiSecret: 'test-secret', replyDeadlines: config.domain.reply_deadlines as Record<string, { months: number; days: number }>, validate: validateRecord };

    const sent: Array<{ dataset: Dataset; record: CanonicalRecord }> = [];
    const simulator = new AgencySimulator({ seed: 4242, count: 300 });
    for (const r of simulator.records()) {
      const outcome = normaliseEnvelope(buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, runId: 'it' }), { topic: 'raw.x', partition: 0, offset: String(sent.length) }, ctx);
      if (outcome.kind === 'canonical') sent.push({ dataset: outcome.dataset, record: outcome.record });
    }
    expect(new Set(sent.map((s) => s.dataset)).size).toBe(3);
    expect(sent.some((s) => s.record.fine_amount !== null && s.record.fine_amount !== undefined)).toBe(true);

    const topic = uniqueName('it.avro-java');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = createProducer(kafka);
    await producer.connect();
    const encoded = await Promise.all(sent.map((s) => registry.encode(schemas.canonical[s.dataset], s.record)));
    await producer.send({ topic, messages: encoded.map((value, i) => ({ key: String(i), value })) });
    await producer.disconnect();

    const consumed: Buffer[] = [];
    await readRanges(kafka, topic, await partitionRanges(kafka, topic, 'earliest'), async (_p, messages) => {
      for (const m of messages) consumed.push(m.value!);
    });
    expect(consumed).toHaveLength(sent.length);

    const decoded = await decodeWithJava(consumed);
    expect(decoded).toHaveLength(sent.length);
    decoded.forEach(({ schema_id, record }, i) => {
      const expected = sent[i];
      expect(schema_id).toBe(schemas.canonical[expected.dataset]);
      // The whole record, field for field: decimals, dates and timestamps included.
      expect(record).toEqual(JSON.parse(JSON.stringify(expected.record)));
    });
  });
});
