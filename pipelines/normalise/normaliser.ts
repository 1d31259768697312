import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/log';
import { rawTopic } from '../../schemas/catalog';
import type { SourceDefinition } from './mapping';
import { SeenVersions } from './seen-versions';
import type { NormaliseContext } from './normalise-record';
import { prepareTopicsAndSchemas, OutputSchemas } from '../topics';
import { normaliseMessages, outputCodec, produceInTransaction, transactionalProducer, validateRecord } from './outcomes';

export interface NormaliserStats {
  read: number;
  /** Identical re-sends of versions already normalised, skipped. */
  duplicates: number;
  canonical: number;
  dead: number;
  batches: number;
}

export interface NormaliserDeps {
  config: Config;
  kafka: Kafka;
  registry: SchemaRegistry;
  sources: Map<string, SourceDefinition>;
  piiSecret: string;
  logger: Logger;
  /**
   * Called when the consumer crashed for good (kafkajs will not restart it: a fenced producer,
   * a non-retriable error). A long-running process should exit non-zero rather than idle.
   */
  onFatal?: (err: Error) => void;
}

/** Reports a consumer's crash to `onFatal` when kafkajs gives up on it. */
export function watchCrash(consumer: Consumer, logger: Logger, name: string, onFatal?: (err: Error) => void): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error(`${name} consumer crashed`, { error: payload.error, restart: payload.restart });
    if (!payload.restart) onFatal?.(payload.error);
  });
}

/** What normalising needs besides the record, from the hub's configuration and sources. */
export function normaliseContext(deps: Pick<NormaliserDeps, 'config' | 'sources' | 'piiSecret'>): NormaliseContext {
  return {
    sources: deps.sources,
    piiSecret: deps.piiSecret,
    replyDeadlines: deps.config.domain.reply_deadlines as NormaliseContext['replyDeadlines'],
    validate: validateRecord,
  };
}

/**
 * The normaliser: consumes the raw topic of every configured source (read_committed), turns each batch into
 * canonical records and dead letters, and produces them together with the consumed offsets
 * in one Kafka transaction — exactly once from raw to canonical. A crash before the commit
 * aborts the transaction and the batch is read again; after it, nothing is read twice.
 */
export class Normaliser {
  readonly stats: NormaliserStats = { read: 0, duplicates: 0, canonical: 0, dead: 0, batches: 0 };
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private schemas: OutputSchemas | null = null;

  constructor(private readonly deps: NormaliserDeps) {}

  context(): NormaliseContext {
    return normaliseContext(this.deps);
  }

  async start(): Promise<void> {
    const { config, kafka, registry, logger } = this.deps;
    const sourceIds = [...this.deps.sources.keys()];
    this.schemas = await prepareTopicsAndSchemas(config, kafka, registry, sourceIds);
    const schemas = this.schemas;
    const codec = await outputCodec(registry, schemas);
    const seen = new SeenVersions(SeenVersions.topicFor(config));
    await seen.load(kafka, config);
    this.producer = transactionalProducer(kafka, config.normaliser.transactional_id);
    await this.producer.connect();
    const producer = this.producer;
    this.consumer = kafka.consumer({ groupId: config.normaliser.group_id, readUncommitted: false, sessionTimeout: config.normaliser.session_timeout_ms });
    watchCrash(this.consumer, logger, 'normaliser', this.deps.onFatal);
    await this.consumer.connect();
    // The raw topics of the configured sources: a raw topic without a definition has no mapping to apply.
    await this.consumer.subscribe({ topics: sourceIds.map(rawTopic), fromBeginning: true });
    const ctx = this.context();
    const groupId = config.normaliser.group_id;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const { outcomes: encoded, bookkeeping, duplicates } = await normaliseMessages(codec, schemas, ctx, batch.topic, batch.partition, batch.messages, seen);
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await produceInTransaction(producer, [...encoded, ...bookkeeping], { consumerGroupId: groupId, topic: batch.topic, partition: batch.partition, offset: next });
        seen.commit(bookkeeping);
        resolveOffset(batch.lastOffset());
        let dead = 0;
        for (const e of encoded) if (e.outcome.kind === 'dead') dead++;
        this.stats.read += batch.messages.length;
        this.stats.duplicates += duplicates;
        this.stats.dead += dead;
        this.stats.canonical += encoded.length - dead;
        this.stats.batches++;
        logger.debug('normalised batch', { topic: batch.topic, partition: batch.partition, records: encoded.length, dead });
        await heartbeat();
      },
    });
    logger.info('normaliser started', { sources: sourceIds.length, group: groupId });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.consumer = null;
    this.producer = null;
  }
}
