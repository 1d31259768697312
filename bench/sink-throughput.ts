import fs from 'node:fs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Config } from '../lib/config';
import { createLogger } from '../lib/log';
import { partitionKey, readOffsets } from '../pipelines/warehouse/consumer-offsets';
import { CANONICAL_TOPICS, WarehouseSink, WarehouseSinkStats } from '../pipelines/warehouse/sink-warehouse';

/** The high watermark of every canonical partition, keyed `topic/partition` like ops.consumer_offsets. */
export async function canonicalEnds(kafka: Kafka): Promise<Map<string, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, bigint>();
    for (const topic of CANONICAL_TOPICS) for (const p of await admin.fetchTopicOffsets(topic)) ends.set(partitionKey(topic, p.partition), BigInt(p.high));
    return ends;
  } finally {
    await admin.disconnect();
  }
}

export interface SinkRun {
  /** Messages the sink had applied when it was last seen to progress (all of them unless `partial`). */
  rows: number;
  /** Messages between the starting and the target offsets. */
  target: number;
  /** From the consumer's group join to the poll that last saw the stored offsets advance. */
  seconds: number;
  /** From `start()` to that same poll: connection, topic check and group join included. */
  totalSeconds: number;
  /** The budget ran out before the sink reached the target offsets. */
  partial: boolean;
  /** Group joins: more than one means the member was evicted (a batch outlasted the session timeout) and rejoined. */
  joins: number;
  /** From the group join to the end of the measurement (the last poll): what `cpuSeconds` covers. */
  wallSeconds: number;
  /** Share of the machine's CPU time (every core) that was busy while the sink ran, from /proc/stat; null where there is none. */
  machineBusy: number | null;
  /** CPU time of this process while the sink ran (user + system): the sink's JavaScript, Kafka client and pg client. */
  cpuSeconds: number;
  /**
   * CPU time of the machine's PostgreSQL processes meanwhile (Linux's /proc; null elsewhere):
   * what the sink's statements cost the server, plus its background work. A process that
   * ended in between (an autovacuum worker) is not counted.
   */
  postgresCpuSeconds: number | null;
  stats: WarehouseSinkStats;
}

/** The machine's CPU time so far, every core, in clock ticks: busy and in all (Linux's /proc/stat); null elsewhere. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const ticks = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = ticks[3] + (ticks[4] ?? 0);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** CPU time so far of each running PostgreSQL process, in clock ticks, by pid; null without /proc. */
function postgresCpu(): Map<number, number> | null {
  try {
    const ticks = new Map<number, number>();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      // "pid (comm) state …": the fields after the command's closing parenthesis; utime and stime are the 14th and 15th of the line.
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    }
    return ticks;
  } catch {
    return null;
  }
}

/** Seconds of CPU the PostgreSQL processes alive at both snapshots (or started since) used between them. */
function postgresCpuBetween(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let ticks = 0;
  for (const [pid, now] of after) ticks += now - (before.get(pid) ?? 0);
  return ticks / CLOCK_TICKS;
}

/** Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/**
 * Runs the real WarehouseSink in this process until its stored offsets reach `targets`, or
 * until `budgetMs` has passed (the sink slows down as the warehouse grows; a bench that must
 * finish then reports the rate over what was applied). Time starts at the group join (the
 * sink seeks and fetches right after it): the join waits out the broker's initial rebalance
 * delay, which says nothing about the sink.
 */
export async function measureSink(
  deps: { config: Config; kafka: Kafka; registry: SchemaRegistry; db: Knex; consumer: string },
  starts: ReadonlyMap<string, bigint>,
  targets: ReadonlyMap<string, bigint>,
  budgetMs: number,
): Promise<SinkRun> {
  let joinedAt = 0;
  let machineAtJoin = machineCpu();
  let postgresAtJoin = postgresCpu();
  let joins = 0;
  // The sink builds its consumer from the Kafka client it is given: hand it one that notes the joins.
  const observed = Object.assign(Object.create(deps.kafka) as Kafka, {
    consumer: (cfg: ConsumerConfig) => {
      const consumer = deps.kafka.consumer(cfg);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joins++;
        if (!joinedAt) {
          joinedAt = Date.now();
          machineAtJoin = machineCpu();
          postgresAtJoin = postgresCpu();
        }
      });
      return consumer;
    },
  });
  let fatal: Error | null = null;
  const sink = new WarehouseSink({
    config: deps.config,
    kafka: observed,
    registry: deps.registry,
    db: deps.db,
    logger: createLogger({ bench: 'warehouse-sink' }, { level: 'warn' }),
    consumer: deps.consumer,
    groupId: `${deps.consumer}-group`,
    onFatal: (err) => {
      fatal = err;
    },
  });
  const target = [...targets].reduce((sum, [key, end]) => sum + Number(end - (starts.get(key) ?? 0n)), 0);
  const applied = (stored: Map<string, bigint>) =>
    [...targets].reduce((sum, [key, end]) => {
      const from = starts.get(key) ?? 0n;
      const at = stored.get(key) ?? from;
      return sum + Number((at < end ? at : end) - from);
    }, 0);
  const cpuBefore = process.cpuUsage();
  const startedAt = Date.now();
  try {
    await sink.start();
    const giveUp = startedAt + budgetMs;
    let last = { rows: 0, at: startedAt };
    while (true) {
      const stored = await readOffsets(deps.db, deps.consumer);
      const rows = applied(stored);
      if (rows > last.rows) last = { rows, at: Date.now() };
      if (rows >= target) break;
      if (fatal) throw new Error(`the warehouse sink crashed: ${(fatal as Error).message}`);
      if (Date.now() > giveUp) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const from = joinedAt || startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    const machine = machineCpu();
    const postgresCpuSeconds = postgresCpuBetween(postgresAtJoin, postgresCpu());
    return {
      postgresCpuSeconds,
      wallSeconds: (Date.now() - from) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      machineBusy: machine && machineAtJoin ? (machine.busy - machineAtJoin.busy) / Math.max(1, machine.total - machineAtJoin.total) : null,
      rows: last.rows,
      target,
      seconds: (last.at - from) / 1000,
      totalSeconds: (last.at - startedAt) / 1000,
      partial: last.rows < target,
      joins,
      stats: { ...sink.stats, phaseMs: { ...sink.stats.phaseMs } },
    };
  } finally {
    // Waits for the batch in flight, if any: its transaction commits or rolls back before the bench goes on.
    await sink.stop();
  }
}
