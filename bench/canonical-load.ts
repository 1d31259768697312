import path from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, Message } from 'kafkajs';
import { benchCompanies } from './support';
import { AgencySimulator } from '../connectors/simulators/agency-records';
import type { AvroCodec } from '../lib/avro-codec';
import type { Config } from '../lib/config';
import { chunkTopicMessages, createProducer } from '../lib/kafka-client';
import { RECORD_ID_FIELD } from '../pipelines/normalise/canonical-fields';
import { loadSources } from '../pipelines/normalise/mapping';
import { normaliseContext } from '../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../pipelines/normalise/normalise-record';
import { outputCodec } from '../pipelines/normalise/outcomes';
import { buildEnvelope } from '../pipelines/raw-envelope';
import type { OutputSchemas } from '../pipelines/topics';
import { Dataset, DATASET_TOPICS, rawTopic } from '../schemas/catalog';

const SHIPPED_SOURCES = path.resolve(__dirname, '../config/sources');
const SHIPPED_IDS = { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };

/** What the bench put on the canonical topics, kept encoded (off the JS heap) for the COPY baseline. */
export interface CanonicalLoad {
  datasets: Dataset[];
  values: Buffer[];
  codec: AvroCodec;
}

/**
 * Canonical records exactly as the normaliser writes them: agency records from the simulator
 * (no defects) through the real mapping, encoded with the registered canonical schemas and
 * produced, keyed by record id, to the canonical topics. Ticket records come in several
 * versions per ticket, as on the real topics, so the sink merges as well as inserts.
 */
export async function loadCanonicalTopics(config: Config, kafka: Kafka, registry: SchemaRegistry, schemas: OutputSchemas, count: number): Promise<CanonicalLoad> {
  const ctx = normaliseContext({ config, sources: loadSources(SHIPPED_SOURCES), piiSecret: 'bench-secret' });
  const codec = await outputCodec(registry, schemas);
  const datasets: Dataset[] = [];
  const values: Buffer[] = [];
  const byTopic = new Map<string, Message[]>();
  let offset = 0;
  // An unbounded simulation, stopped once `count` records came out canonical (or, should the
  // mapping and the simulator have drifted apart, once it is plain that few ever will).
  for (const r of new AgencySimulator({ seed: 5150, count: Number.MAX_SAFE_INTEGER, defectRate: 0, sources: SHIPPED_IDS, companies: benchCompanies() }).records()) {
    if (values.length >= count) break;
    if (offset >= 2 * count + 1000) throw new Error(`only ${values.length} of ${offset} simulated records normalised to canonical ones: the shipped mapping rejects the simulator's records`);
    const envelope = buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: 'bench-warehouse' });
    const outcome = normaliseEnvelope(envelope, { topic: rawTopic(r.sourceId), partition: 0, offset: String(offset++) }, ctx);
    if (outcome.kind !== 'canonical') continue;
    const value = codec.encode(schemas.canonical[outcome.dataset], outcome.record);
    datasets.push(outcome.dataset);
    values.push(value);
    const topic = DATASET_TOPICS[outcome.dataset];
    if (!byTopic.has(topic)) byTopic.set(topic, []);
    byTopic.get(topic)!.push({ key: String(outcome.record[RECORD_ID_FIELD[outcome.dataset]]), value });
  }
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    for (const chunk of chunkTopicMessages(topicMessages)) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
  } finally {
    await producer.disconnect();
  }
  return { datasets, values, codec };
}
