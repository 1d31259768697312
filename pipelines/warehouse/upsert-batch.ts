import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import { from as copyFrom } from 'pg-copy-streams';
import { BinaryRows, isoMicros, Micros } from './copy-binary';
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

/** The session's staging table of a core table: each distinct version of the batch once, with what the merge matches on beside it. */
const stagingTable = (table: CoreTable): string => `pg_temp.${ident(`liandong_stage_${table.table}`)}`;
/** The staging table's columns, in the order of the COPY data. `newest`: the version the batch makes current for its id. */
export const STAGED_COLUMNS = ['id', 'source_updated_at', 'content_hash', 'recorded_at', 'newest', 'record'] as const;

/** Local buffers for the staging tables of a session: the largest batch staged stays in memory. */
const STAGING_BUFFERS = '64MB';

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
    // A staged batch (up to ~10 MB) overflowed the default 8 MB of local buffers to disk and was read
    // back. PostgreSQL fixes a session's local buffers at its first temporary table and refuses another
    // size after that, so every transaction that stages asks for the same size before touching the table.
    `set local temp_buffers = '${STAGING_BUFFERS}'`,
    `create temp table if not exists ${stagingTable(table)} (id text, source_updated_at timestamptz, content_hash text, recorded_at timestamptz, newest boolean, record jsonb) on commit delete rows`,
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
 * One set-based statement per batch, reading the batch's distinct versions from the staging
 * table: each appended to history (one already there is skipped), and the one marked newest
 * for its id merged into the current table. Against the table, only a newer
 * `source_updated_at` — or the same one with other content — replaces the current row, so a
 * late older version never overwrites a newer one. The current row's columns are read from
 * the winning version's record, once per id. Which versions are staged and which is newest is
 * decided while the batch is staged (`stagedRows`), so the statement sorts nothing.
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
    with added as (
      insert into ${history} (${id}, source_updated_at, recorded_at, content_hash, record)
      select id, source_updated_at, coalesce(recorded_at, now()), content_hash, record from ${stage}
      on conflict do nothing
      returning 1
    ), merged as (
      insert into ${current} as cur (${names.join(', ')}, content_hash, recorded_at)
      select ${columns.select.join(', ')}, l.content_hash, coalesce(h.recorded_at, l.recorded_at, now())
      from ${stage} l
      ${columns.from}
      left join lateral (
        select h.recorded_at from ${history} h where h.${id} = l.id and h.source_updated_at = l.source_updated_at and h.content_hash = l.content_hash offset 0
      ) h on true
      where l.newest
      on conflict (${id}) do update set ${[...names, 'content_hash', 'recorded_at'].filter((n) => n !== id).map((n) => `${n} = excluded.${n}`).join(', ')}
      where excluded.source_updated_at > cur.source_updated_at
         or (excluded.source_updated_at = cur.source_updated_at and excluded.content_hash <> cur.content_hash)
      returning 1
    )
    select (select count(*) from added)::int as versions, (select count(*) from merged)::int as current`;
  statements.set(key, sql);
  return sql;
}

/** A chunk of the staging COPY is sent once it holds this many bytes: small enough for the allocator to reuse its memory. */
const CHUNK_BYTES = 60 * 1024;

/**
 * A version as the staging table takes it: its id, its source version (`source_updated_at` in
 * microseconds since PostgreSQL's epoch, see `isoMicros`), its content hash and its stored JSON,
 * as text or as UTF-8 bytes (the sink transcodes Avro straight to bytes).
 */
export interface StagedVersion {
  id: string;
  version: Micros | null;
  contentHash: string;
  json: string | Buffer;
}

/** The staged version of a decoded record. Throws a RangeError for a source version that is not an ISO time with an offset. */
export function stagedVersion(table: CoreTable, record: Record<string, unknown>): StagedVersion {
  const { contentHash, json } = versionText(record);
  const version = record.source_updated_at;
  return { id: String(record[table.idColumn]), version: version === null || version === undefined ? null : isoMicros(String(version)), contentHash, json };
}

/** A distinct version of a batch as staged: the index of its first copy, whether it is its id's newest. */
interface StagedRow {
  first: number;
  newest: boolean;
}

/**
 * The batch's distinct versions (id, source version, content hash), each at its first copy, in
 * log order; and per id the one the batch makes current: the newest source version (a missing
 * one counts as newest, as PostgreSQL sorts NULL first in descending order), on a tie the one
 * whose last copy came last in the log. What the merge used to sort the staged rows for.
 */
function stagedRows(versions: ReadonlyArray<StagedVersion>): StagedRow[] {
  const rows: StagedRow[] = [];
  const byVersion = new Map<string, { row: StagedRow; last: number }>();
  const newest = new Map<string, { row: StagedRow; last: number }>();
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i];
    // The hashed content holds the id and the source version: the hash alone tells versions apart.
    let seen = byVersion.get(v.contentHash);
    if (seen) seen.last = i;
    else {
      seen = { row: { first: i, newest: false }, last: i };
      byVersion.set(v.contentHash, seen);
      rows.push(seen.row);
    }
    const best = newest.get(v.id);
    if (!best || newer(v.version, versions[best.row.first].version, seen.last, best.last)) newest.set(v.id, seen);
  }
  for (const { row } of newest.values()) row.newest = true;
  return rows;
}

/** Whether source version a (last seen at aLast) wins over b: NULL above any time, then the later time, then the later last copy. */
function newer(a: Micros | null, b: Micros | null, aLast: number, bLast: number): boolean {
  if (a === b) return aLast > bLast;
  if (a === null) return true;
  if (b === null) return false;
  return a > b;
}

/**
 * The batch as the staging table's binary COPY data, in chunks of about 60 KB: per
 * distinct version (`stagedRows`) its id and source version, its content hash, when the hub
 * learned it (microseconds since PostgreSQL's epoch, see `micros`; null: the transaction's
 * time), whether it is its id's newest, and its JSON. Chunks are built as the connection takes
 * them, so PostgreSQL parses one while the next is built.
 */
export function* stagingChunks(versions: ReadonlyArray<StagedVersion>, recordedAt?: ReadonlyArray<Micros | null>): Generator<Buffer> {
  if (recordedAt && recordedAt.length !== versions.length) throw new RangeError(`${versions.length} versions but ${recordedAt.length} recorded times`);
  const rows = new BinaryRows(CHUNK_BYTES + 4096);
  rows.header();
  const staged = stagedRows(versions);
  for (let n = 0; n < staged.length; n++) {
    const { first, newest } = staged[n];
    const v = versions[first];
    rows.row(STAGED_COLUMNS.length);
    rows.text(v.id);
    if (v.version === null) rows.null();
    else rows.timestamptz(v.version);
    rows.text(v.contentHash);
    const at = recordedAt?.[first] ?? null;
    if (at === null) rows.null();
    else rows.timestamptz(at);
    rows.bool(newest);
    rows.jsonb(v.json);
    if (rows.length >= CHUNK_BYTES) yield rows.take();
  }
  rows.trailer();
  yield rows.take();
}

/** COPYs a batch into the staging table that `stagingSql` readied, in the caller's transaction. */
export async function copyStaged(trx: Knex.Transaction, table: CoreTable, versions: ReadonlyArray<StagedVersion>, recordedAt?: ReadonlyArray<Micros | null>): Promise<void> {
  const chunks = stagingChunks(versions, recordedAt);
  const connection = await connectionOf(trx);
  const copy = connection.query(copyFrom(`copy ${stagingTable(table)} (${STAGED_COLUMNS.map(ident).join(', ')}) from stdin with (format binary)`));
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
  await copyStaged(trx, table, records.map((record) => stagedVersion(table, record)), options.recordedAt?.map((at) => (at === null ? null : isoMicros(at))));
  const [merged] = await sendStatements(trx, [statementFor(table, options.target)]);
  return merged.rows[0] as UpsertResult;
}
