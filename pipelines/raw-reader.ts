import crypto from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Partitions whose reading ended because nothing more arrived, before a message at `to` was
 * seen. On a transactional topic the last offsets are commit markers, which are never delivered,
 * so this is normal there; on a raw topic (no transactions) it means the range was not fully read.
 */
export interface ReadReport {
  endedIdle: Array<{ partition: number; lastOffset: string | null; to: string }>;
}

/** A stretch of one partition to read: offsets `from` to `to`, both included. */
export interface PartitionRange {
  partition: number;
  from: string;
  to: string;
}

/**
 * Reads given offset ranges of a topic once, in order, with a throw-away consumer group
 * that commits nothing — for replays and dead-letter retries, which must not disturb the
 * normaliser's own group. Only committed (read_committed) messages are delivered.
 */
export async function readRanges(
  kafka: Kafka,
  topic: string,
  ranges: PartitionRange[],
  onBatch: (partition: number, messages: KafkaMessage[]) => Promise<void>,
  options: { idleMs?: number } = {},
): Promise<ReadReport> {
  const report: ReadReport = { endedIdle: [] };
  const wanted = ranges.filter((r) => BigInt(r.to) >= BigInt(r.from));
  if (wanted.length === 0) return report;
  const idleMs = options.idleMs ?? 2000;
  const state = new Map(wanted.map((r) => [r.partition, { range: r, lastActivity: 0, lastOffset: null as string | null }]));
  const consumer = kafka.consumer({ groupId: `liandong-reader-${crypto.randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 250 });
  let failure: unknown;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const done = (partition: number) => {
    state.delete(partition);
    try {
      consumer.pause([{ topic, partitions: [partition] }]);
    } catch {
      // The consumer is rejoining its group (after a crash it recovers from): nothing to pause
      // now, and the range is finished anyway — its later batches are ignored.
    }
    if (state.size === 0) finish();
  };
  // Transaction markers take offsets but never reach eachBatch: a range that ends in one is
  // finished once its partition's end lies inside the range and nothing more arrives.
  // Idleness counts only while no batch is being handled, so a slow handler never ends a range early.
  let watchdog: NodeJS.Timeout | undefined;
  let busy = false;
  let lastBusy = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    const now = Date.now();
    for (const s of state.values()) s.lastActivity ||= now;
    watchdog ??= setInterval(() => {
      if (busy) return;
      for (const [partition, s] of state) {
        if (s.lastActivity && Date.now() - Math.max(s.lastActivity, lastBusy) > idleMs) {
          report.endedIdle.push({ partition, lastOffset: s.lastOffset, to: s.range.to });
          done(partition);
        }
      }
    }, 100);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const s = state.get(batch.partition);
        if (!s) return;
        busy = true;
        try {
        const last = BigInt(s.range.to);
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= BigInt(s.range.from) && BigInt(m.offset) <= last);
        try {
          if (messages.length > 0) await onBatch(batch.partition, messages);
        } catch (err) {
          failure = err;
          finish();
          return;
        }
        await heartbeat();
        s.lastActivity = Date.now();
        s.lastOffset = batch.lastOffset();
        if (BigInt(batch.lastOffset()) >= last) done(batch.partition);
        } finally {
          busy = false;
          lastBusy = Date.now();
        }
      },
    });
    for (const range of wanted) consumer.seek({ topic, partition: range.partition, offset: range.from });
    await finished;
    if (failure) throw failure;
    return report;
  } finally {
    if (watchdog) clearInterval(watchdog);
    await consumer.disconnect();
  }
}

/** The offsets of the last message of each partition (high watermark − 1) and the first to read. */
export async function partitionRanges(kafka: Kafka, topic: string, from: 'earliest' | Date): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts =
      from === 'earliest'
        ? ends.map((e) => ({ partition: e.partition, offset: e.low }))
        : await admin.fetchTopicOffsetsByTimestamp(topic, from.getTime());
    return ends.map((end) => {
      const start = starts.find((s) => s.partition === end.partition);
      // fetchTopicOffsetsByTimestamp answers -1 (or the high watermark) when nothing is that new.
      const first = start && BigInt(start.offset) >= 0n ? start.offset : end.high;
      return { partition: end.partition, from: first, to: (BigInt(end.high) - 1n).toString() };
    });
  } finally {
    await admin.disconnect();
  }
}
