// Full sample records of every schema, in the JS form the hub's logical types produce
// (decimal strings, 'YYYY-MM-DD' dates, ISO-8601 UTC timestamps). Shared by the unit tests
// and the registration integration test.
import type { SchemaName } from '../../../schemas/catalog';

const lineage = {
  source_id: 'smr-jq',
  raw_topic: 'raw.smr-jq',
  raw_partition: 2,
  raw_offset: 41_873,
  ingested_at: '2025-06-05T01:00:00.123Z',
  normaliser_version: '1.0.0',
};

export const ENFORCEMENT_CASE = {
  case_id: '11620902MB1571234X:肃市监罚〔2025〕17号',
  agency_code: '11620902MB1571234X',
  agency_name: '酒泉市肃州区市场监督管理局',
  domain: 'MARKET',
  action_type: 'PENALTY',
  decision_no: '肃市监罚〔2025〕17号',
  party: {
    kind: 'ORGANISATION',
    name: '酒泉某某商贸有限公司',
    uscc: '91620902MA71234567',
    id_hash: null,
    id_masked: null,
    region_code: '620902',
  },
  region_code: '620902',
  violation_type: '销售不合格产品',
  violation_facts: '当事人于2025年3月销售不合格电动车头盔120顶，负责人张*。',
  legal_basis: '《中华人民共和国产品质量法》第四十九条',
  penalty_kinds: ['WARNING', 'FINE', 'CONFISCATION'],
  fine_amount: '50000.00',
  confiscated_amount: '1234.56',
  measures: [
    { name: 'ILLEGAL_GAIN', value: 1234.56, unit: 'CNY' },
    { name: 'GOODS_VALUE', value: 8800, unit: 'CNY' },
  ],
  occurred_on: '2025-03-12',
  decided_on: '2025-06-04',
  status: 'DECIDED',
  transferred_to_police: false,
  transferred_on: null,
  source_updated_at: '2025-06-04T06:30:00.000Z',
  lineage,
  warnings: ['AMOUNT_FROM_TEXT'],
};

export const HOTLINE_TICKET = {
  ticket_id: 'JQ12345-20250604-000317',
  channel: 'PHONE',
  received_at: '2025-06-04T01:12:45.000Z',
  appeal_type: 'COMPLAINT',
  category_code: '0301',
  category_name: '环境保护/大气污染',
  topics: ['ENVIRONMENT', 'SAFETY'],
  title: '某化工厂夜间排放异味',
  content: '来电人反映某化工厂夜间排放刺鼻气体，电话138****5678。',
  caller_name_masked: '李*',
  caller_phone_hash: 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
  caller_phone_masked: '138****5678',
  region_code: '620902',
  address: '酒泉市肃州区工业园区',
  subject: {
    kind: 'INDIVIDUAL',
    name: '王*',
    uscc: null,
    id_hash: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
    id_masked: '620902********1234',
    region_code: null,
  },
  handling_unit: '酒泉市生态环境局肃州分局',
  dispatched_at: '2025-06-04T02:00:00.000Z',
  due_at: '2025-06-09T09:59:59.999Z',
  status: 'CLOSED',
  closed_at: '2025-06-06T08:15:30.250Z',
  satisfaction: 'BASICALLY_SATISFIED',
  related_ticket_ids: ['JQ12345-20250530-000122'],
  source_updated_at: '2025-06-06T08:15:30.250Z',
  lineage: { ...lineage, source_id: 'hotline-12345', raw_topic: 'raw.hotline-12345', raw_partition: 0, raw_offset: 7 },
  warnings: [],
};

export const SUPERVISION_RECORD = {
  record_id: 'JQJ-2025-0042',
  procuratorate_code: '620902',
  kind: 'PIL_PRELITIGATION_SUGGESTION',
  doc_no: '肃检行公建〔2025〕3号',
  target_agency_code: '11620902MB1571234X',
  related_decision_nos: ['肃市监罚〔2025〕17号'],
  related_case_ids: ['11620902MB1571234X:肃市监罚〔2025〕17号'],
  related_ticket_ids: ['JQ12345-20250604-000317'],
  party: null,
  region_code: '620902',
  summary: '建议对辖区化工企业废气排放开展专项检查。',
  issued_on: '2025-06-10',
  reply_due_on: '2025-08-10',
  replied_on: null,
  status: 'AWAITING_REPLY',
  source_updated_at: '2025-06-10T03:00:00.000Z',
  lineage: { ...lineage, source_id: 'procuratorate-jq', raw_topic: 'raw.procuratorate-jq', raw_partition: 1, raw_offset: 0 },
  warnings: ['REGION_FROM_NAME'],
};

export const RAW_ENVELOPE = {
  source_id: 'smr-jq',
  dataset: 'enforcement-case',
  record_key: '肃市监罚〔2025〕17号',
  received_at: '2025-06-05T01:00:00.123Z',
  content_type: 'application/json',
  payload: '{"ajbh":"肃市监罚〔2025〕17号","fkje":"5万元"}',
  payload_sha256: '5f2b5c1f0d1d6d3c8e0a4b9c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f',
  run_id: 'run-20250605-0100',
};

export const DEAD_LETTER = {
  raw: { topic: 'raw.smr-jq', partition: 2, offset: 41_874 },
  source_id: 'smr-jq',
  dataset: 'enforcement-case',
  record_key: '肃市监罚〔2025〕18号',
  errors: [
    { field: 'fkje', code: 'BAD_AMOUNT', message: 'cannot read an amount from "五万元整"' },
    { field: 'jdrq', code: 'BAD_DATE', message: 'cannot read a date from "2025-13-01"' },
  ],
  normaliser_version: '1.0.0',
  failed_at: '2025-06-05T01:00:01.000Z',
};

export const SAMPLES: Record<SchemaName, Record<string, unknown>> = {
  'enforcement-case': ENFORCEMENT_CASE,
  'hotline-ticket': HOTLINE_TICKET,
  'supervision-record': SUPERVISION_RECORD,
  'raw-envelope': RAW_ENVELOPE,
  'dlq-record': DEAD_LETTER,
};
