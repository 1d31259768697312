import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../../lib/config';
import { LiandongError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { DATASET_TOPICS, type Dataset } from '../../schemas/catalog';
import { partitionKey, readOffsets } from './consumer-offsets';
import { checkRebuildable, createCopy, dependentViews, SINK_TABLES } from './schema-copy';
import { WarehouseSink } from './sink-warehouse';
import { lockOffsets, Offsets, partitionsBehind, switchSchemas } from './switch-over';
import { ident, LIVE_TARGET, qualified, WarehouseTarget } from './warehouse-target';

/**
 * `liandong warehouse rebuild`: replays the canonical topics from their low watermarks into
 * fresh copies of the warehouse tables (`core_next`, `link_next`) with a sink of its own, and
 * once it has caught up with the live sink, swaps the copies in atomically (see switch-over.ts).
 * For when the model changes: a new column, a fixed mapping, a new link rule.
 *
 * The live sink keeps running throughout; it waits only for the switch transaction.
 *
 * @example
 *   const summary = await rebuildWarehouse(rt, { consumer: 'warehouse', onProgress: (p) => draw(p) });
 *   summary.tables;   // [{ table: 'core.enforcement_case', rows: 203114 }, …]
 */

export interface RebuildDeps {
  config: Config;
  kafka: Kafka;
  registry: SchemaRegistry;
  db: Knex;
  logger: Logger;
}

export interface RebuildOptions {
  /** The live sink's consumer name in ops.consumer_offsets; 'warehouse' by default. */
  consumer?: string;
  /** Keep the replaced schemas as `core_old_<stamp>` / `link_old_<stamp>` instead of dropping them. */
  keepOld?: boolean;
  onProgress?: (progress: RebuildProgress) => void;
  /** Aborting stops the replay before the switch; the copies are dropped, the live warehouse is untouched. */
  signal?: AbortSignal;
  /**
   * Called before each switch attempt (1, 2…) with the rebuild's sink paused: it applies
   * nothing until the attempt is over. Lets a test move the live sink ahead at that moment, to
   * see the attempt refused and retried; the CLI has no use for it.
   */
  beforeSwitchAttempt?: (attempt: number) => Promise<void>;
  /**
   * The topic of each dataset, as the live sink was given them; the canonical topics by default.
   * For tests with topics of their own (the CLI always rebuilds from the canonical topics).
   */
  topics?: Readonly<Record<Dataset, string>>;
}

export interface RebuildProgress {
  phase: 'prepare' | 'replay' | 'switch' | 'cleanup';
  /** Messages applied by the rebuild sink so far, over every canonical partition. */
  applied: number;
  /** Messages up to the high watermarks read when the replay started (grows as the switch waits for more). */
  total: number;
  /** Switch attempts made so far. */
  attempts: number;
  elapsedMs: number;
}

export interface RebuildSummary {
  consumer: string;
  /** Where the replaced schemas are, when kept (--keep-old, or they could not be dropped). */
  keptOld: WarehouseTarget | null;
  /** Why the replaced schemas were kept although --keep-old was not given (views still reading them, a failed drop). */
  keptBecause: string | null;
  tables: Array<{ table: string; rows: number }>;
  views: string[];
  messages: number;
  attempts: number;
  replayMs: number;
  switchMs: number;
  totalMs: number;
}

const NEXT: WarehouseTarget = Object.freeze({ core: 'core_next', link: 'link_next' });
const POLL_MS = 250;
/** How long a switch may wait for a lock (the live sink's batch, an analyst's query on a view) before trying again later. */
const LOCK_TIMEOUT = '15s';
/** After this many attempts that found the live sink ahead, hold it while the rebuild closes the gap. */
const ATTEMPTS_BEFORE_HOLDING = 5;
/** The longest the live sink is held waiting for the rebuild to close the gap. */
const HOLD_MS = 30_000;

/** A lock not granted in time, a deadlock: the switch rolled back whole and can be tried again. */
const POSTPONABLE = new Set(['55P03', '40P01']);

class Behind extends Error {
  constructor(readonly live: Offsets, readonly partitions: string[]) {
    super(`rebuild behind the live sink on ${partitions.join(', ')}`);
  }
}

export async function rebuildWarehouse(deps: RebuildDeps, options: RebuildOptions = {}): Promise<RebuildSummary> {
  const { db, logger } = deps;
  const consumer = options.consumer ?? 'warehouse';
  const rebuildConsumer = `${consumer}-rebuild`;
  const started = Date.now();
  let attempts = 0;
  let applied = 0;
  let total = 0;
  const report = (phase: RebuildProgress['phase']) => options.onProgress?.({ phase, applied, total, attempts, elapsedMs: Date.now() - started });
  const aborted = () => {
    if (options.signal?.aborted) throw new LiandongError('REBUILD_ABORTED', 'warehouse rebuild aborted before the switch; the live warehouse is unchanged');
  };

  const unlock = await lockRebuild(db);
  let sink: WarehouseSink | null = null;
  let switched = false;
  try {
    report('prepare');
    await checkRebuildable(db, LIVE_TARGET);
    const topics = options.topics ?? DATASET_TOPICS;
    const { lows, highs } = await watermarks(deps.kafka, Object.values(topics));
    total = sumOver(highs, lows);
    await createCopy(db, LIVE_TARGET, NEXT);
    // A previous rebuild that stopped part-way left its offsets: this one starts from the beginning.
    await db('ops.consumer_offsets').where({ consumer: rebuildConsumer }).delete();

    let fatal: Error | null = null;
    sink = new WarehouseSink({
      ...deps,
      consumer: rebuildConsumer,
      // A group of its own per run: offsets live in PostgreSQL, and a member left by an
      // interrupted rebuild would otherwise hold partitions until its session timed out.
      groupId: `liandong-${rebuildConsumer}-${started.toString(36)}`,
      target: NEXT,
      topics,
      synchronousCommit: false,
      logger: logger.child({ rebuild: true }),
      onFatal: (err) => {
        fatal = err;
      },
    });
    const replayStart = Date.now();
    await sink.start();
    logger.info('warehouse rebuild replaying', { consumer: rebuildConsumer, messages: total });

    /** Polls the rebuild's stored offsets until they reach `target` on every partition. */
    const catchUp = async (target: () => Promise<Offsets>, phase: RebuildProgress['phase']) => {
      for (;;) {
        if (fatal) throw new LiandongError('REBUILD_SINK_FAILED', `the rebuild's sink stopped: ${(fatal as Error).message}`, { cause: fatal });
        aborted();
        const rebuilt = await readOffsets(db, rebuildConsumer);
        applied = sumOver(rebuilt, lows);
        report(phase);
        if (partitionsBehind(rebuilt, await target(), lows).length === 0) return;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    // Caught up: at the high watermarks of the start, and at least where the live sink is now.
    await catchUp(async () => max(highs, await readOffsets(db, consumer)), 'replay');
    const replayMs = Date.now() - replayStart;

    const switchStart = Date.now();
    const old = oldSchemas(new Date());
    let views: string[] = [];
    let messages = 0;
    for (;;) {
      attempts++;
      report('switch');
      const hold = attempts > ATTEMPTS_BEFORE_HOLDING;
      try {
        await sink.pause();
        await options.beforeSwitchAttempt?.(attempts);
        views = await db.transaction(async (trx) => {
          await trx.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
          // From here the live sink waits at its next batch (it locks its offset row first).
          const live = await lockOffsets(trx, consumer);
          if (hold) {
            // The live sink kept moving ahead: hold it (bounded) while the rebuild closes the gap.
            sink!.resume();
            await waitWhileHolding(db, rebuildConsumer, live, lows, () => fatal);
            await sink!.pause();
          }
          const rebuilt = await lockOffsets(trx, rebuildConsumer);
          const behind = partitionsBehind(rebuilt, live, lows);
          if (behind.length > 0) throw new Behind(live, behind);
          messages = sumOver(rebuilt, lows);
          return switchSchemas(trx, { live: LIVE_TARGET, next: NEXT, old, liveConsumer: consumer, rebuildConsumer, rebuilt });
        });
        switched = true;
        break;
      } catch (err) {
        if (!(err instanceof Behind) && !POSTPONABLE.has((err as { code?: string }).code ?? '')) throw err;
        // The live sink moved on (or a lock was busy): let the rebuild follow, then try again.
        logger.info('warehouse rebuild switch postponed', { attempt: attempts, reason: (err as Error).message });
        sink.resume();
        const live = err instanceof Behind ? err.live : await readOffsets(db, consumer);
        total = Math.max(total, sumOver(live, lows));
        await catchUp(async () => live, 'switch');
      }
    }
    const switchMs = Date.now() - switchStart;
    logger.info('warehouse rebuild switched', { consumer, attempts, old, views });

    await sink.stop();
    sink = null;
    report('cleanup');
    const keptBecause = options.keepOld ? null : await dropOld(db, old, logger);
    const tables = await countRows(db);
    const keptOld = options.keepOld || keptBecause ? old : null;
    return { consumer, keptOld, keptBecause, tables, views, messages, attempts, replayMs, switchMs, totalMs: Date.now() - started };
  } finally {
    if (sink) await sink.stop().catch(() => undefined);
    if (!switched) await discardCopy(db, rebuildConsumer, logger);
    await unlock();
  }
}

/**
 * One rebuild at a time per database (the copies have fixed names): an advisory lock held on a
 * connection of its own, released when it closes, whatever happens to this process.
 */
async function lockRebuild(db: Knex): Promise<() => Promise<void>> {
  const settings = db.client.config.connection as pg.ClientConfig;
  const client = new pg.Client({ ...settings, application_name: 'liandong-warehouse-rebuild' });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ ok: boolean }>(`select pg_try_advisory_lock(hashtext('liandong:warehouse-rebuild')) as ok`);
  if (!rows[0].ok) {
    await client.end().catch(() => undefined);
    throw new LiandongError('REBUILD_IN_PROGRESS', 'another warehouse rebuild is running on this database');
  }
  return () => client.end().catch(() => undefined);
}

/**
 * The low and high watermarks of every partition, once it is certain the topics still hold
 * everything: a rebuild from a topic that deleted or compacted its beginning would silently
 * drop those records (and their history) from the warehouse it switches in.
 */
async function watermarks(kafka: Kafka, topics: readonly string[]): Promise<{ lows: Map<string, bigint>; highs: Map<string, bigint> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const problems: string[] = [];
    const { resources } = await admin.describeConfigs({
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'retention.bytes', 'cleanup.policy'] })),
      includeSynonyms: false,
    });
    for (const r of resources) {
      const config = new Map(r.configEntries.map((e) => [e.configName, e.configValue]));
      if (config.get('retention.ms') !== '-1' || config.get('retention.bytes') !== '-1' || config.get('cleanup.policy') !== 'delete') {
        problems.push(`${r.resourceName} does not keep everything (retention.ms=${config.get('retention.ms')}, retention.bytes=${config.get('retention.bytes')}, cleanup.policy=${config.get('cleanup.policy')})`);
      }
    }
    const lows = new Map<string, bigint>();
    const highs = new Map<string, bigint>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        lows.set(partitionKey(topic, p.partition), BigInt(p.low));
        highs.set(partitionKey(topic, p.partition), BigInt(p.high));
        if (BigInt(p.low) > 0n) problems.push(`${topic}/${p.partition} no longer starts at offset 0 (low watermark ${p.low})`);
      }
    }
    if (problems.length > 0) throw new LiandongError('REBUILD_UNSUPPORTED', `a rebuild would lose records the topics no longer hold:\n  ${problems.join('\n  ')}`);
    return { lows, highs };
  } finally {
    await admin.disconnect();
  }
}

/** Messages from the low watermarks up to `to`, over every partition of the rebuilt topics. */
function sumOver(to: Offsets, lows: Offsets): number {
  let sum = 0n;
  for (const [key, low] of lows) sum += (to.get(key) ?? low) - low;
  return Number(sum);
}

function max(a: Offsets, b: Offsets): Offsets {
  const out = new Map(a);
  for (const [key, value] of b) if (value > (out.get(key) ?? -1n)) out.set(key, value);
  return out;
}

/** Holding the live sink's rows: waits (bounded) for the rebuild, still running, to reach the frozen live offsets. */
async function waitWhileHolding(db: Knex, rebuildConsumer: string, live: Offsets, lows: Offsets, fatal: () => Error | null): Promise<void> {
  const deadline = Date.now() + HOLD_MS;
  while (Date.now() < deadline && !fatal()) {
    if (partitionsBehind(await readOffsets(db, rebuildConsumer), live, lows).length === 0) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** `core_old_20261127T041500Z`: when the schemas were replaced, in UTC. */
function oldSchemas(at: Date): WarehouseTarget {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').toLowerCase();
  return { core: `${LIVE_TARGET.core}_old_${stamp}`, link: `${LIVE_TARGET.link}_old_${stamp}` };
}

/**
 * Drops the replaced schemas, unless a view outside them still reads them (CASCADE would drop
 * that view too). The switch is done by then: a failure here keeps them and says why, it does
 * not fail the rebuild.
 */
async function dropOld(db: Knex, old: WarehouseTarget, logger: Logger): Promise<string | null> {
  try {
    const readers = (await dependentViews(db, old)).map((v) => `${v.schema}.${v.name}`);
    if (readers.length > 0) return `still read by ${readers.join(', ')}`;
    await db.raw(`drop schema ${ident(old.core)}, ${ident(old.link)} cascade`);
    return null;
  } catch (err) {
    logger.warn('could not drop the replaced warehouse schemas', { old, error: err });
    return `drop failed: ${(err as Error).message}`;
  }
}

/** After a failed or aborted rebuild: the copies and the rebuild's offsets go; the live warehouse was never touched. */
async function discardCopy(db: Knex, rebuildConsumer: string, logger: Logger): Promise<void> {
  try {
    await db.raw(`drop schema if exists ${ident(NEXT.core)}, ${ident(NEXT.link)} cascade`);
    await db('ops.consumer_offsets').where({ consumer: rebuildConsumer }).delete();
  } catch (err) {
    logger.warn('could not drop the rebuild copies; the next rebuild drops them', { error: err });
  }
}

async function countRows(db: Knex): Promise<Array<{ table: string; rows: number }>> {
  const out: Array<{ table: string; rows: number }> = [];
  for (const role of ['core', 'link'] as const) {
    for (const table of SINK_TABLES[role]) {
      const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(`select count(*)::int as n from ${qualified(LIVE_TARGET[role], table)}`);
      out.push({ table: `${LIVE_TARGET[role]}.${table}`, rows: rows[0].n });
    }
  }
  return out;
}
