import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Knex } from 'knex';
import type pg from 'pg';
import { AvroCodec } from '../../lib/avro-codec';
import type { Config } from '../../lib/config';
import { SinkError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { Dataset, DATASET_TOPICS } from '../../schemas/catalog';
import { watchCrash } from '../normalise/normaliser';
import { ensureTopics } from '../topics';
import { lockedOffset, lockOffsetSql, partitionKey, readOffsets, storeOffsetSql } from './consumer-offsets';
import { jsonTranscoder, NotTranscodable } from './avro-json';
import { Micros, micros } from './copy-binary';
import { CORE_TABLES, CoreTable } from './core-rows';
import { PartitionQueue } from './partition-queue';
import { linkingSteps } from './link-parties';
import { sendStatements } from './statement-batch';
import { copyStaged, StagedVersion, stagedVersion, stagingSql, statementFor } from './upsert-batch';
import { LIVE_TARGET, WarehouseTarget } from './warehouse-target';

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
  /** Milliseconds spent per phase of a batch, summed over batches (wall time: batches applied at once overlap). */
  phaseMs: Record<BatchPhase, number>;
}

/**
 * The phases of a batch: decoding its messages; beginning its transaction (a pool connection,
 * settings, the stored offset, the staging table); COPYing its rows into the staging table;
 * then, timed by PostgreSQL within one round trip, merging them, resolving parties, waiting for
 * the link turn, writing links and the offset; the rest of that round trip (the reply waiting
 * for this process's event loop); committing.
 */
export const BATCH_PHASES = ['decode', 'begin', 'stage', 'merge', 'parties', 'link_wait', 'links', 'reply', 'commit'] as const;
export type BatchPhase = (typeof BATCH_PHASES)[number];

interface PhaseClock {
  laps: Partial<Record<BatchPhase, number>>;
  /** Charges the time since the previous call to `phase`. */
  lap(phase: BatchPhase): void;
  /** Charges the time since the previous call to the parts measured elsewhere, and what they leave to `phase`. */
  split(phase: BatchPhase, parts: Partial<Record<BatchPhase, number>>): void;
}

function phaseClock(): PhaseClock {
  let last = performance.now();
  const laps: Partial<Record<BatchPhase, number>> = {};
  const charge = (phase: BatchPhase, ms: number) => (laps[phase] = (laps[phase] ?? 0) + ms);
  return {
    laps,
    lap(phase) {
      const now = performance.now();
      charge(phase, now - last);
      last = now;
    },
    split(phase, parts) {
      const now = performance.now();
      let rest = now - last;
      for (const [part, ms] of Object.entries(parts) as Array<[BatchPhase, number]>) {
        charge(part, ms);
        rest -= ms;
      }
      charge(phase, Math.max(0, rest));
      last = now;
    },
  };
}

/** A statement that reads PostgreSQL's clock (epoch milliseconds), put between the steps of a round trip to time them. */
const SERVER_CLOCK = 'select extract(epoch from clock_timestamp()) * 1000 as ms';
const serverMs = (result: pg.QueryResult): number => Number((result.rows[0] as { ms: string }).ms);

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
  /** Schemas to write into; the live `core`/`link` by default (a rebuild writes `core_next`/`link_next`). */
  target?: WarehouseTarget;
  /**
   * false: commit without waiting for the WAL flush. Safe where rows and offsets are both
   * disposable until a later synchronous commit (a rebuild before its switch): a crash loses
   * the last transactions whole, rows and offsets together, and they are read again.
   */
  synchronousCommit?: boolean;
  /**
   * The topic of each dataset; the canonical topics by default. Tests give topics of their own
   * (created beforehand) to replay only what they produced, as the shared topics hold every run's records.
   */
  topics?: Readonly<Record<Dataset, string>>;
}

/** A canonical message ready to apply: its offset, its version as the staging table takes it and when the hub learned it. */
interface Received {
  offset: bigint;
  version: StagedVersion;
  /** The message's timestamp (microseconds since PostgreSQL's epoch): when the normaliser produced the canonical record. */
  recordedAt: Micros | null;
}

/** A Kafka timestamp (milliseconds as text) as the staging table takes it; null when the message has none. */
function recordedAt(message: KafkaMessage): Micros | null {
  const ms = Number(message.timestamp);
  return Number.isFinite(ms) && ms > 0 ? micros(ms) : null;
}

const roundedLaps = (laps: Partial<Record<BatchPhase, number>>) => Object.fromEntries(Object.entries(laps).map(([phase, ms]) => [phase, Math.round(ms)]));

export const CANONICAL_TOPICS: readonly string[] = Object.values(DATASET_TOPICS);

/**
 * The warehouse sink: consumes the canonical topics (read_committed) in batches and applies
 * each batch in ONE PostgreSQL transaction — history appended, current rows merged by
 * source version, and the partition's next offset stored in ops.consumer_offsets. On start
 * (and on every rebalance) it seeks each assigned partition to its stored offset, so a crash
 * at any point neither loses nor double-applies a batch.
 *
 * The consumer hands each fetch's batches to a `PartitionQueue` and reads the next fetch while
 * they are applied: batches of different partitions (`warehouse.concurrent_batches`) at once,
 * each partition's in log order, each in its own transaction of a few round trips. Their links
 * are written one transaction at a time (the link turn, `linkTurnSql`), so each link statement
 * sees every batch committed before it.
 *
 * A row's recorded time is the canonical message's timestamp (when the normaliser produced
 * it), not the time of applying it, so replaying the topics reproduces it.
 *
 * @example
 *   const sink = new WarehouseSink({ config, kafka, registry, db, logger, consumer: 'warehouse' });
 *   await sink.start();   // runs until stop()
 */
export class WarehouseSink {
  readonly stats: WarehouseSinkStats = {
    read: 0,
    skipped: 0,
    versions: 0,
    current: 0,
    batches: 0,
    phaseMs: Object.fromEntries(BATCH_PHASES.map((phase) => [phase, 0])) as Record<BatchPhase, number>,
  };
  readonly consumerName: string;
  private consumer: Consumer | null = null;
  /** Next offset per partition as last committed to PostgreSQL by this process (or read at start). */
  private offsets = new Map<string, bigint>();
  private lows = new Map<string, bigint>();
  private readonly target: WarehouseTarget;
  private paused = false;
  private stopping = false;
  /** The batches handed over by the consumer, applied in the background; pause() and stop() wait for them. */
  private readonly queue: PartitionQueue;
  /** A batch that failed in the queue: thrown by every later handover until the sink is started again. */
  private failure: Error | null = null;
  private readonly datasetOf: ReadonlyMap<string, Dataset>;
  private readonly topics: readonly string[];
  /**
   * Each batch transaction's settings. Each statement is planned from statistics that lag a
   * fast-growing table: its estimated cost can trip JIT compilation, which took ~400 ms per
   * statement against a few ms of execution. A batch's sorts spill to disk under the default work_mem.
   */
  private readonly settings: string[];
  /** Per writer schema id: its transcoder, or null where the schema has none. */
  private readonly transcoders = new Map<number, ((body: Buffer) => StagedVersion) | null>();

  constructor(private readonly deps: WarehouseSinkDeps) {
    this.settings = ['set local jit = off', "set local work_mem = '64MB'", ...(deps.synchronousCommit === false ? ['set local synchronous_commit = off'] : [])];
    this.consumerName = deps.consumer ?? 'warehouse';
    const batches = deps.config.warehouse.concurrent_batches;
    // Up to one fetch's worth waiting behind those being applied.
    this.queue = new PartitionQueue(batches, 2 * batches);
    this.target = deps.target ?? LIVE_TARGET;
    const topics = deps.topics ?? DATASET_TOPICS;
    this.datasetOf = new Map(Object.entries(topics).map(([dataset, topic]) => [topic, dataset as Dataset]));
    this.topics = Object.values(topics);
  }

  async start(): Promise<void> {
    const { config, kafka, registry, db, logger } = this.deps;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, config, []);
      for (const topic of this.topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) this.lows.set(partitionKey(topic, p.partition), BigInt(p.low));
      }
    } finally {
      await admin.disconnect();
    }
    this.offsets = await readOffsets(db, this.consumerName);
    this.stopping = false;
    this.failure = null;
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
    // Batches already handed over stay queued and are applied in order: they follow what is
    // applied, and whatever is read again from here is skipped by the stored offset. Dropping
    // them instead would let a batch of a partition this sink no longer holds, still in
    // another broker's fetch, be applied after a gap.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          consumer.seek({ topic, partition, offset: this.resumeOffset(topic, partition).toString() });
        }
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // A fetch's batches are handed over to the queue, which applies them while the next fetch is read.
      partitionsConsumedConcurrently: config.warehouse.concurrent_batches,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        // After a failed batch nothing more is taken: every handover throws the failure into
        // kafkajs, as if it had happened in this call, and the consumer crashes; a restarted
        // sink reads on from the stored offsets.
        if (this.failure) throw this.failure;
        // Stale, paused, stopping or failed: leave the batch unresolved; it is fetched again from the same offset.
        const takes = () => batch.messages.length > 0 && isRunning() && !isStale() && !this.paused && !this.stopping && !this.failure;
        if (!takes()) return;
        await this.queue.room();
        if (!takes()) return;
        const { topic, partition, messages } = batch;
        const next = BigInt(batch.lastOffset()) + 1n;
        // Resolved now, so the next fetch reads on; what is applied is what PostgreSQL's stored offsets say.
        resolveOffset(batch.lastOffset());
        const applied = this.queue.add(partitionKey(topic, partition), async () => {
          try {
            await this.applyMessages(codec, topic, partition, messages, next);
          } catch (err) {
            // Before the queue moves on: no batch may be taken once one has failed.
            this.failed(topic, partition, err as Error);
            throw err;
          }
        });
        applied.catch(() => undefined); // reported by failed() and by the next handover
        await heartbeat();
      },
    });
    logger.info('warehouse sink started', { consumer: this.consumerName, stored_partitions: this.offsets.size });
  }

  /** One handed-over batch: its messages decoded, then applied in one transaction. */
  private async applyMessages(codec: AvroCodec, topic: string, partition: number, messages: KafkaMessage[], next: bigint): Promise<void> {
    const clock = phaseClock();
    const table = CORE_TABLES[this.datasetOf.get(topic)!];
    const records: Received[] = [];
    for (const m of messages) {
      if (!m.value) continue;
      const staged = this.stagedVersionOf(codec, table, m.value);
      records.push({ offset: BigInt(m.offset), version: staged instanceof Promise ? await staged : staged, recordedAt: recordedAt(m) });
    }
    clock.lap('decode');
    await this.apply(table, topic, partition, records, next, clock);
    this.offsets.set(partitionKey(topic, partition), next);
    this.stats.read += messages.length;
  }

  /**
   * A batch failed (its transaction rolled back; the queue drops its partition's later
   * batches): from now on every handover throws the error into kafkajs, which crashes the
   * consumer as it did for a failure inside `eachBatch` (`onFatal`). The partition is sought
   * back to its stored offset, so that a handover comes even if nothing else was fetched.
   */
  private failed(topic: string, partition: number, err: Error): void {
    const offset = this.resumeOffset(topic, partition);
    this.deps.logger.warn('warehouse batch failed; the sink stops, and reads the partition again from its stored offset when started again', {
      topic,
      partition,
      offset: offset.toString(),
      error: err.message,
    });
    this.failure ??= err;
    try {
      this.consumer?.seek({ topic, partition, offset: offset.toString() });
    } catch (seekErr) {
      // Stopped, or not yet joined: the next start or join seeks to the stored offsets anyway.
      this.deps.logger.debug('warehouse sink could not seek after a failed batch', { topic, partition, error: (seekErr as Error).message });
    }
  }

  /** Where a partition resumes: its offset as this sink last stored (or read) it, else the topic's low watermark. */
  private resumeOffset(topic: string, partition: number): bigint {
    const key = partitionKey(topic, partition);
    return this.offsets.get(key) ?? this.lows.get(key) ?? 0n;
  }

  /**
   * A canonical message as the staging table takes it. Transcoded from its Avro body straight
   * to the stored JSON and content hash where its writer's schema allows (`avro-json.ts`);
   * decoded and serialised otherwise, or when the transcoder refuses the record. Synchronous
   * once the schema is known: no promise per message.
   */
  private stagedVersionOf(codec: AvroCodec, table: CoreTable, value: Buffer): StagedVersion | Promise<StagedVersion> {
    const id = AvroCodec.schemaId(value);
    const transcode = this.transcoders.get(id);
    if (transcode === undefined) {
      return codec.load(id).then(() => {
        this.transcoders.set(id, jsonTranscoder(codec.writerType(id) as Type, table.idColumn));
        return this.stagedVersionOf(codec, table, value);
      });
    }
    if (transcode) {
      try {
        return transcode(AvroCodec.body(value));
      } catch (err) {
        if (!(err instanceof NotTranscodable)) throw err;
      }
    }
    const decoded = codec.decode(value);
    if (decoded instanceof Promise) return decoded.then((record) => stagedVersion(table, record as Record<string, unknown>));
    return stagedVersion(table, decoded as Record<string, unknown>);
  }

  /**
   * One transaction: skip what is already applied, merge the rest, store the next offset.
   * A transaction PostgreSQL rolled back to break a deadlock (possible between two batches of
   * one topic only if an id ever appears in two partitions, e.g. after partitions were added)
   * is run again, up to three times: it changed nothing.
   */
  private async apply(table: CoreTable, topic: string, partition: number, records: Received[], next: bigint, clock: PhaseClock): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.deps.db.transaction(async (trx) => {
          // Waits while a rebuild switches over (it holds these rows); the statements sent after
          // it are planned after the wait, so they name the tables that are live by then.
          const begun = await sendStatements(trx, [...this.settings, lockOffsetSql(this.consumerName, topic, partition, records[0]?.offset ?? next), ...stagingSql(table)]);
          const stored = lockedOffset(begun[this.settings.length]);
          clock.lap('begin');
          if (stored >= next) return { skipped: records.length, versions: 0, current: 0 };
          const fresh = records.filter((r) => r.offset >= stored);
          const storeNext = storeOffsetSql(this.consumerName, topic, partition, next);
          if (fresh.length === 0) {
            // Nothing to apply beyond the stored offset (messages without a value): move past them.
            await sendStatements(trx, [storeNext]);
            return { skipped: records.length, versions: 0, current: 0 };
          }
          await copyStaged(trx, table, fresh.map((r) => r.version), fresh.map((r) => r.recordedAt));
          clock.lap('stage');
          const ids = [...new Set(fresh.map((r) => r.version.id))];
          // The rest in one round trip: merge, parties, then links one transaction at a time
          // (the link turn, held to commit), and the offset. Server-side times between the steps.
          const steps: Array<readonly [BatchPhase, string[]]> = [
            ['merge', [statementFor(table, this.target)]],
            ...linkingSteps(table, ids, this.deps.config.warehouse.link_window_days, this.target).map(
              ([phase, statements]): [BatchPhase, string[]] => [phase, phase === 'links' ? [...statements, storeNext] : statements],
            ),
          ];
          const results = await sendStatements(trx, [SERVER_CLOCK, ...steps.flatMap(([, statements]) => [...statements, SERVER_CLOCK])]);
          const server: Partial<Record<BatchPhase, number>> = {};
          let at = 0;
          let last = serverMs(results[0]);
          for (const [phase, statements] of steps) {
            at += statements.length + 1;
            server[phase] = serverMs(results[at]) - last;
            last = serverMs(results[at]);
          }
          clock.split('reply', server);
          return { skipped: records.length - fresh.length, ...(results[1].rows[0] as { versions: number; current: number }) };
        });
        clock.lap('commit');
        this.stats.skipped += outcome.skipped;
        this.stats.versions += outcome.versions;
        this.stats.current += outcome.current;
        this.stats.batches++;
        for (const [phase, ms] of Object.entries(clock.laps)) this.stats.phaseMs[phase as BatchPhase] += ms;
        this.deps.logger.debug('warehouse batch applied', { topic, partition, rows: records.length, next_offset: next.toString(), ms: roundedLaps(clock.laps) });
        return;
      } catch (err) {
        const pgCode = (err as { code?: string }).code;
        if (attempt < 3 && (pgCode === '40P01' || pgCode === '40001')) {
          this.deps.logger.warn('warehouse batch rolled back by PostgreSQL, applying it again', { topic, partition, pg_code: pgCode, attempt });
          continue;
        }
        throw new SinkError(`warehouse batch ${topic}/${partition} up to offset ${next - 1n} failed: ${(err as Error).message}`, pgCode, err);
      }
    }
  }

  /**
   * Stops fetching and resolves once no batch is being applied: from then on this sink writes
   * nothing until resume(). The rebuild pauses its sink to compare and switch offsets.
   */
  async pause(): Promise<void> {
    this.paused = true;
    this.pauseFetching();
    await this.queue.idle();
  }

  /**
   * Pauses the consumer's fetching. kafkajs refuses to pause a consumer that crashed (as after a
   * failed batch), which fetches nothing anyway: stopping goes on regardless.
   */
  private pauseFetching(stopping = false): void {
    try {
      this.consumer?.pause(this.topics.map((topic) => ({ topic })));
    } catch (err) {
      if (!stopping && !this.failure) throw err;
    }
  }

  resume(): void {
    this.paused = false;
    this.consumer?.resume(this.topics.map((topic) => ({ topic })));
  }

  /** Stops fetching; the batches being applied are committed, those only queued are dropped (their offsets are not stored, so they are read again). */
  async stop(): Promise<void> {
    this.stopping = true;
    // No fetching meanwhile: batches are left unresolved while stopping, and would be fetched again at once.
    this.pauseFetching(true);
    this.queue.drop();
    await this.queue.idle();
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
