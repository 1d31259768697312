import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import type { Config } from '../lib/config';
import { DATASET_TOPICS, DLQ_TOPIC, rawTopic, registerAll, subjectFor } from '../schemas/catalog';
import type { Dataset } from './normalise/canonical-fields';

/**
 * The hub creates its topics itself (the broker never auto-creates them): canonical topics
 * and the DLQ keep everything (downstream systems and warehouse rebuilds replay them from the
 * start); raw topics hold personal data as received and keep it for a bounded time.
 */
export function wantedTopics(config: Config, sourceIds: readonly string[]): ITopicConfig[] {
  const base = { numPartitions: config.topics.partitions, replicationFactor: config.topics.replication_factor };
  const keepForever = [{ name: 'retention.ms', value: '-1' }];
  const rawRetention = [{ name: 'retention.ms', value: String(config.topics.raw_retention_days * 86_400_000) }];
  return [
    ...Object.values(DATASET_TOPICS).map((topic) => ({ topic, ...base, configEntries: keepForever })),
    { topic: DLQ_TOPIC, ...base, configEntries: keepForever },
    ...[...new Set(sourceIds)].map((id) => ({ topic: rawTopic(id), ...base, configEntries: rawRetention })),
  ];
}

/** Creates the topics that do not exist yet; returns their names. */
export async function ensureTopics(admin: Admin, config: Config, sourceIds: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = wantedTopics(config, sourceIds).filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (err) {
    await waitForTopics(admin, missing.map((t) => t.topic), err);
  }
  return missing.map((t) => t.topic);
}

/**
 * After a failed createTopics: waits until every topic exists with a leader on each partition,
 * or throws `cause`. createTopics fails when another process created a topic in between, and
 * on a broker that has just started, whose metadata can lag behind a creation it accepted
 * (UNKNOWN_TOPIC_OR_PARTITION while kafkajs waits for leaders); neither is an error once the
 * topics are there.
 */
export async function waitForTopics(admin: Admin, topics: readonly string[], cause: unknown, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = topics.every((name) => {
        const t = found.find((f) => f.name === name);
        return t !== undefined && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch {
      // still unknown to the broker's metadata: keep waiting until the deadline
    }
    if (Date.now() > deadline) throw cause;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Schema ids of the subjects the normaliser writes. */
export interface OutputSchemas {
  canonical: Record<Dataset, number>;
  dlq: number;
}

/**
 * What the hub does at start-up before producing anything: create its topics and register
 * every subject (BACKWARD), so an incompatible schema fails here, before a single message.
 */
export async function prepareTopicsAndSchemas(config: Config, kafka: Kafka, registry: SchemaRegistry, sourceIds: string[]): Promise<OutputSchemas> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, config, sourceIds);
  } finally {
    await admin.disconnect();
  }
  const ids = await registerAll(registry, config, sourceIds);
  const id = (topic: string) => ids.get(subjectFor(topic))!;
  return {
    canonical: {
      'enforcement-case': id(DATASET_TOPICS['enforcement-case']),
      'hotline-ticket': id(DATASET_TOPICS['hotline-ticket']),
      'supervision-record': id(DATASET_TOPICS['supervision-record']),
    },
    dlq: id(DLQ_TOPIC),
  };
}
