import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyColumns, copyEscape, COPY_NULL } from './copy-text';
import { CoreTable, versionText } from './core-rows';
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

/** The merge statement of one table in one schema, built once: it depends only on the table's columns and schema. */
const statements = new Map<string, string>();

/** The session's staging table of a core table: its columns, plus the batch position, content hash, recorded time and record. */
export const stagingTable = (table: CoreTable): string => `pg_temp.${ident(`liandong_stage_${table.table}`)}`;
const STAGED_COLUMNS = (table: CoreTable) => ['seq', ...table.columns.map(([name]) => name), 'content_hash', 'recorded_at', 'record'];

/**
 * A temporary table per session and core table, emptied at every commit: each batch is
 * COPYed into it and merged from it. `if not exists` rather than remembering it per
 * connection: a transaction that rolled back took the table's creation with it.
 */
function createStagingSql(table: CoreTable): string {
  const typed = table.columns.map(([name, type]) => `${ident(name)} ${type}`).join(', ');
  return `create temp table if not exists ${stagingTable(table)} (seq integer, ${typed}, content_hash text, recorded_at timestamptz, record jsonb) on commit delete rows`;
}

/**
 * One set-based statement per batch, reading the batch from the staging table: each version
 * appended to history (one already there is skipped) and merged into the current table.
 * Within the batch the newest version of each id wins (on equal `source_updated_at`, the
 * later one in the log); against the table, only a newer `source_updated_at` — or the same
 * one with other content — replaces the current row, so a late older version never
 * overwrites a newer one.
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
  const stage = stagingTable(table);
  const current = qualified(target.core, table.table);
  const history = qualified(target.core, `${table.table}_history`);
  const sameVersion = (a: string, b: string) => `${a}.${id} = ${b}.${id} and ${a}.source_updated_at = ${b}.source_updated_at and ${a}.content_hash = ${b}.content_hash`;
  const sql = `
    with firsts as (
      select distinct on (${id}, source_updated_at, content_hash) ${id}, source_updated_at, content_hash, recorded_at, record
      from ${stage} order by ${id}, source_updated_at, content_hash, seq
    ), added as (
      insert into ${history} (${id}, source_updated_at, recorded_at, content_hash, record)
      select ${id}, source_updated_at, coalesce(recorded_at, now()), content_hash, record from firsts
      on conflict do nothing
      returning 1
    ), latest as (
      select distinct on (${id}) ${[...names, 'content_hash'].join(', ')} from ${stage} order by ${id}, source_updated_at desc, seq desc
    ), merged as (
      insert into ${current} as cur (${names.join(', ')}, content_hash, recorded_at)
      select ${names.map((n) => `l.${n}`).join(', ')}, l.content_hash, coalesce(h.recorded_at, f.recorded_at, now())
      from latest l
      join firsts f on ${sameVersion('f', 'l')}
      left join lateral (select h.recorded_at from ${history} h where ${sameVersion('h', 'l')} offset 0) h on true
      on conflict (${id}) do update set ${[...names, 'content_hash', 'recorded_at'].filter((n) => n !== id).map((n) => `${n} = excluded.${n}`).join(', ')}
      where excluded.source_updated_at > cur.source_updated_at
         or (excluded.source_updated_at = cur.source_updated_at and excluded.content_hash <> cur.content_hash)
      returning 1
    )
    select (select count(*) from added)::int as versions, (select count(*) from merged)::int as current`;
  statements.set(key, sql);
  return sql;
}

const ROWS_PER_CHUNK = 500;

/**
 * The batch as the staging table's COPY text, a few hundred rows per chunk: per record its
 * position, its columns, its content hash, when the hub learned it (null: the transaction's
 * time) and the record itself. Chunks are formatted as the connection takes them, so
 * PostgreSQL parses one while the next is built, and other batches' replies are handled in
 * between instead of waiting for a whole batch's formatting.
 */
export function* stagingChunks(table: CoreTable, records: ReadonlyArray<Record<string, unknown>>, recordedAt?: ReadonlyArray<string | null>): Generator<string> {
  if (recordedAt && recordedAt.length !== records.length) throw new RangeError(`${records.length} records but ${recordedAt.length} recorded times`);
  for (let start = 0; start < records.length; start += ROWS_PER_CHUNK) {
    let text = '';
    for (let seq = start; seq < Math.min(records.length, start + ROWS_PER_CHUNK); seq++) {
      const record = records[seq];
      const version = versionText(record);
      text += `${seq}\t${copyColumns(table, record)}\t${version.contentHash}\t${recordedAt?.[seq] ?? COPY_NULL}\t${copyEscape(version.json)}\n`;
    }
    yield text;
  }
}

/** The pg client under a knex transaction: COPY is not something knex can send. */
async function connectionOf(trx: Knex.Transaction): Promise<pg.ClientBase> {
  return (await trx.client.acquireConnection()) as pg.ClientBase;
}

/**
 * Applies a batch of canonical records of one table, inside the caller's transaction:
 * COPY into the staging table, then the merge statement. Set-based from end to end: the
 * batch goes to PostgreSQL as one COPY stream, with no statement per record.
 */
export async function upsertRecords(trx: Knex.Transaction, table: CoreTable, records: ReadonlyArray<Record<string, unknown>>, options: UpsertOptions = {}): Promise<UpsertResult> {
  if (records.length === 0) return { versions: 0, current: 0 };
  const chunks = stagingChunks(table, records, options.recordedAt);
  const connection = await connectionOf(trx);
  // The notice that the table already exists is not worth a line in the server's or our log.
  // Emptied first: a second batch of the same table in one transaction must not merge the first's rows again.
  await connection.query(`set local client_min_messages = warning; ${createStagingSql(table)}; delete from ${stagingTable(table)}`);
  const copy = connection.query(copyFrom(`copy ${stagingTable(table)} (${STAGED_COLUMNS(table).map(ident).join(', ')}) from stdin`));
  await pipeline(Readable.from(chunks), copy);
  const result = await trx.raw<{ rows: UpsertResult[] }>(statementFor(table, options.target));
  return result.rows[0];
}
