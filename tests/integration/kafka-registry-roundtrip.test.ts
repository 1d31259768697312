import type { Kafka } from 'kafkajs';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createRegistry, registerAvro } from '../../lib/registry-client';
import { eventually, uniqueName } from '../support/helpers';
import { consoleConsume, testConfig } from '../support/stack';

const config = testConfig();

const schema = {
  type: 'record',
  name: 'StackProbe',
  namespace: 'liandong.test',
  fields: [
    { name: 'case_id', type: 'string' },
    { name: 'agency_name', type: 'string' },
    { name: 'fine_fen', type: 'long' },
    { name: 'decided_on', type: { type: 'int', logicalType: 'date' } },
  ],
};

describe('the real stack: Kafka and the schema registry', () => {
  let kafka: Kafka;
  const topic = uniqueName('it.roundtrip');
  const subject = `${topic}-value`;
  const registry = createRegistry(config);
  const record = { case_id: '620902:酒市监罚〔2025〕17号', agency_name: '酒泉市市场监督管理局', fine_fen: 5_000_000, decided_on: '2025-06-04' };
  let schemaId: number;
  let sent: Buffer;

  beforeAll(async () => {
    kafka = createKafka(config, { clientId: 'it-roundtrip' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
  });

  it('creates a topic that the broker then lists', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).toContain(topic);
  });

  it('registers an Avro schema through @kafkajs/confluent-schema-registry, and the same schema reformatted keeps its id', async () => {
    schemaId = await registerAvro(registry, config, subject, schema);
    expect(schemaId).toBeGreaterThan(0);
    expect(await registerAvro(registry, config, subject, JSON.stringify(schema, null, 4))).toBe(schemaId);
    const level = await fetch(`${config.registry.url}/config/${subject}`).then((r) => r.json() as Promise<{ compatibilityLevel: string }>);
    expect(level.compatibilityLevel).toBe('BACKWARD');
  });

  it('produces an Avro message and consumes it back, decoded through the registry', async () => {
    sent = await registry.encode(schemaId, record);
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: record.case_id, value: sent }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('it.group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: Array<{ key: string; value: unknown }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push({ key: message.key!.toString('utf8'), value: await registry.decode(message.value!) });
      },
    });
    await eventually(() => received.length === 1, 30_000, 'the produced message');
    await consumer.disconnect();
    expect(received[0]).toEqual({ key: record.case_id, value: record });
  });

  it("lets Kafka's own console consumer read the same bytes, in the Confluent wire format", async () => {
    const result = consoleConsume(config, topic, 1);
    expect(result.status).toBe(0);
    // The console consumer writes the value's raw bytes followed by a newline separator.
    const bytes = result.stdout.subarray(0, result.stdout.length - 1);
    expect(bytes.equals(sent)).toBe(true);
    expect(bytes[0]).toBe(0); // magic byte
    const id = bytes.readInt32BE(1);
    expect(id).toBe(schemaId);
    const fetched = await fetch(`${config.registry.url}/schemas/ids/${id}`).then((r) => r.json() as Promise<{ schema: string }>);
    expect(JSON.parse(fetched.schema)).toMatchObject({ name: 'StackProbe', namespace: 'liandong.test' });
  });
});
