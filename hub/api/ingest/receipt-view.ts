import type { Knex } from 'knex';
import { maskPiiInText } from '../../../pipelines/normalise/parsers/mask-text';

/**
 * A receipt as `GET /v1/receipts/:id` shows it: every record of the request with its final
 * fate — the canonical record it became, the dead letter and why, still pending, a duplicate of
 * a version already accepted (with that version's fate), or rejected at the door — and counts.
 */
export interface ReceiptRow {
  receipt_id: string;
  agency_code: string;
  source_id: string;
  dataset: string;
  received_at: Date;
  record_count: number;
}

export interface RecordRow {
  idx: number;
  record_key: string | null;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  reject_code: string | null;
  reject_message: string | null;
  original_receipt_id: string | null;
  original_idx: number | null;
  canonical_dataset: string | null;
  canonical_id: string | null;
  dlq_errors: Array<{ field: string; code: string; message: string }> | null;
  dlq_status: 'open' | 'resolved' | null;
  resolved_record_id: string | null;
}

export async function loadReceipt(db: Knex, receiptId: string): Promise<{ receipt: ReceiptRow; records: RecordRow[] } | null> {
  const receipt = await db<ReceiptRow>('ops.ingest_receipts').where({ receipt_id: receiptId }).first();
  if (!receipt) return null;
  // A duplicate's fate is its original's: join on the original's raw position where there is one.
  const { rows } = await db.raw<{ rows: RecordRow[] }>(
    `select r.idx, r.record_key, r.outcome, r.reject_code, r.reject_message, r.original_receipt_id, r.original_idx,
            c.dataset as canonical_dataset, c.record_id as canonical_id,
            d.errors as dlq_errors, d.status as dlq_status, d.resolved_record_id
     from ops.ingest_records r
     left join ops.ingest_records o on r.outcome = 'duplicate' and o.receipt_id = r.original_receipt_id and o.idx = r.original_idx
     left join ops.ingest_canonical c on c.raw_topic = r.raw_topic and c.raw_partition = coalesce(o.raw_partition, r.raw_partition)
       and c.raw_offset = coalesce(o.raw_offset, r.raw_offset)
     left join ops.dlq d on d.raw_topic = r.raw_topic and d.raw_partition = coalesce(o.raw_partition, r.raw_partition)
       and d.raw_offset = coalesce(o.raw_offset, r.raw_offset)
     where r.receipt_id = ?
     order by r.idx`,
    [receiptId],
  );
  return { receipt, records: rows };
}

export type Fate =
  | { fate: 'canonical'; dataset: string; record_id: string }
  | { fate: 'dead_letter'; errors: Array<{ field: string; code: string; message: string }> }
  | { fate: 'pending' };

export type RecordView = { index: number; record_key: string | null } & (
  | Fate
  | { fate: 'duplicate'; duplicate_of: { receipt_id: string; index: number }; original: Fate }
  | { fate: 'rejected'; code: string; message: string }
);

export interface ReceiptView {
  receipt_id: string;
  source_id: string;
  dataset: string;
  received_at: string;
  complete: boolean;
  counts: { records: number; rejected: number; duplicate: number; canonical: number; dead_letter: number; pending: number };
  records: RecordView[];
}

function fateOf(row: RecordRow, dataset: string, show: (text: string) => string): Fate {
  if (row.canonical_id !== null) return { fate: 'canonical', dataset: row.canonical_dataset!, record_id: show(row.canonical_id) };
  // A retried dead letter names its record before the tracker has read it from the canonical topic.
  if (row.dlq_status === 'resolved' && row.resolved_record_id) return { fate: 'canonical', dataset, record_id: show(row.resolved_record_id) };
  if (row.dlq_errors) return { fate: 'dead_letter', errors: row.dlq_errors };
  return { fate: 'pending' };
}

/**
 * The view of a receipt. Record keys and canonical ids are the agency's own identifiers; one
 * may still be an ID or phone number, so they are masked like free text unless `pii` (the
 * caller holds read:pii). Dead-letter messages were masked when they were written.
 */
export function describeReceipt(receipt: ReceiptRow, rows: RecordRow[], options: { pii: boolean }): ReceiptView {
  const show = options.pii ? (text: string) => text : (text: string) => maskPiiInText(text).text;
  const counts = { records: rows.length, rejected: 0, duplicate: 0, canonical: 0, dead_letter: 0, pending: 0 };
  const records = rows.map((row): RecordView => {
    const base = { index: row.idx, record_key: row.record_key === null ? null : show(row.record_key) };
    if (row.outcome === 'rejected') {
      counts.rejected++;
      return { ...base, fate: 'rejected', code: row.reject_code!, message: row.reject_message! };
    }
    const fate = fateOf(row, receipt.dataset, show);
    counts[fate.fate]++;
    if (row.outcome === 'duplicate') {
      counts.duplicate++;
      return { ...base, fate: 'duplicate', duplicate_of: { receipt_id: row.original_receipt_id!, index: row.original_idx! }, original: fate };
    }
    return { ...base, ...fate };
  });
  return {
    receipt_id: receipt.receipt_id,
    source_id: receipt.source_id,
    dataset: receipt.dataset,
    received_at: receipt.received_at.toISOString(),
    complete: counts.pending === 0,
    counts,
    records,
  };
}
