import { ConfigError } from '../../../lib/errors';
import { loadSources, parseSource } from '../../../pipelines/normalise/mapping';
import { SHIPPED_SOURCES } from '../../support/pipeline';

const minimal = (fields: string, extra = '') => `id: test-source
name: 测试数据源
dataset: hotline-ticket
${extra}
mapping:
  fields:
${fields}
`;

function configError(text: string): ConfigError {
  try {
    parseSource('test.yaml', text);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('source definitions', () => {
  it('loads the shipped sources: three to be pulled and two pushed through the API', () => {
    const sources = loadSources(SHIPPED_SOURCES);
    expect([...sources.keys()].sort()).toEqual(['jq-12345', 'jq-amr-penalty', 'jq-procuratorate', 'jq-procuratorate-12309', 'jq-sthj-cases']);
    expect([...sources.values()].filter((s) => s.connector?.kind === 'push').map((s) => s.id).sort()).toEqual(['jq-procuratorate-12309', 'jq-sthj-cases']);
    expect(sources.get('jq-12345')!.mappingHash).toMatch(/^[0-9a-f]{8}$/);
  });

  it('accepts a rule with from, const or template, and a list of alternative source fields', () => {
    const source = parseSource('t.yaml', minimal(`    ticket_id: { from: [工单编号, 工单号] }\n    received_at: { from: 受理时间 }\n    title: { template: "{标题}（{分类}）" }\n    channel: { const: PHONE }`));
    expect(Object.keys(source.mapping.fields)).toEqual(['ticket_id', 'received_at', 'title', 'channel']);
  });

  it('names a target that is not a field of the dataset', () => {
    const err = configError(minimal(`    ticket_id: { from: 工单编号 }\n    received_at: { from: 受理时间 }\n    fine_amount: { from: 罚款 }`));
    expect(err.message).toMatch(/mapping\.fields: "fine_amount" not a field of hotline-ticket/);
  });

  it('names a required field that has no rule', () => {
    const err = configError(minimal(`    ticket_id: { from: 工单编号 }`));
    expect(err.message).toMatch(/hotline-ticket needs a rule for received_at/);
  });

  it('refuses a rule with two value sources, naming its path', () => {
    const err = configError(minimal(`    ticket_id: { from: 工单编号, const: X }\n    received_at: { from: 受理时间 }`));
    expect(err.issues).toContainEqual({ path: 'mapping.fields.ticket_id', expected: 'needs exactly one of from, const or template' });
  });

  it('refuses an unknown parser and an unknown measure', () => {
    expect(configError(minimal(`    ticket_id: { from: 工单编号, parse: guess }\n    received_at: { from: 受理时间 }`)).issues[0].path).toBe('mapping.fields.ticket_id.parse');
    const penalty = `id: pp\nname: pp\ndataset: enforcement-case\nmapping:\n  fields:\n    case_id: { from: a }\n    agency_code: { const: b }\n    agency_name: { const: c }\n  measures:\n    - { name: HAPPINESS, from: x }\n`;
    expect(configError(penalty).issues[0].path).toBe('mapping.measures.0.name');
  });

  it('refuses an id that cannot name a Kafka topic', () => {
    expect(configError(minimal(`    ticket_id: { from: 工单编号 }\n    received_at: { from: 受理时间 }`).replace('id: test-source', 'id: 热线')).issues[0].path).toBe('id');
  });

  it('changes the mapping hash when the mapping changes, and only then', () => {
    const a = parseSource('a.yaml', minimal(`    ticket_id: { from: 工单编号 }\n    received_at: { from: 受理时间 }`));
    const b = parseSource('b.yaml', minimal(`    ticket_id: { from: 工单编号 }\n    received_at: { from: 受理时间 }`, 'description: changed'));
    const c = parseSource('c.yaml', minimal(`    ticket_id: { from: 工单号 }\n    received_at: { from: 受理时间 }`));
    expect(a.mappingHash).toBe(b.mappingHash);
    expect(a.mappingHash).not.toBe(c.mappingHash);
  });
});

describe('source definitions: rules checked at load time', () => {
  const penalty = (rule: string, measure = '') => `id: pp\nname: pp\ndataset: enforcement-case\nmapping:\n  fields:\n    case_id: { from: a }\n    agency_code: { const: b }\n    agency_name: { const: c }\n${rule}${measure}`;

  it('refuses a money unit the parser does not know (万 alone would make fines 10,000 times too small)', () => {
    expect(configError(penalty('    fine_amount: { from: 罚款, unit: 万 }\n')).issues).toContainEqual({
      path: 'mapping.fields.fine_amount.unit',
      expected: expect.stringContaining('money takes unit 元 or 万元'),
    });
  });

  it('refuses an unknown area unit and a unit on a field that has none', () => {
    expect(configError(penalty('', '  measures:\n    - { name: FARMLAND_AREA, from: x, unit: 英亩 }\n')).issues[0].path).toBe('mapping.measures.0.unit');
    expect(configError(penalty('    decided_on: { from: d, unit: 元 }\n')).issues[0].path).toBe('mapping.fields.decided_on.unit');
  });

  it('refuses a plain parser on a field that holds personal data', () => {
    expect(configError(penalty('    violation_facts: { from: f, parse: string }\n')).issues[0]).toEqual({
      path: 'mapping.fields.violation_facts.parse',
      expected: 'this field holds personal data and must use the text parser, not string',
    });
    expect(configError(penalty('    party.id: { from: f, parse: string }\n')).issues[0].path).toBe('mapping.fields.party.id.parse');
  });

  it('accepts the units the parsers know', () => {
    expect(() => parseSource('ok.yaml', penalty('    fine_amount: { from: 罚款, unit: 万元 }\n', '  measures:\n    - { name: FARMLAND_AREA, from: x, unit: 公顷 }\n'))).not.toThrow();
  });
});
