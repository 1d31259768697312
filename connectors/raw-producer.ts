import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';
import { chunkTopicMessages, createProducer, groupByTopic } from '../lib/kafka-client';
import { rawTopic, subjectFor } from '../schemas/catalog';
import type { RawEnvelope } from '../pipelines/raw-envelope';

/**
 * Lands envelopes in `raw.<source_id>` with the idempotent producer (acks=all), encoded
 * with the registered raw-envelope schema. Connectors and the push API both land records
 * through it, so every record enters the hub the same way.
 */
export class RawProducer {
  private readonly producer: Producer;
  private readonly schemaIds = new Map<string, number>();

  constructor(kafka: Kafka, private readonly registry: SchemaRegistry) {
    this.producer = createProducer(kafka);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  private async schemaId(topic: string): Promise<number> {
    let id = this.schemaIds.get(topic);
    if (id === undefined) {
      id = await this.registry.getLatestSchemaId(subjectFor(topic));
      this.schemaIds.set(topic, id);
    }
    return id;
  }

  /** Produces envelopes (any mix of sources), keyed by record key; resolves once Kafka acknowledged all. */
  async send(envelopes: RawEnvelope[]): Promise<RecordMetadata[]> {
    const items: Array<{ topic: string; message: { key: string; value: Buffer } }> = [];
    for (const envelope of envelopes) {
      const topic = rawTopic(envelope.source_id);
      items.push({ topic, message: { key: envelope.record_key, value: await this.registry.encode(await this.schemaId(topic), envelope) } });
    }
    const results: RecordMetadata[] = [];
    for (const chunk of chunkTopicMessages(groupByTopic(items))) {
      results.push(...(await this.producer.sendBatch({ topicMessages: chunk, acks: -1 })));
    }
    return results;
  }
}
