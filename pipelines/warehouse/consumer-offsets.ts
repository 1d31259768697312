import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type pg from 'pg';
import { sendStatements, textLiteral } from './statement-batch';

/**
 * ops.consumer_offsets: the next Kafka offset each warehouse consumer will apply, per
 * partition. It is written in the transaction that writes the rows, so it is exactly what the
 * warehouse holds; Kafka's own committed offsets play no part.
 */

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/** Every stored offset of a consumer, keyed `topic/partition`. */
export async function readOffsets(db: Knex, consumer: string): Promise<Map<string, bigint>> {
  const rows = await db('ops.consumer_offsets').where({ consumer }).select<Array<{ topic: string; partition: number; next_offset: string }>>('topic', 'partition', 'next_offset');
  return new Map(rows.map((r) => [partitionKey(r.topic, r.partition), BigInt(r.next_offset)]));
}

/** The primary key's values of one partition's row, as SQL literals. */
function rowKey(consumer: string, topic: string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`partition ${partition} is not a partition number`);
  return `${textLiteral(consumer)}, ${textLiteral(topic)}, ${partition}`;
}

/**
 * The stored offset of one partition, row-locked until the transaction ends: two sink
 * instances that both hold the partition during a rebalance then apply its messages once,
 * and a rebuild's switch-over (which locks every offset row of the consumer) waits for the
 * batch or the batch for it. A partition without a row yet gets one at `first`, the batch's
 * first offset (where a sink without a stored offset starts), so there is always a row to lock.
 *
 * One statement, returning the `next_offset` it locked: the upsert that finds the row locks it,
 * waits if another transaction holds it, and then returns the value that transaction committed.
 */
export const lockOffsetSql = (consumer: string, topic: string, partition: number, first: bigint): string =>
  `insert into ops.consumer_offsets as o (consumer, topic, partition, next_offset, updated_at) values (${rowKey(consumer, topic, partition)}, ${first}, now())
   on conflict (consumer, topic, partition) do update set next_offset = o.next_offset
   returning next_offset`;

/** `lockOffsetSql`'s stored offset from its result. */
export const lockedOffset = (result: pg.QueryResult): bigint => BigInt((result.rows[0] as { next_offset: string }).next_offset);

export async function lockOffset(trx: Knex.Transaction, consumer: string, topic: string, partition: number, first: bigint): Promise<bigint> {
  const [locked] = await sendStatements(trx, [lockOffsetSql(consumer, topic, partition, first)]);
  return lockedOffset(locked);
}

/** Stores a partition's next offset; `values` are the consumer, topic, partition and offset, as literals or placeholders. */
const storeOffsetStatement = (values: string): string =>
  `insert into ops.consumer_offsets (consumer, topic, partition, next_offset, updated_at) values (${values}, now())
   on conflict (consumer, topic, partition) do update set next_offset = excluded.next_offset, updated_at = excluded.updated_at`;

export const storeOffsetSql = (consumer: string, topic: string, partition: number, next: bigint): string => storeOffsetStatement(`${rowKey(consumer, topic, partition)}, ${next}`);

export async function storeOffset(trx: Knex | Knex.Transaction, consumer: string, topic: string, partition: number, next: bigint): Promise<void> {
  await trx.raw(storeOffsetStatement('?, ?, ?, ?'), [consumer, topic, partition, next.toString()]);
}

/**
 * Positions a consumer at the current end of the topics, so it applies only what arrives
 * from now on (a fresh warehouse that must not replay a long backlog, a test run).
 */
export async function positionAtEnd(db: Knex, kafka: Kafka, consumer: string, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) await storeOffset(db, consumer, topic, p.partition, BigInt(p.high));
    }
  } finally {
    await admin.disconnect();
  }
}
