import type { Admin, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Logger } from '../../lib/log';
import { DATASET_TOPICS, rawTopic } from '../../schemas/catalog';

/**
 * The pipeline's figures as a scrape sees them, read from Kafka and PostgreSQL at most once per
 * `cacheMs` however often (and however many scrapers) ask:
 *
 * - records in: per source, the sum of `raw.<source>`'s partition high watermarks;
 * - records out: per dataset, the same over its canonical topic;
 * - open dead letters per source (ops.dlq);
 * - consumer lag: the normaliser's group (high watermark minus committed offset, over the raw
 *   topics) and each warehouse consumer (high watermark minus ops.consumer_offsets).
 *
 * High watermarks count offsets, not records: a topic written in Kafka transactions (the
 * canonical topics) also spends one offset per commit marker, so records out and the warehouse
 * lag read slightly high — by at most one per partition for the lag.
 */
export interface PipelineSnapshot {
  recordsIn: Map<string, number>;
  recordsOut: Map<string, number>;
  dlqOpen: Map<string, number>;
  /** `pipeline` (normaliser | warehouse) and consumer name → messages behind. */
  lag: Array<{ pipeline: 'normaliser' | 'warehouse'; consumer: string; messages: number }>;
  /** Which side answered this time; a side that did not keeps its previous figures out. */
  up: { kafka: boolean; postgres: boolean };
}

export interface PipelineReaderDeps {
  kafka: Kafka;
  db: Knex;
  logger: Logger;
  sourceIds: readonly string[];
  normaliserGroup: string;
  cacheMs?: number;
  timeoutMs?: number;
}

type Offsets = Map<number, { high: bigint; low: bigint }>;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const sum = (offsets: Offsets) => Number([...offsets.values()].reduce((a, o) => a + o.high, 0n));

export class PipelineReader {
  private admin: Promise<Admin> | null = null;
  private cached: { at: number; snapshot: Promise<PipelineSnapshot> } | null = null;

  constructor(private readonly deps: PipelineReaderDeps) {}

  /** The latest snapshot, read again when older than `cacheMs`; concurrent callers share one read. */
  snapshot(): Promise<PipelineSnapshot> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > (this.deps.cacheMs ?? 5000)) {
      this.cached = { at: now, snapshot: this.read() };
    }
    return this.cached.snapshot;
  }

  async stop(): Promise<void> {
    const connecting = this.admin;
    this.admin = null;
    const admin = await connecting?.catch(() => null);
    await admin?.disconnect();
  }

  private async read(): Promise<PipelineSnapshot> {
    const timeoutMs = this.deps.timeoutMs ?? 5000;
    const snapshot: PipelineSnapshot = { recordsIn: new Map(), recordsOut: new Map(), dlqOpen: new Map(), lag: [], up: { kafka: false, postgres: false } };
    const [kafka, pg] = await Promise.allSettled([
      withTimeout(this.readKafka(), timeoutMs, 'Kafka'),
      withTimeout(this.readPostgres(), timeoutMs, 'PostgreSQL'),
    ]);
    if (kafka.status === 'rejected') this.deps.logger.warn('metrics: Kafka figures unavailable', { err: kafka.reason });
    if (pg.status === 'rejected') this.deps.logger.warn('metrics: PostgreSQL figures unavailable', { err: pg.reason });
    const topics = kafka.status === 'fulfilled' ? kafka.value : null;
    const rows = pg.status === 'fulfilled' ? pg.value : null;
    if (topics) {
      snapshot.up.kafka = true;
      for (const id of this.deps.sourceIds) {
        const offsets = topics.raw.get(id);
        if (offsets) snapshot.recordsIn.set(id, sum(offsets));
      }
      for (const [dataset, topic] of Object.entries(DATASET_TOPICS)) {
        const offsets = topics.canonical.get(topic);
        if (offsets) snapshot.recordsOut.set(dataset, sum(offsets));
      }
      snapshot.lag.push({ pipeline: 'normaliser', consumer: this.deps.normaliserGroup, messages: topics.normaliserLag });
    }
    if (rows) {
      snapshot.up.postgres = true;
      snapshot.dlqOpen = rows.dlq;
      if (topics) {
        const behind = new Map<string, bigint>();
        for (const r of rows.offsets) {
          const high = topics.canonical.get(r.topic)?.get(r.partition)?.high;
          if (high === undefined) continue;
          const lag = high - BigInt(r.next_offset);
          behind.set(r.consumer, (behind.get(r.consumer) ?? 0n) + (lag > 0n ? lag : 0n));
        }
        for (const [consumer, lag] of behind) snapshot.lag.push({ pipeline: 'warehouse', consumer, messages: Number(lag) });
      }
    }
    return snapshot;
  }

  /** One admin client for the reader's life, connected on the first scrape (scrapes that time out share the attempt). */
  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.deps.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        async (err: unknown) => {
          this.admin = null;
          await admin.disconnect().catch(() => undefined);
          throw err;
        },
      );
    }
    return this.admin;
  }

  private async readKafka(): Promise<{ raw: Map<string, Offsets>; canonical: Map<string, Offsets>; normaliserLag: number }> {
    const admin = await this.connectedAdmin();
    // Asking for a topic that does not exist (a source nothing was sent from yet) makes kafkajs
    // retry for a long time: only existing topics are asked about.
    const existing = new Set(await admin.listTopics());
    const offsetsOf = async (topic: string): Promise<Offsets | null> => {
      if (!existing.has(topic)) return null;
      const parts = await admin.fetchTopicOffsets(topic);
      return new Map(parts.map((p) => [p.partition, { high: BigInt(p.high), low: BigInt(p.low) }]));
    };
    const raw = new Map<string, Offsets>();
    await Promise.all(this.deps.sourceIds.map(async (id) => {
      const o = await offsetsOf(rawTopic(id));
      if (o) raw.set(id, o);
    }));
    const canonical = new Map<string, Offsets>();
    await Promise.all(Object.values(DATASET_TOPICS).map(async (topic) => {
      const o = await offsetsOf(topic);
      if (o) canonical.set(topic, o);
    }));
    let normaliserLag = 0n;
    if (raw.size > 0) {
      const byTopic = new Map([...raw].map(([id, o]) => [rawTopic(id), o]));
      const committed = await admin.fetchOffsets({ groupId: this.deps.normaliserGroup, topics: [...byTopic.keys()] });
      for (const t of committed) {
        const offsets = byTopic.get(t.topic)!;
        for (const p of t.partitions) {
          const o = offsets.get(p.partition);
          if (!o) continue;
          // No committed offset yet: the group starts from the earliest record still kept.
          const from = BigInt(p.offset) >= 0n ? BigInt(p.offset) : o.low;
          if (o.high > from) normaliserLag += o.high - from;
        }
      }
    }
    return { raw, canonical, normaliserLag: Number(normaliserLag) };
  }

  private async readPostgres(): Promise<{ dlq: Map<string, number>; offsets: Array<{ consumer: string; topic: string; partition: number; next_offset: string }> }> {
    const { db } = this.deps;
    const dlq = await db('ops.dlq').where({ status: 'open' }).groupBy('source_id').select<Array<{ source_id: string; n: string }>>('source_id', db.raw('count(*) as n'));
    const offsets = await db('ops.consumer_offsets').whereIn('topic', Object.values(DATASET_TOPICS)).select<Array<{ consumer: string; topic: string; partition: number; next_offset: string }>>('consumer', 'topic', 'partition', 'next_offset');
    return { dlq: new Map(dlq.map((r) => [r.source_id, Number(r.n)])), offsets };
  }
}
