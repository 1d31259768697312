import crypto from 'node:crypto';
import type { Knex } from 'knex';

/**
 * The audit log's hash chain. Each row's `hash` is SHA-256 over a canonical encoding of the
 * previous row's hash and this row's own fields, so changing, removing or inserting a row
 * breaks the chain at that row, and `verifyAuditChain` names the first row where it breaks.
 *
 * The encoding is a JSON array in a fixed order with a version tag first: JSON strings are
 * unambiguous (no separator can be forged inside a field), nulls stay distinct from empty
 * strings, and the tag lets a later encoding coexist with this one. Timestamps are encoded
 * with microseconds, PostgreSQL's own precision, so that nothing stored escapes the hash.
 *
 * @example
 *   const hash = auditHash(42n, prevHash, entry);
 *   const result = await verifyAuditChain(db);   // { ok: false, seq: '1234', reason: 'hash_mismatch', … }
 */

/** What one request leaves in the audit log (seq and hashes are added when it is appended). */
export interface AuditEntry {
  /** When the request arrived. */
  at: Date;
  requestId: string;
  keyId: string | null;
  agencyCode: string | null;
  method: string;
  /** The route template (`/v1/parties/:key`), never the path as sent. */
  route: string;
  dataset: string | null;
  recordCount: number;
  status: number;
  /** `OK`, or the error code the caller was answered with. */
  outcome: string;
}

/** An entry as stored, with `at` in the canonical text form (UTC, microseconds). */
export interface ChainedRow extends Omit<AuditEntry, 'at'> {
  seq: bigint;
  at: string;
  prevHash: string;
  hash: string;
}

/** What the first row chains from. */
export const GENESIS_HASH = '0'.repeat(64);
const ENCODING_VERSION = 'liandong-audit/1';

/** `2026-11-27T08:00:00.123456Z`: a JavaScript Date has milliseconds, so its microseconds are 000. */
export function canonicalTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The same text form, computed by PostgreSQL from a `timestamptz` column. */
export const CANONICAL_TIME_SQL = `to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function canonicalEncoding(seq: bigint, prevHash: string, row: Omit<ChainedRow, 'seq' | 'prevHash' | 'hash'>): string {
  return JSON.stringify([
    ENCODING_VERSION,
    seq.toString(),
    prevHash,
    row.at,
    row.requestId,
    row.keyId,
    row.agencyCode,
    row.method,
    row.route,
    row.dataset,
    row.recordCount,
    row.status,
    row.outcome,
  ]);
}

export function auditHash(seq: bigint, prevHash: string, row: Omit<ChainedRow, 'seq' | 'prevHash' | 'hash'>): string {
  return crypto.createHash('sha256').update(canonicalEncoding(seq, prevHash, row), 'utf8').digest('hex');
}

/** Chains entries after the row `(lastSeq, lastHash)` (or after the genesis when the log is empty). */
export function chainEntries(entries: readonly AuditEntry[], last: { seq: bigint; hash: string } | null): ChainedRow[] {
  let seq = last?.seq ?? 0n;
  let prev = last?.hash ?? GENESIS_HASH;
  return entries.map((e) => {
    seq += 1n;
    const fields = { ...e, at: canonicalTime(e.at) };
    const hash = auditHash(seq, prev, fields);
    const row: ChainedRow = { ...fields, seq, prevHash: prev, hash };
    prev = hash;
    return row;
  });
}

export type BreakReason = 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch';

export interface ChainBreak {
  reason: BreakReason;
  message: string;
}

/**
 * Checks one row against the row before it (null for the first row of the log). Order of the
 * checks: a missing row first (the seq jumps), then the link to the previous row, then the
 * row's own fields — so a changed row is reported as itself, not as its successor.
 */
export function checkLink(prev: { seq: bigint; hash: string } | null, row: ChainedRow): ChainBreak | null {
  const expectedSeq = (prev?.seq ?? 0n) + 1n;
  if (row.seq !== expectedSeq) {
    return { reason: 'seq_gap', message: `seq ${row.seq} follows ${prev ? `seq ${prev.seq}` : 'the start of the log'}; expected seq ${expectedSeq}: rows are missing` };
  }
  const expectedPrev = prev?.hash ?? GENESIS_HASH;
  if (row.prevHash !== expectedPrev) {
    return { reason: 'prev_hash_mismatch', message: prev ? `prev_hash does not match the hash of seq ${prev.seq}` : 'prev_hash of the first row is not the genesis value' };
  }
  if (auditHash(row.seq, row.prevHash, row) !== row.hash) {
    return { reason: 'hash_mismatch', message: 'hash does not match its fields' };
  }
  return null;
}

export type VerifyResult =
  | { ok: true; rows: number; head: { seq: string; hash: string } | null }
  | { ok: false; rows: number; seq: string; reason: BreakReason; message: string };

interface StoredRow {
  seq: string;
  at: string;
  request_id: string;
  key_id: string | null;
  agency_code: string | null;
  method: string;
  route: string;
  dataset: string | null;
  record_count: number;
  status: number;
  outcome: string;
  prev_hash: string;
  hash: string;
}

function fromStored(r: StoredRow): ChainedRow {
  return {
    seq: BigInt(r.seq),
    at: r.at,
    requestId: r.request_id,
    keyId: r.key_id,
    agencyCode: r.agency_code,
    method: r.method,
    route: r.route,
    dataset: r.dataset,
    recordCount: r.record_count,
    status: r.status,
    outcome: r.outcome,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Recomputes the chain over the whole of ops.audit_log, in batches by seq (keyset), so it runs
 * in constant memory over millions of rows. Appends may go on meanwhile: they commit in seq
 * order (the writer holds a lock while it appends), so each batch sees a prefix of the log
 * and verification ends at whatever was the last row when it got there.
 */
// `order by audit_log.seq`, not `seq`: the bare name would sort by the text alias, 1, 10, 100, 11…
export async function verifyAuditChain(db: Knex, options: { batchSize?: number; onProgress?: (rows: number) => void } = {}): Promise<VerifyResult> {
  const batchSize = options.batchSize ?? 10_000;
  let prev: { seq: bigint; hash: string } | null = null;
  let rows = 0;
  for (;;) {
    const batch: StoredRow[] = (
      await db.raw(
        `select seq::text as seq, ${CANONICAL_TIME_SQL} as at, request_id, key_id, agency_code, method, route, dataset, record_count, status, outcome, prev_hash, hash
         from ops.audit_log where seq > ? order by audit_log.seq limit ?`,
        [(prev?.seq ?? -1n).toString(), batchSize],
      )
    ).rows;
    for (const stored of batch) {
      const row = fromStored(stored);
      const broken = checkLink(prev, row);
      if (broken) return { ok: false, rows, seq: row.seq.toString(), ...broken };
      prev = { seq: row.seq, hash: row.hash };
      rows++;
    }
    options.onProgress?.(rows);
    if (batch.length < batchSize) break;
  }
  return { ok: true, rows, head: prev ? { seq: prev.seq.toString(), hash: prev.hash } : null };
}
