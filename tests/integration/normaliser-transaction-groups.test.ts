import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { loadSources } from '../../pipelines/normalise/mapping';
import { Normaliser } from '../../pipelines/normalise/normaliser';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { DATASET_TOPICS, rawTopic, subjectFor } from '../../schemas/catalog';
import { eventually } from '../support/helpers';
import { consumeAll, isolatedConfig, isolatedSources, testStart } from '../support/pipeline';
import { testConfig } from '../support/stack';

/**
 * The normaliser puts the partition batches it is handed together into one Kafka transaction.
 * A version already normalised in that transaction, but not yet committed to the versions
 * seen, must still count as seen: here the same version of one record sits at the head of two
 * partitions of its raw topic (as after the topic's partitions were raised), so both arrive in
 * the normaliser's first fetch.
 */
describe('the normaliser, one transaction for the batches of a fetch', () => {
  const sourcesSetup = isolatedSources();
  const config = isolatedConfig(testConfig(), sourcesSetup.dir);
  const kafka = createKafka(config, { clientId: 'it-normaliser-groups' });
  const registry = createRegistry(config);
  const logger = createLogger({ test: 'normaliser-groups' }, { level: 'warn' });
  const since = testStart();

  it('normalises a version found in two partitions of the same transaction once', async () => {
    const source = sourcesSetup.ids.penalty;
    await prepareTopicsAndSchemas(config, kafka, registry, Object.values(sourcesSetup.ids));
    const [record] = new AgencySimulator({ seed: 77, count: 1, defectRate: 0, sources: sourcesSetup.ids }).records();
    expect(record.sourceId).toBe(source);
    const envelope = buildEnvelope({ sourceId: source, dataset: record.dataset, payload: record.payload, recordKey: record.recordKey, runId: 'it-groups' });
    const topic = rawTopic(source);
    const value = await registry.encode(await registry.getLatestSchemaId(subjectFor(topic)), envelope);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [0, 1].map((partition) => ({ key: envelope.record_key, value, partition })) });
    } finally {
      await producer.disconnect();
    }

    const normaliser = new Normaliser({ config, kafka, registry, sources: loadSources(sourcesSetup.dir), piiSecret: 'test-secret', logger });
    await normaliser.start();
    try {
      await eventually(() => normaliser.stats.read >= 2, 60_000, 'the normaliser to read both copies');
    } finally {
      await normaliser.stop();
    }
    expect(normaliser.stats.batches).toBe(2);
    expect(normaliser.stats.duplicates).toBe(1);
    expect(normaliser.stats.canonical).toBe(1);
    const canonical = await consumeAll(kafka, registry, DATASET_TOPICS[record.dataset], (v) => v.lineage.source_id === source, since);
    expect(canonical).toHaveLength(1);
  });
});
