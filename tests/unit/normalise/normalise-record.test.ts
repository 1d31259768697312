import { buildEnvelope } from '../../../pipelines/raw-envelope';
import { parseSource, SourceDefinition } from '../../../pipelines/normalise/mapping';
import { normaliseEnvelope, NormaliseContext, Outcome } from '../../../pipelines/normalise/normalise-record';
import { validateRecord } from '../../../pipelines/normalise/outcomes';
import { hashIdNumber } from '../../../pipelines/normalise/parsers/parse-id-number';
import { loadConfig } from '../../../lib/config';

const SECRET = 'unit-test-secret';
const config = loadConfig({ env: {} });

function source(yaml: string): SourceDefinition {
  return parseSource('inline.yaml', yaml);
}

const penalty = source(`
id: amr
name: 市场监管
dataset: enforcement-case
mapping:
  fields:
    agency_code: { const: 11620900MB19512346 }
    agency_name: { const: 酒泉市市场监督管理局 }
    case_id: { template: "{@agency_code}:{案件编号|案件编码}" }
    decision_no: { from: 决定书文号 }
    party.kind: { from: 当事人类型 }
    party.name: { from: 当事人名称 }
    party.uscc: { from: 统一社会信用代码 }
    party.id: { from: 身份证号码 }
    violation_facts: { from: 违法事实 }
    penalty_kinds: { from: 处罚种类 }
    fine_amount: { from: 罚款（万元）, unit: 万元 }
    decided_on: { from: 决定日期 }
    status: { from: 状态, map: { 已送达: DECIDED } }
    source_updated_at: { from: 更新时间 }
  measures:
    - { name: ILLEGAL_GAIN, from: 违法所得 }
    - { name: FARMLAND_AREA, from: 占用耕地, parse: area }
`);

const suggestion = source(`
id: proc
name: 检察院
dataset: supervision-record
mapping:
  fields:
    record_id: { from: 编号 }
    procuratorate_code: { const: 11620900013905600W }
    kind: { from: 类型 }
    issued_on: { from: 发出日期 }
    reply_due_on: { from: 回复期限 }
    source_updated_at: { from: 更新时间 }
`);

function ctx(...sources: SourceDefinition[]): NormaliseContext {
  return {
    sources: new Map(sources.map((s) => [s.id, s])),
    piiSecret: SECRET,
    replyDeadlines: config.domain.reply_deadlines as NormaliseContext['replyDeadlines'],
    validate: validateRecord,
    now: () => new Date('2025-11-27T02:00:00Z'),
  };
}

function run(src: SourceDefinition, payload: Record<string, unknown> | string): Outcome {
  const envelope = buildEnvelope({ sourceId: src.id, dataset: src.dataset, payload, runId: 'unit', receivedAt: new Date('2025-11-27T01:00:00Z') });
  return normaliseEnvelope(envelope, { topic: `raw.${src.id}`, partition: 2, offset: '41' }, ctx(penalty, suggestion));
}

function canonical(outcome: Outcome): Record<string, any> {
  if (outcome.kind !== 'canonical') throw new Error(`expected a canonical record, got ${JSON.stringify(outcome.letter.errors)}`);
  return outcome.record;
}

function errors(outcome: Outcome): Array<{ field: string; code: string }> {
  if (outcome.kind !== 'dead') throw new Error('expected a dead letter');
  return outcome.letter.errors.map(({ field, code }) => ({ field, code }));
}

const individual = {
  案件编号: 'JSJ-2025-000017',
  决定书文号: '酒市监罚〔２０２５〕17号',
  当事人类型: '自然人',
  当事人名称: '张三丰',
  身份证号码: '11010519491231002x',
  违法事实: '张三丰在肃州区销售过期食品，联系电话13812345678，身份证11010519491231002X。',
  处罚种类: '警告、罚款',
  '罚款（万元）': '伍',
  决定日期: '2025年6月4日',
  状态: '已送达',
  违法所得: '1,234.50',
  占用耕地: '2公顷',
  更新时间: '2025-06-05 10:00:00',
};

describe('normalising one record', () => {
  it('maps an individual penalty: ID hashed and masked, name masked (also in the facts), 伍万元 in yuan', () => {
    const r = canonical(run(penalty, individual));
    expect(r.case_id).toBe('11620900MB19512346:JSJ-2025-000017');
    expect(r.decision_no).toBe('酒市监罚〔2025〕17号');
    expect(r.party).toEqual({
      kind: 'INDIVIDUAL',
      name: '张**',
      uscc: null,
      id_hash: hashIdNumber('11010519491231002X', SECRET),
      id_masked: '110105********002X',
      region_code: null,
    });
    expect(r.violation_facts).not.toContain('张三丰');
    expect(r.violation_facts).not.toContain('13812345678');
    expect(r.violation_facts).not.toContain('11010519491231002X');
    expect(r.penalty_kinds).toEqual(['WARNING', 'FINE']);
    expect(r.fine_amount).toBe('50000.00');
    expect(r.decided_on).toBe('2025-06-04');
    expect(r.status).toBe('DECIDED');
    expect(r.source_updated_at).toBe('2025-06-05T02:00:00.000Z');
    expect(r.measures).toEqual([
      { name: 'ILLEGAL_GAIN', value: 1234.5, unit: 'CNY' },
      { name: 'FARMLAND_AREA', value: 30, unit: 'mu' },
    ]);
    expect(r.lineage).toEqual({
      source_id: 'amr',
      raw_topic: 'raw.amr',
      raw_partition: 2,
      raw_offset: 41,
      ingested_at: '2025-11-27T01:00:00.000Z',
      normaliser_version: `1.0.0+${penalty.mappingHash}`,
    });
    expect(r.warnings).toEqual(expect.arrayContaining(['PII_MASKED', 'AMOUNT_FROM_TEXT']));
  });

  it('infers an organisation from its credit code, keeps its name, and takes its region from the code', () => {
    const r = canonical(run(penalty, { 案件编码: 'OLD-1', 当事人名称: '酒泉丝路食品有限公司', 统一社会信用代码: '９１６２０９２２ＭＢ５３５８７２０Ｌ', 更新时间: '2025-06-05 10:00' }));
    expect(r.case_id).toBe('11620900MB19512346:OLD-1');
    expect(r.party).toMatchObject({ kind: 'ORGANISATION', name: '酒泉丝路食品有限公司', uscc: '91620922MB5358720L', region_code: '620922' });
  });

  it('falls back to the enum default with a warning for an unknown label', () => {
    const r = canonical(run(penalty, { ...individual, 状态: '挂起' }));
    expect(r.status).toBe('UNKNOWN');
    expect(r.warnings).toContain('UNMAPPED_ENUM:status');
  });

  it('fills what the source did not send: nulls, empty lists, enum fallbacks, no transfer', () => {
    const r = canonical(run(penalty, { 案件编号: 'X-1' }));
    expect(r).toMatchObject({ decision_no: null, penalty_kinds: [], domain: 'OTHER', status: 'UNKNOWN', transferred_to_police: false, fine_amount: null, measures: [] });
    expect(r.party.kind).toBe('UNKNOWN');
    // No version from the source: the time the hub received it.
    expect(r.source_updated_at).toBe('2025-11-27T01:00:00.000Z');
    expect(r.warnings).toContain('SOURCE_VERSION_FROM_RECEIPT');
  });

  it('collects every error of a record, not only the first', () => {
    const outcome = run(penalty, { 当事人名称: '某人', 身份证号码: '110105194912310021', '罚款（万元）': 'abc元', 决定日期: '2025-02-30' });
    // Templates run after the fields they may refer to, so their errors come last.
    expect(errors(outcome)).toEqual([
      { field: 'party.id', code: 'BAD_ID_NUMBER' },
      { field: 'fine_amount', code: 'BAD_AMOUNT' },
      { field: 'decided_on', code: 'BAD_DATE' },
      { field: 'case_id', code: 'MISSING_FIELD' },
    ]);
  });

  it('keeps personal data out of error messages', () => {
    const outcome = run(penalty, { 案件编号: 'X', 身份证号码: '110105194912310021' });
    expect(JSON.stringify(outcome)).not.toContain('110105194912310021');
  });

  it.each([
    ['not JSON', '{"案件编号": "X"', 'MALFORMED_JSON'],
    ['a JSON array', '[{"案件编号": "X"}]', 'MALFORMED_JSON'],
  ])('sends %s to the dead letters', (_what, payload, code) => {
    expect(errors(run(penalty, payload))[0].code).toBe(code);
  });

  it('sends a record of an unknown source to the dead letters', () => {
    const envelope = buildEnvelope({ sourceId: 'nobody', dataset: 'hotline-ticket', payload: {}, runId: 'unit' });
    const outcome = normaliseEnvelope(envelope, { topic: 'raw.nobody', partition: 0, offset: '0' }, ctx(penalty));
    expect(errors(outcome)).toEqual([{ field: 'source_id', code: 'UNKNOWN_SOURCE' }]);
  });

  it('computes a missing reply deadline from the kind of document (检察建议: two months)', () => {
    const r = canonical(run(suggestion, { 编号: 'JQJ-1', 类型: '检察建议', 发出日期: '2025-01-31', 更新时间: '2025-02-01 09:00' }));
    expect(r.kind).toBe('PROCURATORIAL_SUGGESTION');
    expect(r.reply_due_on).toBe('2025-03-31');
    expect(r.warnings).toContain('REPLY_DUE_COMPUTED');
    const given = canonical(run(suggestion, { 编号: 'JQJ-2', 类型: '检察建议', 发出日期: '2025-01-31', 回复期限: '2025-02-15', 更新时间: '2025-02-01 09:00' }));
    expect(given.reply_due_on).toBe('2025-02-15');
  });

  it('masks the name of a party of unknown kind, and keeps one that reads as an organisation', () => {
    const person = canonical(run(penalty, { 案件编号: 'X-2', 当事人名称: '李娜', 违法事实: '李娜无证经营' }));
    expect(person.party).toMatchObject({ kind: 'UNKNOWN', name: '李*' });
    expect(person.violation_facts).toBe('李*无证经营');
    const shop = canonical(run(penalty, { 案件编号: 'X-3', 当事人名称: '肃州区老马烧烤店' }));
    expect(shop.party).toMatchObject({ kind: 'ORGANISATION', name: '肃州区老马烧烤店' });
  });

  it('refuses an envelope that claims another source than its topic', () => {
    const envelope = buildEnvelope({ sourceId: 'proc', dataset: 'supervision-record', payload: { 编号: 'J-1' }, runId: 'unit' });
    const outcome = normaliseEnvelope(envelope, { topic: 'raw.amr', partition: 0, offset: '7' }, ctx(penalty, suggestion));
    expect(errors(outcome)).toEqual([{ field: 'source_id', code: 'SOURCE_MISMATCH' }]);
  });

  it('masks personal data quoted in an error message', () => {
    const wrongColumn = source(`
id: wrong
name: 映射错误
dataset: supervision-record
mapping:
  fields:
    record_id: { from: 编号 }
    procuratorate_code: { const: X }
    region_code: { from: 联系电话 }
`);
    const envelope = buildEnvelope({ sourceId: 'wrong', dataset: 'supervision-record', payload: { 编号: 'J-1', 联系电话: '13812345678' }, runId: 'unit' });
    const outcome = normaliseEnvelope(envelope, { topic: 'raw.wrong', partition: 0, offset: '1' }, ctx(wrongColumn));
    expect(outcome.kind).toBe('dead');
    expect(JSON.stringify(outcome)).not.toContain('13812345678');
  });
});
