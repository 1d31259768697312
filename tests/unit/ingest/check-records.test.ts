import crypto from 'node:crypto';
import { checkRecords, MAX_RECORD_BYTES, MAX_RECORD_DEPTH } from '../../../hub/api/ingest/check-records';

const sha = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

function nested(depth: number): Record<string, unknown> {
  let node: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) node = { inner: node };
  return node;
}

describe('the push API door: shape checks per record', () => {
  it('passes a record with its id field, keyed by that id, with the payload exactly as it will be sent', () => {
    const record = { case_no: 'HJ-2025-001', party: { name: '酒泉某化工有限公司' }, fine_amount: '50000' };
    const { candidates, rejected, repeats } = checkRecords([record], 'case_no');
    expect(rejected).toEqual([]);
    expect(repeats).toEqual([]);
    expect(candidates).toEqual([{ index: 0, recordKey: 'HJ-2025-001', payload: JSON.stringify(record), sha256: sha(JSON.stringify(record)) }]);
  });

  it('reaches a nested id field by its dotted path, and takes an integer id as text', () => {
    expect(checkRecords([{ meta: { id: ' X-1 ' } }], 'meta.id').candidates[0].recordKey).toBe('X-1');
    expect(checkRecords([{ record_id: 20250017 }], 'record_id').candidates[0].recordKey).toBe('20250017');
  });

  it.each([
    ['a string', 'oops', 'NOT_AN_OBJECT'],
    ['an array', [{ case_no: 'A' }], 'NOT_AN_OBJECT'],
    ['null', null, 'NOT_AN_OBJECT'],
    ['a record without its id field', { decision_no: 'x' }, 'MISSING_RECORD_ID'],
    ['a record whose id is blank', { case_no: '   ' }, 'MISSING_RECORD_ID'],
    ['a record whose id is an object', { case_no: { a: 1 } }, 'BAD_RECORD_ID'],
    ['a record whose id is a fraction', { case_no: 1.5 }, 'BAD_RECORD_ID'],
    ['a record whose id carries a NUL', { case_no: 'A\u0000B' }, 'BAD_RECORD_ID'],
    ['a record whose id is longer than 200 characters', { case_no: 'A'.repeat(201) }, 'BAD_RECORD_ID'],
    ['a record nesting deeper than the limit', { case_no: 'A', deep: nested(MAX_RECORD_DEPTH) }, 'TOO_DEEP'],
    ['an ID number sent as a JSON number (already rounded)', { case_no: 'A', party: { id_number: 110105194912310020 } }, 'UNSAFE_NUMBER'],
    ['a record larger than the limit', { case_no: 'A', facts: '污'.repeat(MAX_RECORD_BYTES / 3 + 10) }, 'TOO_LARGE'],
  ])('rejects %s with %s', (_what, record, code) => {
    const { candidates, rejected } = checkRecords([record], 'case_no');
    expect(candidates).toEqual([]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ index: 0, code });
  });

  it('accepts nesting up to the limit', () => {
    expect(checkRecords([{ case_no: 'A', deep: nested(MAX_RECORD_DEPTH - 1) }], 'case_no').rejected).toEqual([]);
  });

  it('never quotes a value in its messages, only field names and limits', () => {
    const id = '11010519491231002X';
    const records = [{ case_no: { id } }, { case_no: 'A', party: { id_number: 110105194912310020 } }, { name: id }];
    const { rejected } = checkRecords(records, 'case_no');
    expect(rejected.map((r) => r.code)).toEqual(['BAD_RECORD_ID', 'UNSAFE_NUMBER', 'MISSING_RECORD_ID']);
    for (const r of rejected) {
      expect(r.message).not.toContain(id);
      expect(r.message).not.toContain('110105194912310');
    }
    expect(rejected[1].message).toContain('party.id_number');
    // Even a field named with an ID number is not quoted in clear.
    expect(checkRecords([{ case_no: 'A', [id]: 2 ** 60 }], 'case_no').rejected[0].message).not.toContain(id);
  });

  it('keeps the key of a record refused for its size, so the agency can tell which one it was', () => {
    const { rejected } = checkRecords([{ case_no: 'BIG-1', facts: 'x'.repeat(MAX_RECORD_BYTES) }], 'case_no');
    expect(rejected[0]).toMatchObject({ code: 'TOO_LARGE', recordKey: 'BIG-1' });
  });

  it('takes an identical record twice in one batch once, the second pointing at the first; another version of it stays a record of its own', () => {
    const a = { case_no: 'A', status: '立案' };
    const { candidates, repeats } = checkRecords([a, { case_no: 'B' }, { ...a }, { case_no: 'A', status: '已结案' }], 'case_no');
    expect(candidates.map((c) => c.index)).toEqual([0, 1, 3]);
    expect(repeats).toEqual([{ index: 2, firstIndex: 0 }]);
  });

  it('keeps SQL and script text as it is: it is data, not something to clean', () => {
    const record = { case_no: "X'; DROP TABLE ops.ingest_records; --", violation_facts: '<script>alert(1)</script>' };
    const { candidates } = checkRecords([record], 'case_no');
    expect(candidates[0].recordKey).toBe("X'; DROP TABLE ops.ingest_records; --");
    expect(JSON.parse(candidates[0].payload)).toEqual(record);
  });
});
