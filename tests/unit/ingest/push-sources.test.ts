import { push } from '../../../connectors/kinds/source-push';
import { PushSources } from '../../../hub/api/ingest/push-sources';
import { loadConfig } from '../../../lib/config';
import { ConfigError, SourceError } from '../../../lib/errors';
import { loadSources, parseSource, SourceDefinition } from '../../../pipelines/normalise/mapping';
import { normaliseEnvelope, NormaliseContext, Outcome } from '../../../pipelines/normalise/normalise-record';
import { validateRecord } from '../../../pipelines/normalise/outcomes';
import { buildEnvelope } from '../../../pipelines/raw-envelope';
import { SHIPPED_SOURCES } from '../../support/pipeline';

const ENVIRONMENT_BUREAU = '11620900MB1952208N';
const PROCURATORATE = '11620900013905600W';

const pushSource = (id: string, agencies: string[], extra = '') =>
  parseSource(
    `${id}.yaml`,
    `id: ${id}
name: 推送源
dataset: supervision-record
connector:
  kind: push
${extra}  config:
    agencies: [${agencies.join(', ')}]
    id_field: record_id
mapping:
  fields:
    record_id: { from: record_id }
    procuratorate_code: { const: X }
`,
  );

describe('push sources', () => {
  const shipped = loadSources(SHIPPED_SOURCES);
  const config = loadConfig({ env: {} });
  const ctx: NormaliseContext = {
    sources: shipped,
    piiSecret: 'unit-test-secret',
    replyDeadlines: config.domain.reply_deadlines as NormaliseContext['replyDeadlines'],
    validate: validateRecord,
    now: () => new Date('2025-11-27T02:00:00Z'),
  };
  const normalise = (source: SourceDefinition, payload: Record<string, unknown>): Outcome =>
    normaliseEnvelope(buildEnvelope({ sourceId: source.id, dataset: source.dataset, payload, runId: 'rc_unit', recordKey: 'k' }), { topic: `raw.${source.id}`, partition: 0, offset: '7' }, ctx);

  it('finds the shipped push source of an agency and dataset, and none for another agency or dataset', () => {
    const sources = PushSources.from(shipped);
    expect(sources.find(ENVIRONMENT_BUREAU, 'enforcement-case')?.source.id).toBe('jq-sthj-cases');
    expect(sources.find(PROCURATORATE, 'supervision-record')?.source.id).toBe('jq-procuratorate-12309');
    expect(sources.find(ENVIRONMENT_BUREAU, 'supervision-record')).toBeUndefined();
    expect(sources.find('11620900MB19512346', 'enforcement-case')).toBeUndefined(); // market regulation is pulled, not pushed
    expect(sources.topics.sort()).toEqual(['raw.jq-procuratorate-12309', 'raw.jq-sthj-cases']);
  });

  it('refuses two push sources claiming one agency for one dataset, naming both files', () => {
    const twice = new Map([['a', pushSource('a-src', ['X1'])], ['b', pushSource('b-src', ['X2', 'X1'])]]);
    expect(() => PushSources.from(twice)).toThrow(/agency X1 already pushes supervision-record into source a-src \(a-src\.yaml\)/);
  });

  it('refuses a schedule on a push source when the source is loaded: it is never pulled', () => {
    expect(() => pushSource('sched', ['X1'], '  schedule: "*/5 * * * *"\n')).toThrow(ConfigError);
    expect(() => pushSource('sched', ['X1'], '  schedule: "*/5 * * * *"\n')).toThrow(/never pulled, so it takes no schedule/);
  });

  it('refuses a push configuration without agencies', () => {
    expect(() => pushSource('none', [])).toThrow(/connector\.config\.agencies/);
  });

  it('fails a pull of a push source with the reason instead of reading nothing', async () => {
    const gen = push.read({ agencies: ['X1'], id_field: 'id' }, null, { logger: undefined as never, signal: new AbortController().signal, secret: () => '' });
    await expect(gen.next()).rejects.toThrow(SourceError);
    await expect(push.check({ agencies: ['X1'], id_field: 'id' }, undefined as never)).resolves.toMatch(/push source/);
  });

  it('normalises an environment bureau case as the bureau pushes it', () => {
    const outcome = normalise(shipped.get('jq-sthj-cases')!, {
      case_no: 'HJ-2025-0031',
      action_type: '行政处罚',
      decision_no: '酒环罚〔2025〕31号',
      party: { kind: '企业', name: '酒泉某化工有限公司', uscc: '91620922MB5358720L' },
      region_code: '620922',
      violation_type: '非法处置危险废物',
      violation_facts: '将废矿物油倾倒于厂区外沟渠，举报人电话13812345678。',
      penalty_kinds: ['罚款', '责令停产停业'],
      fine_amount: '200000',
      hazardous_waste_t: '3.5吨',
      decided_on: '2025-10-12',
      status: '已移送',
      transferred_to_police: true,
      transferred_on: '2025-10-20',
      updated_at: '2025-10-20T09:30:00+08:00',
    });
    if (outcome.kind !== 'canonical') throw new Error(JSON.stringify(outcome.letter.errors));
    expect(outcome.key).toBe(`${ENVIRONMENT_BUREAU}:HJ-2025-0031`);
    expect(outcome.record).toMatchObject({
      agency_code: ENVIRONMENT_BUREAU,
      agency_name: '酒泉市生态环境局',
      domain: 'ENVIRONMENT',
      action_type: 'PENALTY',
      party: { kind: 'ORGANISATION', uscc: '91620922MB5358720L' },
      region_code: '620922',
      penalty_kinds: ['FINE', 'SUSPENSION'],
      fine_amount: '200000.00',
      status: 'TRANSFERRED',
      transferred_to_police: true,
      measures: [{ name: 'HAZARDOUS_WASTE', value: 3.5, unit: 't' }],
    });
    expect(JSON.stringify(outcome.record)).not.toContain('13812345678');
  });

  it('normalises a 12309 supervision record as the procuratorate pushes it', () => {
    const outcome = normalise(shipped.get('jq-procuratorate-12309')!, {
      record_id: 'JJ-12309-2025-0088',
      kind: '检察建议',
      doc_no: '酒检行建〔2025〕9号',
      target_agency_code: ENVIRONMENT_BUREAU,
      related_decision_nos: ['酒环罚〔2025〕31号'],
      party: { name: '酒泉某化工有限公司', uscc: '91620922MB5358720L' },
      region_code: '620922',
      summary: '督促依法履行危险废物监管职责',
      issued_on: '2025-11-01',
      status: '待回复',
      updated_at: '2025-11-01T10:00:00+08:00',
    });
    if (outcome.kind !== 'canonical') throw new Error(JSON.stringify(outcome.letter.errors));
    expect(outcome.key).toBe('JJ-12309-2025-0088');
    expect(outcome.record).toMatchObject({
      procuratorate_code: PROCURATORATE,
      kind: 'PROCURATORIAL_SUGGESTION',
      target_agency_code: ENVIRONMENT_BUREAU,
      related_decision_nos: ['酒环罚〔2025〕31号'],
      status: 'AWAITING_REPLY',
      reply_due_on: '2026-01-01',
    });
  });

  it('turns a pushed record with a bad date into a dead letter that names the field', () => {
    const outcome = normalise(shipped.get('jq-sthj-cases')!, { case_no: 'HJ-BAD', decided_on: '2025-13-45', updated_at: '2025-10-20T09:30:00+08:00' });
    if (outcome.kind !== 'dead') throw new Error('expected a dead letter');
    expect(outcome.letter.errors).toEqual([expect.objectContaining({ field: 'decided_on', code: 'BAD_DATE' })]);
  });
});
