import type { Knex } from 'knex';
import { contentHash, CoreTable, coreRow } from './core-rows';
import { ident, LIVE_TARGET, qualified, WarehouseTarget } from './warehouse-target';

export interface UpsertResult {
  /** Versions new to history. */
  versions: number;
  /** Current rows inserted or moved to a newer version. */
  current: number;
}

export interface UpsertOptions {
  /** Schemas to write into; the live `core` by default. */
  target?: WarehouseTarget;
  /**
   * When the hub learned each record (ISO time, same order as the records): the canonical
   * message's timestamp, so that replaying the topics reproduces the same recorded times.
   * Missing or null: the transaction's time.
   */
  recordedAt?: ReadonlyArray<string | null>;
}

/** The statement for one table in one schema, built once: it depends only on the table's columns and schema. */
const statements = new Map<string, string>();

/**
 * One set-based statement per batch: the records travel as one jsonb array, are typed by
 * `jsonb_to_recordset`, appended to history (a version already there is skipped) and merged
 * into the current table. Within the batch the newest version of each id wins (on equal
 * `source_updated_at`, the later one in the log); against the table, only a newer
 * `source_updated_at` — or the same one with other content — replaces the current row, so a
 * late older version never overwrites a newer one.
 *
 * Recorded time is the time of the first message that carried a version, whichever batch it
 * came in: history keeps the first occurrence in log order (a re-send does not move it), and
 * the current row takes the recorded time of its version from history. The result does not
 * depend on how the log was cut into batches, so a rebuild that reads it in larger batches
 * reproduces the live tables.
 */
export function statementFor(table: CoreTable, target: WarehouseTarget = LIVE_TARGET): string {
  const key = `${target.core}\u0000${table.table}`;
  const cached = statements.get(key);
  if (cached) return cached;
  const id = ident(table.idColumn);
  const names = table.columns.map(([name]) => ident(name));
  const typed = table.columns.map(([name, type]) => `${ident(name)} ${type}`).join(', ');
  const current = qualified(target.core, table.table);
  const history = qualified(target.core, `${table.table}_history`);
  const sameVersion = (a: string, b: string) => `${a}.${id} = ${b}.${id} and ${a}.source_updated_at = ${b}.source_updated_at and ${a}.content_hash = ${b}.content_hash`;
  const sql = `
    with input as (
      select * from jsonb_to_recordset(?::jsonb) as r(seq integer, ${typed}, content_hash text, recorded_at timestamptz, record jsonb)
    ), firsts as (
      select distinct on (${id}, source_updated_at, content_hash) * from input order by ${id}, source_updated_at, content_hash, seq
    ), added as (
      insert into ${history} (${id}, source_updated_at, recorded_at, content_hash, record)
      select ${id}, source_updated_at, coalesce(recorded_at, now()), content_hash, record from firsts
      on conflict do nothing
      returning 1
    ), latest as (
      select distinct on (${id}) * from input order by ${id}, source_updated_at desc, seq desc
    ), merged as (
      insert into ${current} as cur (${names.join(', ')}, content_hash, recorded_at)
      select ${names.map((n) => `l.${n}`).join(', ')}, l.content_hash, coalesce(h.recorded_at, f.recorded_at, now())
      from latest l
      join firsts f on ${sameVersion('f', 'l')}
      left join ${history} h on ${sameVersion('h', 'l')}
      on conflict (${id}) do update set ${[...names, 'content_hash', 'recorded_at'].filter((n) => n !== id).map((n) => `${n} = excluded.${n}`).join(', ')}
      where excluded.source_updated_at > cur.source_updated_at
         or (excluded.source_updated_at = cur.source_updated_at and excluded.content_hash <> cur.content_hash)
      returning 1
    )
    select (select count(*) from added)::int as versions, (select count(*) from merged)::int as current`;
  statements.set(key, sql);
  return sql;
}

/** The batch's rows as the statement reads them: columns, content hash, recorded time and the whole record. */
export function batchRows(table: CoreTable, records: ReadonlyArray<Record<string, unknown>>, recordedAt?: ReadonlyArray<string | null>): string {
  if (recordedAt && recordedAt.length !== records.length) throw new RangeError(`${records.length} records but ${recordedAt.length} recorded times`);
  return JSON.stringify(records.map((record, seq) => ({ seq, ...coreRow(table, record), content_hash: contentHash(record), recorded_at: recordedAt?.[seq] ?? null, record })));
}

/** Applies canonical records of one dataset, in log order, inside the caller's transaction. */
export async function upsertRecords(trx: Knex | Knex.Transaction, table: CoreTable, records: ReadonlyArray<Record<string, unknown>>, options: UpsertOptions = {}): Promise<UpsertResult> {
  if (records.length === 0) return { versions: 0, current: 0 };
  const result = await trx.raw<{ rows: UpsertResult[] }>(statementFor(table, options.target), [batchRows(table, records, options.recordedAt)]);
  return result.rows[0];
}
