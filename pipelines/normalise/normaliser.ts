import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Batch, Consumer, Kafka, Producer } from 'kafkajs';
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

/**
 * Groups the items that arrive together (kafkajs starts a fetch's partition batches in one go
 * when they may run at once) and hands each group to `apply` once: every `add` resolves when
 * its group was applied, or rejects with the group's error. Items added while a group is being
 * applied form the next group, applied after it.
 */
export class FetchGroups<T> {
  private open: Array<{ item: T; resolve: () => void; reject: (err: Error) => void }> | null = null;
  private previous: Promise<void> = Promise.resolve();

  constructor(private readonly apply: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        const group: NonNullable<FetchGroups<T>['open']> = (this.open = []);
        // Closes once the batches started in this turn of the event loop have all been added.
        setImmediate(() => {
          this.open = null;
          this.previous = this.previous.then(async () => {
            try {
              await this.apply(group.map((g) => g.item));
              for (const g of group) g.resolve();
            } catch (err) {
              for (const g of group) g.reject(err as Error);
            }
          });
        });
      }
      this.open.push({ item, resolve, reject });
    });
  }
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
 * The normaliser: consumes the raw topic of every configured source (read_committed), turns
 * each batch into canonical records and dead letters, and produces them together with the
 * consumed offsets in one Kafka transaction (shared by the partition batches of a fetch) —
 * exactly once from raw to canonical. A crash before the commit aborts the transaction and
 * its batches are read again; after it, nothing is read twice.
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
    // The partition batches whose eachBatch starts in the same turn of the event loop (those of
    // a fetch) go into one transaction: each transaction costs several round trips to the
    // transaction coordinator, and one per partition, applied one after the other, was most of a
    // record's way from raw topic to canonical topic. kafkajs heartbeats once per group then.
    const gather = new FetchGroups<Batch>(async (batches) => {
      const done: Array<{ batch: Batch } & Awaited<ReturnType<typeof normaliseMessages>>> = [];
      const inTransaction = new Map<string, string>();
      for (const batch of batches) done.push({ batch, ...(await normaliseMessages(codec, schemas, ctx, batch.topic, batch.partition, batch.messages, seen, inTransaction)) });
      await produceInTransaction(
        producer,
        done.flatMap(({ outcomes, bookkeeping }) => [...outcomes, ...bookkeeping]),
        { consumerGroupId: groupId, partitions: done.map(({ batch }) => ({ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() })) },
      );
      for (const { batch, outcomes, bookkeeping, duplicates } of done) {
        seen.commit(bookkeeping);
        let dead = 0;
        for (const e of outcomes) if (e.outcome.kind === 'dead') dead++;
        this.stats.read += batch.messages.length;
        this.stats.duplicates += duplicates;
        this.stats.dead += dead;
        this.stats.canonical += outcomes.length - dead;
        this.stats.batches++;
        logger.debug('normalised batch', { topic: batch.topic, partition: batch.partition, records: outcomes.length, dead, transaction_batches: done.length });
      }
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // All the partitions of a fetch at once, so they can share a transaction. A raw topic may
      // have more partitions than configured (created elsewhere, or grown): room to spare, as
      // an idle worker costs nothing; batches beyond it would only form a later transaction.
      partitionsConsumedConcurrently: Math.max(64, 4 * sourceIds.length * config.topics.partitions),
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        await gather.add(batch);
        resolveOffset(batch.lastOffset());
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
