import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isRetriableSqlState } from '../../../lib/errors';
import type { Candidate, CheckedBatch } from './check-records';

/**
 * Receipts in PostgreSQL (ops.ingest_receipts, ops.ingest_records, ops.ingest_canonical; see
 * the migration 20261127000700-ingest-receipts). For each record of a request the store decides
 * whether it is a new version (this receipt sends it), a duplicate of a version already accepted
 * (it points there), or rejected; the unique index on versions arbitrates between concurrent
 * requests. All of it is done before anything is sent to Kafka, so no pool connection waits on
 * the broker.
 *
 * The common request (no duplicates) is one statement. With duplicates a few more follow, outside
 * a transaction on purpose: a receipt's id is only revealed once everything succeeded and its
 * records were sent, so a request that dies in between leaves a receipt nobody holds, whose
 * accepted versions look exactly like a send that was lost — and a re-post sends them again.
 */

/** How long a receipt's records may take to appear on their raw topic before a re-post sends them again. */
export const SEND_LEASE_S = 60;

const RECEIPT_ID = /^rc_[0-9a-f]{24}$/;

export function newReceiptId(): string {
  return `rc_${crypto.randomBytes(12).toString('hex')}`;
}

export function isReceiptId(value: string): boolean {
  return RECEIPT_ID.test(value);
}

export interface ReceiptInput {
  receiptId: string;
  keyId: string;
  agencyCode: string;
  sourceId: string;
  dataset: string;
  topic: string;
  recordCount: number;
  receivedAt: Date;
  batch: CheckedBatch;
}

export interface Duplicate {
  index: number;
  receiptId: string;
  originalIndex: number;
}

export interface Placement {
  /** New versions: this receipt sends them. */
  accepted: Candidate[];
  duplicates: Duplicate[];
  /** Versions accepted by an earlier receipt whose send is presumed lost: sent again under that receipt's id. */
  resend: Array<{ receiptId: string; candidate: Candidate }>;
}

class HolderVanished extends Error {}

/** Runs a statement again after a deadlock or serialization failure (concurrent requests over the same versions). */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retriable = err instanceof HolderVanished || isRetriableSqlState((err as { code?: string }).code);
      if (!retriable || attempt >= 3) throw err;
    }
  }
}

/** Records a receipt and places each of its records. */
export async function recordReceipt(db: Knex, input: ReceiptInput): Promise<Placement> {
  const { receiptId, topic, batch } = input;
  const rows = JSON.stringify([
    ...batch.candidates.map((c) => ({ idx: c.index, record_key: c.recordKey, payload_sha256: c.sha256, outcome: 'accepted' })),
    ...batch.rejected.map((r) => ({ idx: r.index, record_key: r.recordKey, outcome: 'rejected', reject_code: r.code, reject_message: r.message })),
  ]);
  // The receipt and its new and rejected records in one statement. New versions go in version
  // order, so two requests carrying the same versions wait for each other in the same order on
  // the unique index and cannot deadlock; a version already accepted is left out (a duplicate).
  const claimed = await retried(() =>
    db.raw<{ rows: Array<{ idx: number }> }>(
      `with receipt as (
         insert into ops.ingest_receipts (receipt_id, key_id, agency_code, source_id, dataset, received_at, record_count, send_deadline)
         values (?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?))
         returning receipt_id
       )
       insert into ops.ingest_records (receipt_id, idx, raw_topic, record_key, payload_sha256, outcome, reject_code, reject_message)
       select (select receipt_id from receipt), r.idx, ?, r.record_key, r.payload_sha256, r.outcome, r.reject_code, r.reject_message
       from jsonb_to_recordset(?::jsonb) as r(idx int, record_key text, payload_sha256 text, outcome text, reject_code text, reject_message text)
       order by r.outcome, r.record_key, r.payload_sha256
       on conflict (raw_topic, record_key, payload_sha256) where outcome = 'accepted' do nothing
       returning idx`,
      [receiptId, input.keyId, input.agencyCode, input.sourceId, input.dataset, input.receivedAt, input.recordCount, SEND_LEASE_S, topic, rows],
    ),
  );
  const mine = new Set(claimed.rows.map((r) => r.idx));
  const placement: Placement = { accepted: batch.candidates.filter((c) => mine.has(c.index)), duplicates: [], resend: [] };
  const holderOf = new Map<number, { receiptId: string; index: number }>(placement.accepted.map((c) => [c.index, { receiptId, index: c.index }]));
  const taken = batch.candidates.filter((c) => !mine.has(c.index));
  if (taken.length > 0) placement.resend = await retried(() => findHolders(db, topic, taken, holderOf));

  // Duplicates point at the accepted row of their version: an earlier receipt's, or this one's for a repeat within the batch.
  const byIndex = new Map(batch.candidates.map((c) => [c.index, c]));
  const duplicates = [
    ...taken.map((c) => ({ index: c.index, version: c, holder: holderOf.get(c.index)! })),
    ...batch.repeats.map((r) => ({ index: r.index, version: byIndex.get(r.firstIndex)!, holder: holderOf.get(r.firstIndex)! })),
  ].sort((a, b) => a.index - b.index);
  placement.duplicates = duplicates.map((d) => ({ index: d.index, receiptId: d.holder.receiptId, originalIndex: d.holder.index }));
  if (duplicates.length > 0) {
    await db.raw(
      `insert into ops.ingest_records (receipt_id, idx, raw_topic, record_key, payload_sha256, outcome, original_receipt_id, original_idx)
       select ?, d.idx, ?, d.record_key, d.payload_sha256, 'duplicate', d.original_receipt_id, d.original_idx
       from jsonb_to_recordset(?::jsonb) as d(idx int, record_key text, payload_sha256 text, original_receipt_id text, original_idx int)`,
      [
        receiptId,
        topic,
        JSON.stringify(duplicates.map((d) => ({ idx: d.index, record_key: d.version.recordKey, payload_sha256: d.version.sha256, original_receipt_id: d.holder.receiptId, original_idx: d.holder.index }))),
      ],
    );
  }
  return placement;
}

/**
 * Finds the accepted row holding each taken version (into `holderOf`) and returns the versions
 * whose holder's send is presumed lost — never seen on the raw topic, lease expired — claiming
 * their re-send: the lease moves on, so one request sends again, not every concurrent one.
 */
async function findHolders(
  db: Knex,
  topic: string,
  taken: Candidate[],
  holderOf: Map<number, { receiptId: string; index: number }>,
): Promise<Placement['resend']> {
  const holders = await db.raw<{ rows: Array<{ idx: number; receipt_id: string; holder_idx: number; unplaced: boolean }> }>(
    `select c.idx, h.receipt_id, h.idx as holder_idx, h.raw_offset is null as unplaced
     from jsonb_to_recordset(?::jsonb) as c(idx int, record_key text, payload_sha256 text)
     join ops.ingest_records h on h.raw_topic = ? and h.record_key = c.record_key and h.payload_sha256 = c.payload_sha256 and h.outcome = 'accepted'`,
    [JSON.stringify(taken.map((c) => ({ idx: c.index, record_key: c.recordKey, payload_sha256: c.sha256 }))), topic],
  );
  if (holders.rows.length !== taken.length) throw new HolderVanished('a version holder disappeared during placement');
  for (const h of holders.rows) holderOf.set(h.idx, { receiptId: h.receipt_id, index: h.holder_idx });
  const unplaced = [...new Set(holders.rows.filter((h) => h.unplaced).map((h) => h.receipt_id))].sort();
  if (unplaced.length === 0) return [];
  const lost = await db.raw<{ rows: Array<{ receipt_id: string }> }>(
    `update ops.ingest_receipts set send_deadline = now() + make_interval(secs => ?)
     where receipt_id = any(?) and send_deadline < now() returning receipt_id`,
    [SEND_LEASE_S, unplaced],
  );
  const claimed = new Set(lost.rows.map((r) => r.receipt_id));
  const byIndex = new Map(taken.map((c) => [c.index, c]));
  return holders.rows.filter((h) => h.unplaced && claimed.has(h.receipt_id)).map((h) => ({ receiptId: h.receipt_id, candidate: byIndex.get(h.idx)! }));
}

/** The send failed or timed out: a re-post may send these receipts' records again at once. */
export async function releaseLeases(db: Knex, receiptIds: string[]): Promise<void> {
  await db('ops.ingest_receipts').whereIn('receipt_id', receiptIds).update({ send_deadline: db.fn.now() });
}

export interface RawPosition {
  receiptId: string;
  rawTopic: string;
  recordKey: string;
  sha256: string;
  rawPartition: number;
  rawOffset: string;
}

/**
 * Gives accepted records their raw position. Only a record without one takes it: when a lost
 * send was sent again and both copies landed, the first copy (the lower offset, read first —
 * one key, one partition) stays, and it is the one the normaliser turned into the record's fate.
 */
export async function recordPositions(db: Knex, positions: RawPosition[]): Promise<void> {
  if (positions.length === 0) return;
  await db.raw(
    `update ops.ingest_records r set raw_partition = p.raw_partition, raw_offset = p.raw_offset
     from (select distinct on (receipt_id, raw_topic, record_key, payload_sha256) *
           from jsonb_to_recordset(?::jsonb) as x(receipt_id text, raw_topic text, record_key text, payload_sha256 text, raw_partition int, raw_offset bigint)
           order by receipt_id, raw_topic, record_key, payload_sha256, raw_offset) p
     where r.raw_topic = p.raw_topic and r.record_key = p.record_key and r.payload_sha256 = p.payload_sha256
       and r.outcome = 'accepted' and r.receipt_id = p.receipt_id and r.raw_offset is null`,
    [JSON.stringify(positions.map((p) => ({ receipt_id: p.receiptId, raw_topic: p.rawTopic, record_key: p.recordKey, payload_sha256: p.sha256, raw_partition: p.rawPartition, raw_offset: p.rawOffset })))],
  );
}

export interface CanonicalFate {
  rawTopic: string;
  rawPartition: number;
  rawOffset: string;
  dataset: string;
  recordId: string;
}

/** What each raw position became; a replay with a changed mapping may rename the record, and the latest word wins. */
export async function recordCanonical(db: Knex, fates: CanonicalFate[]): Promise<void> {
  if (fates.length === 0) return;
  // One row per position (the batch's last word), or the upsert would touch a row twice.
  const latest = new Map(fates.map((f) => [`${f.rawTopic}/${f.rawPartition}/${f.rawOffset}`, f]));
  await db.raw(
    `insert into ops.ingest_canonical (raw_topic, raw_partition, raw_offset, dataset, record_id)
     select raw_topic, raw_partition, raw_offset, dataset, record_id
     from jsonb_to_recordset(?::jsonb) as f(raw_topic text, raw_partition int, raw_offset bigint, dataset text, record_id text)
     on conflict (raw_topic, raw_partition, raw_offset) do update set dataset = excluded.dataset, record_id = excluded.record_id, recorded_at = now()
     where (ops.ingest_canonical.dataset, ops.ingest_canonical.record_id) is distinct from (excluded.dataset, excluded.record_id)`,
    [JSON.stringify([...latest.values()].map((f) => ({ raw_topic: f.rawTopic, raw_partition: f.rawPartition, raw_offset: f.rawOffset, dataset: f.dataset, record_id: f.recordId })))],
  );
}

/**
 * When the oldest receipt of these topics, received since `notBefore`, with a record not yet
 * settled (no position, or no fate) arrived.
 */
export async function oldestUnsettled(db: Knex, topics: string[], notBefore: Date): Promise<Date | null> {
  if (topics.length === 0) return null;
  const { rows } = await db.raw<{ rows: Array<{ since: Date | null }> }>(
    `select min(rc.received_at) as since
     from ops.ingest_records r join ops.ingest_receipts rc on rc.receipt_id = r.receipt_id
     where rc.received_at >= ? and r.raw_topic = any(?) and r.outcome = 'accepted'
       and (r.raw_offset is null or (
         not exists (select 1 from ops.ingest_canonical c where c.raw_topic = r.raw_topic and c.raw_partition = r.raw_partition and c.raw_offset = r.raw_offset)
         and not exists (select 1 from ops.dlq d where d.raw_topic = r.raw_topic and d.raw_partition = r.raw_partition and d.raw_offset = r.raw_offset)))`,
    [notBefore, topics],
  );
  return rows[0]?.since ?? null;
}
