import { Kafka, logLevel, LogEntry, Producer, ProducerConfig } from 'kafkajs';
import type { Config } from './config';
import { createLogger, Logger } from './log';

// kafkajs warns at every start that its default partitioner changed in 2.0; we choose it explicitly.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

const LEVELS: Record<number, 'debug' | 'info' | 'warn' | 'error' | null> = {
  [logLevel.NOTHING]: null,
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Sends kafkajs's own log lines through the hub's logger. */
/** Error texts of conditions kafkajs retries by itself. */
const TRANSIENT = ['another concurrent operation on the same transaction'];

function logCreator(logger: Logger) {
  return () =>
    ({ level, label, log }: LogEntry) => {
      const method = LEVELS[level];
      if (!method) return;
      const { message, ...fields } = log;
      // The broker answers CONCURRENT_TRANSACTIONS while it is still completing the previous
      // commit; kafkajs retries it and succeeds. Logged as an error it would alarm an operator.
      const transient = typeof fields.error === 'string' && TRANSIENT.some((text) => (fields.error as string).includes(text));
      logger[transient ? 'debug' : method](`kafkajs ${label}: ${message}`, fields);
    };
}

export interface KafkaOptions {
  clientId?: string;
  logger?: Logger;
  /** kafkajs log level; WARN by default, since INFO lines are per connection. */
  level?: logLevel;
}

/** A kafkajs client for the configured brokers. */
export function createKafka(config: Config, options: KafkaOptions = {}): Kafka {
  const logger = options.logger ?? createLogger({ component: 'kafka' });
  return new Kafka({
    clientId: options.clientId ?? config.kafka.client_id,
    brokers: config.kafka.brokers,
    connectionTimeout: 5000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: options.level ?? logLevel.WARN,
    logCreator: logCreator(logger),
  });
}

/**
 * An idempotent producer (acks=all, retried sends never duplicate), optionally
 * transactional. The broker tolerates up to 5 in-flight requests with idempotence.
 * Retries are unbounded (kafkajs's default for idempotence): a send that gave up could be
 * re-sent by its caller and duplicated. While the broker is unreachable a send therefore waits;
 * callers stop a stuck producer by disconnecting it.
 */
export function createProducer(kafka: Kafka, options: Pick<ProducerConfig, 'transactionalId' | 'transactionTimeout'> = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: options.transactionalId ? 1 : 5,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 30_000 },
    allowAutoTopicCreation: false,
    ...options,
  });
}

/** Readiness: the cluster answers and has a controller. Throws with the reason otherwise. */
export async function kafkaReady(kafka: Kafka): Promise<{ brokers: number; controller: number | null }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return { brokers: cluster.brokers.length, controller: cluster.controller };
  } finally {
    await admin.disconnect();
  }
}

/** Stay well under the broker's default 1 MiB limit on one record batch. */
export const MAX_REQUEST_BYTES = 512 * 1024;

/**
 * Splits topic messages into groups whose values and keys add up to at most `maxBytes`,
 * because kafkajs sends all messages of a partition as one record batch and the broker
 * refuses a batch above its `message.max.bytes`.
 */
export function chunkTopicMessages<M extends { key?: Buffer | string | null; value: Buffer | string | null }>(
  topicMessages: Array<{ topic: string; messages: M[] }>,
  maxBytes = MAX_REQUEST_BYTES,
): Array<Array<{ topic: string; messages: M[] }>> {
  const chunks: Array<Array<{ topic: string; messages: M[] }>> = [];
  let current: Array<{ topic: string; messages: M[] }> = [];
  let size = 0;
  for (const { topic, messages } of topicMessages) {
    let group: M[] = [];
    for (const message of messages) {
      const bytes = byteLength(message.value) + byteLength(message.key ?? null) + 64;
      if (size + bytes > maxBytes && (group.length > 0 || current.length > 0)) {
        if (group.length > 0) current.push({ topic, messages: group });
        chunks.push(current);
        current = [];
        group = [];
        size = 0;
      }
      group.push(message);
      size += bytes;
    }
    if (group.length > 0) current.push({ topic, messages: group });
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byteLength(value: Buffer | string | null): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** Messages grouped by topic, in their order, as `sendBatch` takes them. */
export function groupByTopic<M>(items: Iterable<{ topic: string; message: M }>): Array<{ topic: string; messages: M[] }> {
  const byTopic = new Map<string, M[]>();
  for (const { topic, message } of items) {
    const list = byTopic.get(topic);
    if (list) list.push(message);
    else byTopic.set(topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
