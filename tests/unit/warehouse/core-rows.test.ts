import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { contentHash, CORE_TABLES, coreRow, stableJson, versionText } from '../../../pipelines/warehouse/core-rows';
import { LOGICAL_TYPES } from '../../../schemas/logical-types';

const party = { kind: 'ORGANISATION', name: '酒泉嘉峪建材有限公司', uscc: '916209820891082853', id_hash: null, id_masked: null, region_code: '620982' };
const lineage = { source_id: 'jq-amr-penalty', raw_topic: 'raw.jq-amr-penalty', raw_partition: 0, raw_offset: 8, ingested_at: '2026-11-27T03:13:31.776Z', normaliser_version: '1.0.0' };
const enforcement = {
  case_id: 'A:1',
  agency_code: 'A',
  agency_name: '酒泉市市场监督管理局',
  domain: 'MARKET',
  action_type: 'PENALTY',
  decision_no: null,
  party,
  penalty_kinds: ['FINE'],
  fine_amount: '600000.00',
  measures: [{ name: 'ILLEGAL_GAIN', value: 1, unit: 'CNY' }],
  source_updated_at: '2025-07-08T01:02:00.000Z',
  lineage,
  warnings: [],
};

describe('core rows', () => {
  it('flattens the party and the lineage into columns and leaves absent fields null', () => {
    const row = coreRow(CORE_TABLES['enforcement-case'], enforcement);
    expect(row).toMatchObject({
      case_id: 'A:1',
      party_kind: 'ORGANISATION',
      party_uscc: '916209820891082853',
      party_id_hash: null,
      lineage_raw_topic: 'raw.jq-amr-penalty',
      lineage_raw_offset: 8,
      fine_amount: '600000.00',
      confiscated_amount: null,
      measures: enforcement.measures,
    });
    expect(Object.keys(row)).toEqual(CORE_TABLES['enforcement-case'].columns.map(([c]) => c));
  });

  it('flattens a ticket without a subject to null subject columns', () => {
    const row = coreRow(CORE_TABLES['hotline-ticket'], { ticket_id: 'T1', subject: null, lineage });
    expect(row.subject_kind).toBeNull();
    expect(row.subject_uscc).toBeNull();
    expect(row.ticket_id).toBe('T1');
  });

  it('hashes the same content to the same value whatever the key order and the lineage', () => {
    const reordered = Object.fromEntries(Object.entries(enforcement).reverse());
    const elsewhere = { ...enforcement, lineage: { ...lineage, raw_offset: 99 } };
    expect(contentHash(reordered)).toBe(contentHash(enforcement));
    expect(contentHash(elsewhere)).toBe(contentHash(enforcement));
    expect(contentHash({ ...enforcement, fine_amount: '600000.01' })).not.toBe(contentHash(enforcement));
  });

  it('writes JSON with sorted keys at every level', () => {
    expect(stableJson({ b: 1, a: { d: [2, { f: null, e: 'x' }], c: true } })).toBe('{"a":{"c":true,"d":[2,{"e":"x","f":null}]},"b":1}');
  });

  it('gives a decoded Avro record (keys sorted once per record type) the same text and hash as the plain object', () => {
    const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../schemas/supervision-record.avsc'), 'utf8'));
    const type = avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES as never });
    const plain = {
      record_id: 'JQJ-1', procuratorate_code: '11620900013905600W', kind: 'TRANSFER_OPINION', doc_no: '酒检意〔2025〕3号', target_agency_code: 'A',
      related_decision_nos: ['D1'], related_case_ids: [], related_ticket_ids: ['T1'], party, region_code: '620902', summary: '线索\t"引号"\\',
      issued_on: '2025-05-01', reply_due_on: '2025-05-04', replied_on: null, status: 'AWAITING_REPLY', source_updated_at: '2025-05-01T00:00:00.000Z',
      lineage, warnings: ['W'],
    };
    const decoded = type.fromBuffer(type.toBuffer(plain)) as Record<string, unknown>;
    expect(decoded.constructor).not.toBe(Object);
    const roundTrip = JSON.parse(JSON.stringify(decoded)) as Record<string, unknown>;
    expect(versionText(decoded)).toEqual(versionText(roundTrip));
    expect(contentHash(decoded)).toBe(contentHash(roundTrip));
    expect(JSON.parse(versionText(decoded).json)).toEqual(roundTrip);
  });
});
