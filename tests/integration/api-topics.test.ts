import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { createProducer } from '../../lib/kafka-client';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { DATASET_TOPICS, subjectFor } from '../../schemas/catalog';
import { startTestHub, type TestHub } from '../support/api';
import { eventually, uniqueName } from '../support/helpers';

let hub: TestHub;
let schemaIds: Awaited<ReturnType<typeof prepareTopicsAndSchemas>>;

beforeAll(async () => {
  hub = await startTestHub();
  schemaIds = await prepareTopicsAndSchemas(hub.rt.config, hub.rt.kafka, hub.rt.registry, []);
});
afterAll(() => hub?.close());

function ticket(id: string, title: string): Record<string, unknown> {
  return {
    ticket_id: id, channel: 'PHONE', received_at: '2025-03-20T01:00:00.000Z', appeal_type: 'COMPLAINT', category_code: null, category_name: null, topics: ['ENVIRONMENT'],
    title, content: null, caller_name_masked: '王**', caller_phone_hash: null, caller_phone_masked: '138****5678', region_code: '620902', address: null, subject: null,
    handling_unit: null, dispatched_at: null, due_at: null, status: 'RECEIVED', closed_at: null, satisfaction: 'NOT_RATED', related_ticket_ids: [],
    source_updated_at: '2025-03-20T01:00:00.000Z',
    lineage: { source_id: 'it', raw_topic: 'raw.it', raw_partition: 0, raw_offset: 0, ingested_at: '2025-03-20T01:00:00.000Z', normaliser_version: 'test' },
    warnings: [],
  };
}

describe('GET /v1/topics', () => {
  it('answers 401 without a key', async () => {
    expect((await hub.call('GET', '/v1/topics')).status).toBe(401);
  });

  it('answers 403 to a key that may read no dataset, and to one asking for a topic it may not read', async () => {
    const ingest = await hub.call('GET', '/v1/topics', { key: await hub.key(['ingest:hotline-ticket', 'read:pii']) });
    expect(ingest.status).toBe(403);
    const other = await hub.call('GET', '/v1/topics?dataset=hotline-ticket', { key: await hub.key(['read:enforcement-case']) });
    expect(other.status).toBe(403);
    expect(other.body.details.required).toBe('read:hotline-ticket');
  });

  it('answers 400 to an unknown dataset, an unknown parameter and a flag that is not true or false', async () => {
    const key = await hub.key(['read:*']);
    for (const q of ['dataset=penalties', 'topic=canonical.hotline-ticket', 'include_schema=no']) {
      const res = await hub.call('GET', `/v1/topics?${q}`, { key });
      expect(res.status).toBe(400);
      expect(res.body.details.in).toBe('query');
    }
  });

  it('lists the topics of the datasets the key may read, with key, subject, latest schema, partitions and the hashed fields', async () => {
    const res = await hub.call('GET', '/v1/topics', { key: await hub.key(['read:hotline-ticket', 'read:supervision-record']) });
    expect(res.status).toBe(200);
    expect(res.body.topics.map((t: any) => t.topic)).toEqual([DATASET_TOPICS['hotline-ticket'], DATASET_TOPICS['supervision-record']]);
    const topic = res.body.topics[0];
    const admin = hub.rt.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic.topic] });
      expect(topic.partitions).toBe(meta.topics[0].partitions.length);
    } finally {
      await admin.disconnect();
    }
    expect(topic.key).toMatchObject({ field: 'ticket_id', format: 'UTF-8 string' });
    expect(topic.value).toMatchObject({ subject: subjectFor(topic.topic), schema_id: schemaIds.canonical['hotline-ticket'], compatibility: 'BACKWARD' });
    const registered = (await (await fetch(`${hub.rt.config.registry.url}/schemas/ids/${topic.value.schema_id}`)).json()) as { schema: string };
    expect(topic.value.schema).toEqual(JSON.parse(registered.schema));
    expect(topic.value.schema).toMatchObject({ type: 'record', name: 'HotlineTicket', namespace: 'liandong.v1' });
    expect(topic.personal_data.keyed_hash_fields).toEqual(['caller_phone_hash', 'subject.id_hash']);
    expect(topic.consumer.java_properties).toContain('isolation.level=read_committed');
    expect(topic.consumer.java_properties).toContain(`bootstrap.servers=${hub.rt.config.kafka.brokers.join(',')}`);
    expect(topic.consumer.java_properties).toContain(`schema.registry.url=${hub.rt.config.registry.url}`);

    const lean = await hub.call('GET', '/v1/topics?dataset=supervision-record&include_schema=false', { key: await hub.key(['read:supervision-record']) });
    expect(lean.body.topics).toHaveLength(1);
    expect(lean.body.topics[0].value).not.toHaveProperty('schema');
  });

  it('returns a consumer configuration that, used exactly as given, reads committed canonical messages and decodes them through the registry', async () => {
    const res = await hub.call('GET', '/v1/topics?dataset=hotline-ticket', { key: await hub.key(['read:hotline-ticket']) });
    const { kafkajs } = res.body.topics[0].consumer;
    const id = uniqueName('it-topics-ticket');

    // One aborted and one committed version of the same ticket (same key, same partition, in that order).
    const producer = createProducer(hub.rt.kafka, { transactionalId: uniqueName('it-topics-tx') });
    await producer.connect();
    try {
      const encode = (title: string) => hub.rt.registry.encode(schemaIds.canonical['hotline-ticket'], ticket(id, title));
      const aborted = await producer.transaction();
      await aborted.send({ topic: DATASET_TOPICS['hotline-ticket'], messages: [{ key: id, value: await encode('aborted') }] });
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic: DATASET_TOPICS['hotline-ticket'], messages: [{ key: id, value: await encode('committed') }] });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }

    const kafka = new Kafka({ ...kafkajs.client, logLevel: logLevel.NOTHING });
    const registry = new SchemaRegistry(kafkajs.registry);
    const consumer = kafka.consumer(kafkajs.consumer);
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe(kafkajs.subscribe);
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString('utf8') !== id) return;
          const value = (await registry.decode(message.value!)) as { ticket_id: string; title: string };
          seen.push(`${value.ticket_id}:${value.title}`);
        },
      });
      // fromBeginning: the consumer reads the topic's whole history (hundreds of thousands of
      // messages on the shared stack) before it reaches this run's ticket.
      await eventually(() => seen.length > 0, 165_000, 'the committed ticket to reach the consumer');
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual([`${id}:committed`]);
    const admin = hub.rt.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([kafkajs.consumer.groupId]).finally(() => admin.disconnect());
  });
});
