import crypto from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Knex } from 'knex';
import type { Logger } from '../../../lib/log';
import { DATASET_TOPICS } from '../../../schemas/catalog';
import { FieldProjection } from './projection';
import { isReceiptId, oldestUnsettled, recordCanonical, recordPositions, type CanonicalFate, type RawPosition } from './receipt-store';

/** Producers' and the hub's clocks may disagree this much: a restart positions this far before the oldest unsettled receipt. */
const CLOCK_MARGIN_MS = 5 * 60_000;
const RESTART_AFTER_MS = 5000;

export interface FateTrackerDeps {
  kafka: Kafka;
  registry: SchemaRegistry;
  db: Knex;
  logger: Logger;
  /** Raw topics of the push sources. */
  pushTopics: readonly string[];
  /** Prefix of the consumer group; the group adds a digest of the push topics it follows. */
  groupPrefix: string;
  /** Raw topics keep this long; nothing older can still be read. */
  rawRetentionMs: number;
}

/**
 * Follows pushed records to their fate. One consumer (read_committed, a group of its own) reads
 *
 * - the push sources' raw topics: each envelope whose run id is a receipt id gives that receipt
 *   record its raw position (the first copy wins when a lost send was sent again);
 * - the canonical topics: each record whose lineage points into a push topic gives that raw
 *   position its canonical record id (ops.ingest_canonical).
 *
 * Dead letters need nothing here: ops.dlq is keyed by raw position already. Offsets are
 * committed after the rows are written, and every write is an idempotent upsert, so a crash
 * repeats a batch harmlessly. A group that has no offset for a partition (first start, a new push
 * source) starts at the oldest receipt still unsettled, found by time, not at the beginning of
 * topics that hold millions of other sources' records.
 */
export class FateTracker {
  readonly groupId: string;
  private consumer: Consumer | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly pushTopics: Set<string>;
  private readonly datasetOf = new Map<string, string>(Object.entries(DATASET_TOPICS).map(([dataset, topic]) => [topic, dataset]));
  private readonly lineage: FieldProjection;
  private readonly envelope: FieldProjection;

  constructor(private readonly deps: FateTrackerDeps) {
    this.pushTopics = new Set(deps.pushTopics);
    // Members of one group must follow the same topics; a hub with other push sources gets another group.
    const digest = crypto.createHash('sha256').update([...this.pushTopics].sort().join('\n')).digest('hex').slice(0, 8);
    this.groupId = `${deps.groupPrefix}-receipts-${digest}`;
    this.lineage = new FieldProjection(deps.registry, ['lineage']);
    this.envelope = new FieldProjection(deps.registry, ['record_key', 'payload_sha256', 'run_id']);
  }

  /**
   * Starts following in the background and returns at once: joining a group can wait for other
   * members, and the API must not wait for that. A failed start is retried until `stop`.
   */
  start(): void {
    this.stopped = false;
    this.starting = this.run().catch((err) => {
      this.deps.logger.error('receipt tracker did not start; retrying', { group: this.groupId, error: err });
      this.scheduleRestart();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.starting;
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = null;
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.consumer?.disconnect().catch(() => undefined);
      this.consumer = null;
      this.start();
    }, RESTART_AFTER_MS);
  }

  private async run(): Promise<void> {
    const { kafka, logger } = this.deps;
    const topics = [...Object.values(DATASET_TOPICS), ...this.pushTopics];
    await this.positionNewPartitions(topics);
    if (this.stopped) return;
    const consumer = kafka.consumer({ groupId: this.groupId, readUncommitted: false });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      logger.error('receipt tracker consumer crashed', { group: this.groupId, error: payload.error, restart: payload.restart });
      if (!payload.restart) this.scheduleRestart();
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        if (batch.messages.length === 0) return;
        const dataset = this.datasetOf.get(batch.topic);
        if (dataset) await this.onCanonical(dataset, batch.messages);
        else if (this.pushTopics.has(batch.topic)) await this.onRaw(batch.topic, batch.partition, batch.messages);
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
    logger.info('receipt tracker running', { group: this.groupId, push_topics: this.pushTopics.size });
  }

  private async onCanonical(dataset: string, messages: KafkaMessage[]): Promise<void> {
    const fates: CanonicalFate[] = [];
    for (const m of messages) {
      if (!m.value || !m.key) continue;
      const decoded = await this.decode(this.lineage, m.value);
      const lineage = decoded?.lineage as { raw_topic: string; raw_partition: number; raw_offset: number } | undefined;
      if (!lineage || !this.pushTopics.has(lineage.raw_topic)) continue;
      fates.push({ rawTopic: lineage.raw_topic, rawPartition: lineage.raw_partition, rawOffset: String(lineage.raw_offset), dataset, recordId: m.key.toString('utf8') });
    }
    await recordCanonical(this.deps.db, fates);
  }

  private async onRaw(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const positions: RawPosition[] = [];
    for (const m of messages) {
      if (!m.value) continue;
      const e = (await this.decode(this.envelope, m.value)) as { record_key?: string; payload_sha256?: string; run_id?: string } | null;
      if (!e?.run_id || !isReceiptId(e.run_id) || !e.record_key || !e.payload_sha256) continue;
      positions.push({ receiptId: e.run_id, rawTopic: topic, recordKey: e.record_key, sha256: e.payload_sha256, rawPartition: partition, rawOffset: m.offset });
    }
    await recordPositions(this.deps.db, positions);
  }

  /** A message that is not a registered Avro record is not ours to follow (the normaliser dead-letters it). */
  private async decode(projection: FieldProjection, value: Buffer): Promise<Record<string, unknown> | null> {
    try {
      return await projection.decode(value);
    } catch {
      return null;
    }
  }

  /**
   * Partitions the group has no committed offset for start at the oldest receipt not yet
   * settled (minus a clock margin), never before the raw retention; with nothing unsettled, a
   * few minutes back. Skipped when other members are running: they own the positions.
   */
  private async positionNewPartitions(topics: string[]): Promise<void> {
    const { kafka, db, logger } = this.deps;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId: this.groupId, topics });
      const missing = committed.map((t) => ({ topic: t.topic, partitions: t.partitions.filter((p) => p.offset === '-1').map((p) => p.partition) })).filter((t) => t.partitions.length > 0);
      if (missing.length === 0) return;
      const now = Date.now();
      const retained = now - this.deps.rawRetentionMs;
      const unsettled = await oldestUnsettled(db, [...this.pushTopics], new Date(retained));
      const at = Math.max((unsettled?.getTime() ?? now) - CLOCK_MARGIN_MS, retained);
      for (const { topic, partitions } of missing) {
        const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, at);
        try {
          await admin.setOffsets({ groupId: this.groupId, topic, partitions: offsets.filter((o) => partitions.includes(o.partition)) });
        } catch (err) {
          logger.info('receipt tracker group is active elsewhere; keeping its positions', { group: this.groupId, topic, error: err });
          return;
        }
      }
      logger.info('receipt tracker positioned new partitions', { group: this.groupId, from: new Date(at).toISOString(), topics: missing.length });
    } finally {
      await admin.disconnect();
    }
  }
}
