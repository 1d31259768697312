import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import { from as copyFrom } from 'pg-copy-streams';
import { copyEscape, COPY_NULL } from './copy-text';
import { columnSource, CoreTable, versionText } from './core-rows';
import { connectionOf, sendStatements } from './statement-batch';
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

/** The session's staging table of a core table: each record once, with what the merge sorts and matches on beside it. */
const stagingTable = (table: CoreTable): string => `pg_temp.${ident(`liandong_stage_${table.table}`)}`;
/** The staging table's columns, in the order of the COPY text. */
export const STAGED_COLUMNS = ['seq', 'id', 'source_updated_at', 'content_hash', 'recorded_at', 'record'] as const;

/**
 * Readies the session's staging table of a core table for a batch: a temporary table per
 * session and core table, emptied at every commit, that each batch is COPYed into and merged
 * from. `if not exists` rather than remembering it per connection: a transaction that rolled
 * back took the table's creation with it. Emptied first all the same: a second batch of the
 * same table in one transaction must not merge the first's rows again. The notice that the
 * table already exists is not worth a line in the server's or our log.
 */
export function stagingSql(table: CoreTable): string[] {
  return [
    'set local client_min_messages = warning',
    `create temp table if not exists ${stagingTable(table)} (seq integer, id text, source_updated_at timestamptz, content_hash text, recorded_at timestamptz, record jsonb) on commit delete rows`,
    `delete from ${stagingTable(table)}`,
  ];
}

/**
 * The table's columns read from the staged record `l.record`: `r` for the top-level fields, and
 * one record per nested part (`party`, `lineage`…), each typed as its column. A missing or null
 * field, or a missing or null nested record (JSON null is turned into SQL NULL, which
 * jsonb_to_record reads as a record of nulls), gives NULL.
 */
function columnsFromRecord(table: CoreTable): { select: string[]; from: string } {
  const top: string[] = [];
  const parts = new Map<string, string[]>();
  const select = table.columns.map(([column, type]) => {
    const { part, field } = columnSource(column);
    if (!part) {
      top.push(`${ident(field)} ${type}`);
      return `r.${ident(field)}`;
    }
    if (!parts.has(part)) parts.set(part, []);
    parts.get(part)!.push(`${ident(field)} ${type}`);
    return `${ident(`p_${part}`)}.${ident(field)}`;
  });
  const from = [
    `cross join lateral jsonb_to_record(l.record) as r(${top.join(', ')})`,
    ...[...parts].map(([part, fields]) => `cross join lateral jsonb_to_record(nullif(l.record -> '${part}', 'null')) as ${ident(`p_${part}`)}(${fields.join(', ')})`),
  ].join('\n      ');
  return { select, from };
}

/**
 * One set-based statement per batch, reading the batch from the staging table: each version
 * appended to history (one already there is skipped) and merged into the current table.
 * Within the batch the newest version of each id wins (on equal `source_updated_at`, the one
 * last seen in the log); against the table, only a newer `source_updated_at` — or the same
 * one with other content — replaces the current row, so a late older version never
 * overwrites a newer one. The current row's columns are read from the winning version's
 * record, once per id. The staged rows are sorted once: the winners are picked from the
 * batch's distinct versions.
 *
 * Recorded time is the time of the first message that carried a version, whichever batch it
 * came in: history keeps the first occurrence in log order (a re-send does not move it), and
 * the current row takes the recorded time of its version from history. Its lineage is that
 * first occurrence's too, in the same batch as in a later one (a re-send never replaces it).
 * The result does not depend on how the log was cut into batches, so a rebuild that reads it
 * in larger batches reproduces the live tables.
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
  const columns = columnsFromRecord(table);
  const sql = `
    with firsts as (
      select distinct on (id, source_updated_at, content_hash) id, source_updated_at, content_hash, recorded_at, record,
             max(seq) over (partition by id, source_updated_at, content_hash) as last_seq
      from ${stage} order by id, source_updated_at, content_hash, seq
    ), added as (
      insert into ${history} (${id}, source_updated_at, recorded_at, content_hash, record)
      select id, source_updated_at, coalesce(recorded_at, now()), content_hash, record from firsts
      on conflict do nothing
      returning 1
    ), latest as (
      select distinct on (id) id, source_updated_at, content_hash, recorded_at, record from firsts order by id, source_updated_at desc, last_seq desc
    ), merged as (
      insert into ${current} as cur (${names.join(', ')}, content_hash, recorded_at)
      select ${columns.select.join(', ')}, l.content_hash, coalesce(h.recorded_at, l.recorded_at, now())
      from latest l
      ${columns.from}
      left join lateral (
        select h.recorded_at from ${history} h where h.${id} = l.id and h.source_updated_at = l.source_updated_at and h.content_hash = l.content_hash offset 0
      ) h on true
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

/** A field of the COPY text: NULL for a missing value. */
const copyField = (value: unknown): string => (value === null || value === undefined ? COPY_NULL : copyEscape(String(value)));

/**
 * A version as the staging table takes it: its id and source version as text, its content hash
 * and its stored JSON, as text or as UTF-8 bytes (the sink transcodes Avro straight to bytes).
 */
export interface StagedVersion {
  id: string;
  sourceUpdatedAt: string | null;
  contentHash: string;
  json: string | Buffer;
}

/** The staged version of a decoded record. */
export function stagedVersion(table: CoreTable, record: Record<string, unknown>): StagedVersion {
  const { contentHash, json } = versionText(record);
  const version = record.source_updated_at;
  return { id: String(record[table.idColumn]), sourceUpdatedAt: version === null || version === undefined ? null : String(version), contentHash, json };
}

const BACKSLASH = 0x5c;
const NEWLINE = Buffer.from('\n');

/** JSON bytes escaped for COPY text; decoded to text only when they hold a character to escape (in JSON, only a backslash can be there). */
function copyEscapeJson(json: Buffer): Buffer {
  if (json.indexOf(BACKSLASH) < 0 && json.indexOf(0x0a) < 0 && json.indexOf(0x0d) < 0 && json.indexOf(0x09) < 0) return json;
  return Buffer.from(copyEscape(json.toString('utf8')));
}

/**
 * The batch as the staging table's COPY text, a few hundred rows per chunk: per version its
 * position, its id and source version, its content hash, when the hub learned it (null: the
 * transaction's time) and its JSON. Chunks are built as the connection takes them, so
 * PostgreSQL parses one while the next is built.
 */
export function* stagingChunks(versions: ReadonlyArray<StagedVersion>, recordedAt?: ReadonlyArray<string | null>): Generator<Buffer> {
  if (recordedAt && recordedAt.length !== versions.length) throw new RangeError(`${versions.length} versions but ${recordedAt.length} recorded times`);
  for (let start = 0; start < versions.length; start += ROWS_PER_CHUNK) {
    const parts: Buffer[] = [];
    for (let seq = start; seq < Math.min(versions.length, start + ROWS_PER_CHUNK); seq++) {
      const v = versions[seq];
      parts.push(Buffer.from(`${seq}\t${copyField(v.id)}\t${copyField(v.sourceUpdatedAt)}\t${v.contentHash}\t${recordedAt?.[seq] ?? COPY_NULL}\t`));
      parts.push(typeof v.json === 'string' ? Buffer.from(copyEscape(v.json)) : copyEscapeJson(v.json), NEWLINE);
    }
    yield Buffer.concat(parts);
  }
}

/** COPYs a batch into the staging table that `stagingSql` readied, in the caller's transaction. */
export async function copyStaged(trx: Knex.Transaction, table: CoreTable, versions: ReadonlyArray<StagedVersion>, recordedAt?: ReadonlyArray<string | null>): Promise<void> {
  const chunks = stagingChunks(versions, recordedAt);
  const connection = await connectionOf(trx);
  const copy = connection.query(copyFrom(`copy ${stagingTable(table)} (${STAGED_COLUMNS.map(ident).join(', ')}) from stdin`));
  // One chunk ahead at most: the rest is built as the connection takes it, not in one block that holds up the event loop.
  await pipeline(Readable.from(chunks, { highWaterMark: 1 }), copy);
}

/**
 * Applies a batch of canonical records of one table, inside the caller's transaction:
 * COPY into the staging table, then the merge statement. Set-based from end to end: the
 * batch goes to PostgreSQL as one COPY stream, with no statement per record. (The sink sends
 * the same statements, but folded into fewer round trips with the rest of its batch.)
 */
export async function upsertRecords(trx: Knex.Transaction, table: CoreTable, records: ReadonlyArray<Record<string, unknown>>, options: UpsertOptions = {}): Promise<UpsertResult> {
  if (records.length === 0) return { versions: 0, current: 0 };
  await sendStatements(trx, stagingSql(table));
  await copyStaged(trx, table, records.map((record) => stagedVersion(table, record)), options.recordedAt);
  const [merged] = await sendStatements(trx, [statementFor(table, options.target)]);
  return merged.rows[0] as UpsertResult;
}
