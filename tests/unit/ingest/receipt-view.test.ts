import { describeReceipt, RecordRow, ReceiptRow } from '../../../hub/api/ingest/receipt-view';

const receipt: ReceiptRow = {
  receipt_id: 'rc_0123456789abcdef01234567',
  agency_code: '11620900013905600W',
  source_id: 'jq-procuratorate-12309',
  dataset: 'supervision-record',
  received_at: new Date('2025-11-27T02:00:00Z'),
  record_count: 6,
};

const row = (idx: number, over: Partial<RecordRow>): RecordRow => ({
  idx,
  record_key: `R-${idx}`,
  outcome: 'accepted',
  reject_code: null,
  reject_message: null,
  original_receipt_id: null,
  original_idx: null,
  canonical_dataset: null,
  canonical_id: null,
  dlq_errors: null,
  dlq_status: null,
  resolved_record_id: null,
  ...over,
});

const errors = [{ field: 'issued_on', code: 'BAD_DATE', message: 'not a date' }];

describe('a receipt as the agency reads it', () => {
  const rows = [
    row(0, { canonical_dataset: 'supervision-record', canonical_id: 'R-0' }),
    row(1, { dlq_errors: errors, dlq_status: 'open' }),
    row(2, {}),
    row(3, { outcome: 'duplicate', original_receipt_id: 'rc_ffffffffffffffffffffffff', original_idx: 7, canonical_dataset: 'supervision-record', canonical_id: 'R-3' }),
    row(4, { record_key: null, outcome: 'rejected', reject_code: 'NOT_AN_OBJECT', reject_message: 'a record must be a JSON object' }),
    row(5, { dlq_errors: errors, dlq_status: 'resolved', resolved_record_id: 'R-5' }),
  ];

  it('gives every record its fate: canonical, dead letter, pending, duplicate (with its original fate) or rejected', () => {
    const view = describeReceipt(receipt, rows, { pii: false });
    expect(view.records).toEqual([
      { index: 0, record_key: 'R-0', fate: 'canonical', dataset: 'supervision-record', record_id: 'R-0' },
      { index: 1, record_key: 'R-1', fate: 'dead_letter', errors },
      { index: 2, record_key: 'R-2', fate: 'pending' },
      {
        index: 3,
        record_key: 'R-3',
        fate: 'duplicate',
        duplicate_of: { receipt_id: 'rc_ffffffffffffffffffffffff', index: 7 },
        original: { fate: 'canonical', dataset: 'supervision-record', record_id: 'R-3' },
      },
      { index: 4, record_key: null, fate: 'rejected', code: 'NOT_AN_OBJECT', message: 'a record must be a JSON object' },
      { index: 5, record_key: 'R-5', fate: 'canonical', dataset: 'supervision-record', record_id: 'R-5' },
    ]);
    expect(view.counts).toEqual({ records: 6, rejected: 1, duplicate: 1, canonical: 3, dead_letter: 1, pending: 1 });
    expect(view.complete).toBe(false);
  });

  it('is complete once nothing is pending, a duplicate counting as pending while its original is', () => {
    expect(describeReceipt(receipt, rows.filter((r) => r.idx !== 2), { pii: false }).complete).toBe(true);
    const waiting = describeReceipt(receipt, [row(0, { outcome: 'duplicate', original_receipt_id: 'rc_ffffffffffffffffffffffff', original_idx: 0 })], { pii: false });
    expect(waiting.complete).toBe(false);
    expect(waiting.counts.pending).toBe(1);
  });

  it('masks ID and phone numbers in record keys and record ids unless the caller holds read:pii', () => {
    const keyed = [row(0, { record_key: '11010519491231002X', canonical_dataset: 'supervision-record', canonical_id: 'P-13812345678' })];
    const masked = describeReceipt(receipt, keyed, { pii: false });
    expect(JSON.stringify(masked)).not.toMatch(/11010519491231002X|13812345678/);
    expect(masked.records[0]).toMatchObject({ record_key: '110105********002X', record_id: 'P-138****5678' });
    expect(describeReceipt(receipt, keyed, { pii: true }).records[0]).toMatchObject({ record_key: '11010519491231002X', record_id: 'P-13812345678' });
  });
});
