import type { Knex } from 'knex';
import { partitionKey, storeOffset } from './consumer-offsets';
import { copyPrivileges, dependentViews, replaceViewStatement } from './schema-copy';
import { sendStatements } from './statement-batch';
import { ident, WarehouseTarget } from './warehouse-target';

/**
 * The switch of a rebuild, in one PostgreSQL transaction: the rebuilt schemas take the live
 * names, the views that read the warehouse are re-pointed, and the live consumer's offsets
 * become the rebuild's. A live sink blocked on its offset row meanwhile resumes afterwards
 * with statements that name `core.x` and so write into the new tables, skipping the messages
 * the rebuild already applied (its stored offset moved past them).
 */

/** Next offset per partition, keyed `topic/partition`. */
export type Offsets = ReadonlyMap<string, bigint>;

/**
 * Partitions of the rebuilt topics (the keys of `lows`) where the rebuild is behind the live
 * consumer. A partition without a stored offset counts at its low watermark, where a sink
 * without one starts.
 */
export function partitionsBehind(rebuilt: Offsets, live: Offsets, lows: Offsets): string[] {
  const behind: string[] = [];
  for (const [key, low] of lows) {
    if ((rebuilt.get(key) ?? low) < (live.get(key) ?? low)) behind.push(key);
  }
  return behind.sort();
}

/** Every stored offset of a consumer, its rows locked FOR UPDATE until the transaction ends. */
export async function lockOffsets(trx: Knex.Transaction, consumer: string): Promise<Map<string, bigint>> {
  const rows = await trx('ops.consumer_offsets')
    .where({ consumer })
    .orderBy(['topic', 'partition'])
    .forUpdate()
    .select<Array<{ topic: string; partition: number; next_offset: string }>>('topic', 'partition', 'next_offset');
  return new Map(rows.map((r) => [partitionKey(r.topic, r.partition), BigInt(r.next_offset)]));
}

export interface SwitchPlan {
  live: WarehouseTarget;
  next: WarehouseTarget;
  /** Where the replaced schemas go: `core_old_<stamp>` / `link_old_<stamp>`. */
  old: WarehouseTarget;
  liveConsumer: string;
  rebuildConsumer: string;
  /** The rebuild's offsets, read under lock in the same transaction. */
  rebuilt: Offsets;
}

/**
 * Renames and re-points, inside the caller's transaction (which holds both consumers' offset
 * rows). Returns the views recreated.
 */
export async function switchSchemas(trx: Knex.Transaction, plan: SwitchPlan): Promise<string[]> {
  // Read with only pg_catalog on the path, view definitions name every table with its schema,
  // so once replayed after the rename they resolve to the new tables.
  await trx.raw('set local search_path = pg_catalog');
  const views = await dependentViews(trx, plan.live);
  await copyPrivileges(trx, plan.live, plan.next);
  for (const role of ['core', 'link'] as const) await trx.raw(`alter schema ${ident(plan.live[role])} rename to ${ident(plan.old[role])}`);
  for (const role of ['core', 'link'] as const) await trx.raw(`alter schema ${ident(plan.next[role])} rename to ${ident(plan.live[role])}`);
  // Definitions go as they are, not through knex, which would read a `?` in one (an operator, a string) as a placeholder.
  for (const view of views) await sendStatements(trx, [replaceViewStatement(view)]);
  for (const [key, next] of plan.rebuilt) {
    const cut = key.lastIndexOf('/');
    await storeOffset(trx, plan.liveConsumer, key.slice(0, cut), Number(key.slice(cut + 1)), next);
  }
  await trx('ops.consumer_offsets').where({ consumer: plan.rebuildConsumer }).delete();
  return views.map((v) => `${v.schema}.${v.name}`);
}
