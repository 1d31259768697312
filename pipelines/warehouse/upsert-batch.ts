import type { Knex } from 'knex';
import { contentHash, CoreTable, coreRow } from './core-rows';

export interface UpsertResult {
  /** Versions new to history. */
  versions: number;
  /** Current rows inserted or moved to a newer version. */
  current: number;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The statement for one table, built once: it depends only on the table's columns. */
const statements = new Map<string, string>();

/**
 * One set-based statement per batch: the records travel as one jsonb array, are typed by
 * `jsonb_to_recordset`, appended to history (a version already there is skipped) and merged
 * into the current table. Within the batch the newest version of each id wins (on equal
 * `source_updated_at`, the later one in the log); against the table, only a newer
 * `source_updated_at` — or the same one with other content — replaces the current row, so a
 * late older version never overwrites a newer one.
 */
function statementFor(table: CoreTable): string {
  const cached = statements.get(table.table);
  if (cached) return cached;
  const id = ident(table.idColumn);
  const names = table.columns.map(([name]) => ident(name));
  const typed = table.columns.map(([name, type]) => `${ident(name)} ${type}`).join(', ');
  const current = `core.${ident(table.table)}`;
  const history = `core.${ident(`${table.table}_history`)}`;
  const sql = `
    with input as (
      select * from jsonb_to_recordset(?::jsonb) as r(seq integer, ${typed}, content_hash text, record jsonb)
    ), added as (
      insert into ${history} (${id}, source_updated_at, recorded_at, content_hash, record)
      select ${id}, source_updated_at, now(), content_hash, record from input
      on conflict do nothing
      returning 1
    ), latest as (
      select distinct on (${id}) * from input order by ${id}, source_updated_at desc, seq desc
    ), merged as (
      insert into ${current} as cur (${names.join(', ')}, content_hash, recorded_at)
      select ${names.join(', ')}, content_hash, now() from latest
      on conflict (${id}) do update set ${[...names, 'content_hash', 'recorded_at'].filter((n) => n !== id).map((n) => `${n} = excluded.${n}`).join(', ')}
      where excluded.source_updated_at > cur.source_updated_at
         or (excluded.source_updated_at = cur.source_updated_at and excluded.content_hash <> cur.content_hash)
      returning 1
    )
    select (select count(*) from added)::int as versions, (select count(*) from merged)::int as current`;
  statements.set(table.table, sql);
  return sql;
}

/** The batch's rows as the statement reads them: columns, content hash and the whole record. */
export function batchRows(table: CoreTable, records: ReadonlyArray<Record<string, unknown>>): string {
  return JSON.stringify(records.map((record, seq) => ({ seq, ...coreRow(table, record), content_hash: contentHash(record), record })));
}

/** Applies canonical records of one dataset, in log order, inside the caller's transaction. */
export async function upsertRecords(trx: Knex | Knex.Transaction, table: CoreTable, records: ReadonlyArray<Record<string, unknown>>): Promise<UpsertResult> {
  if (records.length === 0) return { versions: 0, current: 0 };
  const result = await trx.raw<{ rows: UpsertResult[] }>(statementFor(table), [batchRows(table, records)]);
  return result.rows[0];
}
