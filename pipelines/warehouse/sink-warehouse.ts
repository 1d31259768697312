import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Knex } from 'knex';
import { AvroCodec } from '../../lib/avro-codec';
import type { Config } from '../../lib/config';
import { SinkError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { Dataset, DATASET_TOPICS } from '../../schemas/catalog';
import { watchCrash } from '../normalise/normaliser';
import { ensureTopics } from '../topics';
import { lockOffset, partitionKey, readOffsets, storeOffset } from './consumer-offsets';
import { CORE_TABLES } from './core-rows';
import { linkTouched } from './link-parties';
import { upsertRecords } from './upsert-batch';

export interface WarehouseSinkStats {
  /** Messages fetched from Kafka. */
  read: number;
  /** Messages found already applied (below the stored offset) and skipped. */
  skipped: number;
  /** Versions new to history. */
  versions: number;
  /** Current rows inserted or moved to a newer version. */
  current: number;
  /** PostgreSQL transactions committed. */
  batches: number;
}

export interface WarehouseSinkDeps {
  config: Config;
  kafka: Kafka;
  registry: SchemaRegistry;
  db: Knex;
  logger: Logger;
  /** Called when the consumer crashed for good; a long-running process should exit. */
  onFatal?: (err: Error) => void;
  /** Name of this warehouse consumer in ops.consumer_offsets; 'warehouse' by default. */
  consumer?: string;
  /** Kafka group; only spreads partitions over instances (offsets live in PostgreSQL). */
  groupId?: string;
  sessionTimeoutMs?: number;
}

const DATASET_OF_TOPIC = new Map<string, Dataset>(Object.entries(DATASET_TOPICS).map(([dataset, topic]) => [topic, dataset as Dataset]));
export const CANONICAL_TOPICS: readonly string[] = Object.values(DATASET_TOPICS);

/**
 * The warehouse sink: consumes the canonical topics (read_committed) in batches and applies
 * each batch in ONE PostgreSQL transaction — history appended, current rows merged by
 * source version, and the partition's next offset stored in ops.consumer_offsets. On start
 * (and on every rebalance) it seeks each assigned partition to its stored offset, so a crash
 * at any point neither loses nor double-applies a batch.
 *
 * @example
 *   const sink = new WarehouseSink({ config, kafka, registry, db, logger, consumer: 'warehouse' });
 *   await sink.start();   // runs until stop()
 */
export class WarehouseSink {
  readonly stats: WarehouseSinkStats = { read: 0, skipped: 0, versions: 0, current: 0, batches: 0 };
  readonly consumerName: string;
  private consumer: Consumer | null = null;
  /** Next offset per partition as last committed to PostgreSQL by this process (or read at start). */
  private offsets = new Map<string, bigint>();
  private lows = new Map<string, bigint>();

  constructor(private readonly deps: WarehouseSinkDeps) {
    this.consumerName = deps.consumer ?? 'warehouse';
  }

  async start(): Promise<void> {
    const { config, kafka, registry, db, logger } = this.deps;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, config, []);
      for (const topic of CANONICAL_TOPICS) {
        for (const p of await admin.fetchTopicOffsets(topic)) this.lows.set(partitionKey(topic, p.partition), BigInt(p.low));
      }
    } finally {
      await admin.disconnect();
    }
    this.offsets = await readOffsets(db, this.consumerName);
    const codec = new AvroCodec(registry);
    const consumer = kafka.consumer({
      groupId: this.deps.groupId ?? `liandong-${this.consumerName}`,
      readUncommitted: false,
      sessionTimeout: this.deps.sessionTimeoutMs ?? config.normaliser.session_timeout_ms,
      // Larger fetches make larger transactions: fewer commits per row.
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
    });
    this.consumer = consumer;
    watchCrash(consumer, logger, 'warehouse sink', this.deps.onFatal);
    // The stored offsets, not Kafka's, say where each partition resumes; seek is applied before the first fetch.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const key = partitionKey(topic, partition);
          const offset = this.offsets.get(key) ?? this.lows.get(key) ?? 0n;
          consumer.seek({ topic, partition, offset: offset.toString() });
        }
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...CANONICAL_TOPICS], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const records: Array<{ offset: bigint; record: Record<string, unknown> }> = [];
        for (const m of batch.messages) {
          if (!m.value) continue;
          records.push({ offset: BigInt(m.offset), record: await this.decode(codec, m) });
        }
        const next = BigInt(batch.lastOffset()) + 1n;
        await this.apply(batch.topic, batch.partition, records, next);
        this.offsets.set(partitionKey(batch.topic, batch.partition), next);
        resolveOffset(batch.lastOffset());
        this.stats.read += batch.messages.length;
        await heartbeat();
      },
    });
    logger.info('warehouse sink started', { consumer: this.consumerName, stored_partitions: this.offsets.size });
  }

  private async decode(codec: AvroCodec, message: KafkaMessage): Promise<Record<string, unknown>> {
    const decoded = codec.decode(message.value!);
    return (decoded instanceof Promise ? await decoded : decoded) as Record<string, unknown>;
  }

  /** One transaction: skip what is already applied, merge the rest, store the next offset. */
  private async apply(topic: string, partition: number, records: Array<{ offset: bigint; record: Record<string, unknown> }>, next: bigint): Promise<void> {
    const table = CORE_TABLES[DATASET_OF_TOPIC.get(topic)!];
    try {
      await this.deps.db.transaction(async (trx) => {
        const stored = await lockOffset(trx, this.consumerName, topic, partition);
        if (stored !== null && stored >= next) {
          this.stats.skipped += records.length;
          return;
        }
        const fresh = stored === null ? records : records.filter((r) => r.offset >= stored);
        this.stats.skipped += records.length - fresh.length;
        const result = await upsertRecords(trx, table, fresh.map((r) => r.record));
        const ids = [...new Set(fresh.map((r) => String(r.record[table.idColumn])))];
        await linkTouched(trx, table, ids, this.deps.config.warehouse.link_window_days);
        await storeOffset(trx, this.consumerName, topic, partition, next);
        this.stats.versions += result.versions;
        this.stats.current += result.current;
      });
      this.stats.batches++;
    } catch (err) {
      const pgCode = (err as { code?: string }).code;
      throw new SinkError(`warehouse batch ${topic}/${partition} up to offset ${next - 1n} failed: ${(err as Error).message}`, pgCode, err);
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
