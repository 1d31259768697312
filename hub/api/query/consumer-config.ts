import type { Config } from '../../../lib/config';

/**
 * A consumer configuration a downstream system can paste: the kafkajs options (as data and as
 * a snippet) and Java client properties, for one canonical topic.
 *
 * Why each setting:
 * - `isolation.level=read_committed` (kafkajs `readUncommitted: false`): the normaliser writes
 *   canonical topics in Kafka transactions; a read-uncommitted consumer would also see records
 *   of aborted transactions, which are duplicates of ones written again after a retry.
 * - `auto.offset.reset=earliest` / `fromBeginning: true`: canonical topics keep everything, so
 *   a new subscriber starts with the full history rather than only what arrives next.
 * - `enable.auto.commit=false`: commit after the record is stored, or a crash loses it.
 * - values are Avro in the Confluent wire format, decoded with the schema the registry holds
 *   for the id in each message.
 *
 * @example
 *   const c = consumerConfig(config, 'canonical.hotline-ticket', 'liandong.11620900MB19512346.hotline-ticket', 'ticket_id');
 *   const consumer = new Kafka(c.kafkajs.client).consumer(c.kafkajs.consumer);
 */
export interface ConsumerConfig {
  group_id: string;
  kafkajs: {
    client: { clientId: string; brokers: string[] };
    consumer: { groupId: string; readUncommitted: false };
    subscribe: { topics: string[]; fromBeginning: true };
    registry: { host: string };
  };
  kafkajs_snippet: string;
  java_properties: string;
}

/** A group id per agency and dataset; Kafka accepts any string, but people and tools read these. */
export function suggestedGroupId(agencyCode: string, dataset: string): string {
  return `liandong.${agencyCode.replace(/[^A-Za-z0-9_-]/g, '_')}.${dataset}`;
}

export function consumerConfig(config: Config, topic: string, groupId: string, keyField: string): ConsumerConfig {
  const brokers = [...config.kafka.brokers];
  const registry = config.registry.url;
  const kafkajs = {
    client: { clientId: groupId, brokers },
    consumer: { groupId, readUncommitted: false as const },
    subscribe: { topics: [topic], fromBeginning: true as const },
    registry: { host: registry },
  };
  const snippet = [
    "import { Kafka } from 'kafkajs';",
    "import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';",
    '',
    `const kafka = new Kafka(${JSON.stringify(kafkajs.client)});`,
    `const registry = new SchemaRegistry(${JSON.stringify(kafkajs.registry)});`,
    '// readUncommitted: false = isolation.level read_committed (the hub writes in transactions)',
    `const consumer = kafka.consumer(${JSON.stringify(kafkajs.consumer)});`,
    'await consumer.connect();',
    `await consumer.subscribe(${JSON.stringify(kafkajs.subscribe)});`,
    'await consumer.run({',
    '  autoCommit: false,',
    '  eachMessage: async ({ topic, partition, message }) => {',
    `    const key = message.key?.toString('utf8'); // ${keyField}`,
    '    const record = await registry.decode(message.value!); // decimals arrive as bytes unless you pass Avro logical types',
    '    // … store the record, then commit the next offset:',
    '    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);',
    '  },',
    '});',
  ].join('\n');
  const properties = [
    `# ${topic}: key = ${keyField} (UTF-8 string), value = Avro (Confluent wire format)`,
    `bootstrap.servers=${brokers.join(',')}`,
    `group.id=${groupId}`,
    'isolation.level=read_committed',
    'auto.offset.reset=earliest',
    'enable.auto.commit=false',
    'key.deserializer=org.apache.kafka.common.serialization.StringDeserializer',
    'value.deserializer=io.confluent.kafka.serializers.KafkaAvroDeserializer',
    `schema.registry.url=${registry}`,
    'specific.avro.reader=false',
    'avro.use.logical.type.converters=true',
  ].join('\n');
  return { group_id: groupId, kafkajs, kafkajs_snippet: snippet, java_properties: properties + '\n' };
}
