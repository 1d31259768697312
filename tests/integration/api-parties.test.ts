import { usccCheckChar } from '../../pipelines/normalise/parsers/parse-uscc';
import type { TestHub } from '../support/api';
import { eventually } from '../support/helpers';
import { clearIdentifiers, creditCode, hashesIn, idNumber, mobile, startReadHub, type ReadHub } from './api-read-fixtures';

const COMPANY_A = creditCode('91620902MA5726159');
const COMPANY_C = creditCode('91620982MA8Y3L4R2');
const UNKNOWN_COMPANY = creditCode('91620923MA9W1P2N3');
const PERSON_ID = idNumber('62092119810823123');
const CALLER_PHONE = mobile();

let read: ReadHub;
let hub: TestHub;

beforeAll(async () => {
  read = await startReadHub();
  hub = read.hub;
  const penalty = (n: number, over: Record<string, unknown>) => ({
    案件编号: `AJ-${n}`, 决定书文号: `酒市监罚〔2025〕${n}号`, 行为类别: '一般程序', 区划代码: '620902', 违法行为类型: '销售假冒注册商标的商品',
    处罚种类: '罚款', '罚款金额（万元）': '8', 违法行为发生日期: '2025-03-01', 处罚决定日期: '2025-04-01', 案件状态: '已决定', 是否移送公安: '否', 更新时间: '2025-04-02 10:00:00', ...over,
  });
  // Pulled: the penalty source has an http-pull connector.
  await read.load('penalty', [
    penalty(1, { 当事人类型: '法人', 当事人名称: '酒泉祁连商贸有限公司', 统一社会信用代码: COMPANY_A }),
    penalty(2, { 当事人类型: '自然人', 当事人名称: '张三丰', 身份证号码: PERSON_ID, 区划代码: '620921', 主要违法事实: `张三丰（${PERSON_ID}）销售假冒白酒`, 处罚决定日期: '2025-05-10' }),
  ]);
  // Pushed: the hotline and the procuratorate have no connector.
  await read.load('hotline', [
    { 工单编号: 'GD-1', 来源渠道: '电话', 受理时间: '2025-03-20 09:00:00', 诉求类型: '举报', 标题: '商贸公司销售假酒', 诉求内容: `王小明（${CALLER_PHONE}）举报`, 来电人: '王小明', 联系电话: CALLER_PHONE, 所属区县: '620902', 被反映对象: '酒泉祁连商贸有限公司', 被反映对象信用代码: COMPANY_A, 工单状态: '已办结', 更新时间: '2025-03-25 10:00:00' },
    { 工单编号: 'GD-9', 来源渠道: '电话', 受理时间: '2025-03-22 09:00:00', 诉求类型: '投诉', 标题: '噪声', 所属区县: '620982', 被反映对象: '敦煌鸣沙酒店有限公司', 被反映对象信用代码: COMPANY_C, 工单状态: '已办结', 更新时间: '2025-03-25 10:00:00' },
  ]);
  await read.load('supervision', [
    // Names no party: it reaches the company through the decision number and the ticket it cites.
    { 案件编号: 'JC-1', 检察院代码: '11620900013905600W', 监督类型: '检察意见(移送)', 文书编号: '酒检意〔2025〕3号', 关联处罚决定书: '酒市监罚〔2025〕1号', 关联12345工单: 'GD-1', 所属区县: '620902', 内容摘要: '建议移送', 发出日期: '2025-05-01', 办理状态: '待回复', 更新时间: '2025-05-01 12:00:00' },
    { 案件编号: 'JC-2', 检察院代码: '11620900013905600W', 监督类型: '检察意见(不起诉后行政处罚)', 当事人名称: '张三丰', 当事人身份证号: PERSON_ID, 所属区县: '620921', 内容摘要: '不起诉后建议给予行政处罚', 发出日期: '2025-06-01', 办理状态: '待回复', 更新时间: '2025-06-01 12:00:00' },
  ]);
});
afterAll(() => read?.close());

/** `relation:id` of the records of a type; case ids lose their agency prefix (`<agency>:AJ-1`). */
const idsOf = (body: any, dataset: string) =>
  (body.records[dataset] ?? []).map((r: any) => `${r.relation}:${String(r.record.case_id ?? r.record.ticket_id ?? r.record.record_id).split(':').pop()}`).sort();
const NEITHER = '62092119811323123' + [...'0123456789'].find((c) => c !== usccCheckChar('62092119811323123'));
const CASE = (n: number) => `11620900MB19512346:AJ-${n}`;
const WRONG_CHECK_ID = PERSON_ID.slice(0, 17) + (PERSON_ID[17] === '0' ? '1' : '0');

/** When the hub first and last learned of the given records (their history's recorded times), written as the API writes times. */
async function learned(records: Array<[table: string, idColumn: string, id: string]>): Promise<{ first_seen: string; last_seen: string }> {
  const union = records.map(([table, column]) => `select recorded_at from core.${table}_history where ${column} = ?`).join(' union all ');
  const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const { rows } = await read.db.raw(`select ${iso('min(recorded_at)')} as first_seen, ${iso('max(recorded_at)')} as last_seen from (${union}) h`, records.map(([, , id]) => id));
  return rows[0];
}

describe('GET /v1/parties/:key — refusals', () => {
  it('answers 401 without a key', async () => {
    expect((await hub.call('GET', `/v1/parties/${COMPANY_A}`)).status).toBe(401);
  });

  it('answers 403 to a key that may read no dataset', async () => {
    const res = await hub.call('GET', `/v1/parties/${COMPANY_A}`, { key: await hub.key(['ingest:enforcement-case', 'read:pii']) });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('SCOPE_MISSING');
  });

  it('answers 403 to a lookup by ID number, or by an ID party key, without read:pii', async () => {
    const key = await hub.key(['read:*']);
    for (const path of [`/v1/parties/${PERSON_ID}`, `/v1/parties/ID:${'a'.repeat(64)}`]) {
      const res = await hub.call('GET', path, { key });
      expect(res.status).toBe(403);
      expect(res.body.details.required).toBe('read:pii');
    }
  });

  it.each([
    ['a credit code with a wrong check character', `${COMPANY_A.slice(0, 17)}${COMPANY_A[17] === '0' ? '1' : '0'}`],
    // It passes a credit code's check, by chance: its birth date makes it an ID number.
    ['an ID number with a wrong check character', WRONG_CHECK_ID],
    // No birth date in it (month 13), so not an ID number; and not a credit code either.
    ['an 18-digit number that is neither an ID number nor a credit code', NEITHER],
    ['something of no known shape', 'acme-trading'],
    ['a malformed party key', 'USCC:123'],
  ])('answers 400 to %s, without echoing it', async (_what, key) => {
    const res = await hub.call('GET', `/v1/parties/${encodeURIComponent(key)}`, { key: await hub.key(['read:*', 'read:pii']) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'params' } });
    expect(res.text).not.toContain(key);
  });

  it('answers 400 to a limit above 500 and to an unknown query parameter', async () => {
    const key = await hub.key(['read:*']);
    expect((await hub.call('GET', `/v1/parties/${COMPANY_A}?limit=501`, { key })).status).toBe(400);
    expect((await hub.call('GET', `/v1/parties/${COMPANY_A}?expand=all`, { key })).status).toBe(400);
  });

  it('answers 404 to an unknown party, and to one known only from data the key may not read', async () => {
    const all = await hub.key(['read:*']);
    expect((await hub.call('GET', `/v1/parties/${UNKNOWN_COMPANY}`, { key: all })).body.code).toBe('PARTY_NOT_FOUND');
    expect((await hub.call('GET', `/v1/parties/${COMPANY_C}`, { key: all })).status).toBe(200);
    const casesOnly = await hub.key(['read:enforcement-case']);
    expect((await hub.call('GET', `/v1/parties/${COMPANY_C}`, { key: casesOnly })).status).toBe(404);
  });
});

describe('GET /v1/parties/:key — the party 360', () => {
  it('lets an analyst read a company by credit code: pulled cases, pushed tickets and supervision, and the links between them', async () => {
    const res = await hub.call('GET', `/v1/parties/${COMPANY_A}`, { key: await hub.key(['read:*']) });
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body.found_by).toBe('credit_code');
    expect(body.party).toMatchObject({ party_key: `USCC:${COMPANY_A}`, kind: 'ORGANISATION', name: '酒泉祁连商贸有限公司', uscc: COMPANY_A, confidence: 'high' });
    expect(idsOf(body, 'enforcement-case')).toEqual(['party:AJ-1']);
    expect(idsOf(body, 'hotline-ticket')).toEqual(['party:GD-1']);
    expect(idsOf(body, 'supervision-record')).toEqual(['linked:JC-1']);
    expect(body.links).toEqual(
      expect.arrayContaining([
        { from: { dataset: 'hotline-ticket', id: 'GD-1' }, to: { dataset: 'enforcement-case', id: CASE(1) }, via: 'uscc' },
        { from: { dataset: 'enforcement-case', id: CASE(1) }, to: { dataset: 'supervision-record', id: 'JC-1' }, via: 'decision_no' },
        { from: { dataset: 'hotline-ticket', id: 'GD-1' }, to: { dataset: 'supervision-record', id: 'JC-1' }, via: 'cited' },
      ]),
    );
    expect(body.links).toHaveLength(3);
    // Seen when the hub learned the records that name it: the case (pulled first) and the ticket (pushed after).
    const seen = await learned([['enforcement_case', 'case_id', CASE(1)], ['hotline_ticket', 'ticket_id', 'GD-1']]);
    expect(seen.first_seen < seen.last_seen).toBe(true);
    expect(body.party).toMatchObject(seen);
    const delivery = Object.fromEntries(body.sources.map((s: any) => [s.id, s.delivery]));
    expect(delivery).toEqual({ [read.sources.penalty]: 'pull', [read.sources.hotline]: 'push', [read.sources.supervision]: 'push' });
    expect(body.record_types.every((t: any) => t.accessible)).toBe(true);
    expect(clearIdentifiers(res.text)).toEqual([]);
    expect(hashesIn(res.text)).toEqual([]);
    expect(res.text).not.toContain('王小明');
  });

  it('leaves out the record types the key may not read, and the links through them', async () => {
    const res = await hub.call('GET', `/v1/parties/${COMPANY_A}`, { key: await hub.key(['read:enforcement-case', 'read:supervision-record']) });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.records).sort()).toEqual(['enforcement-case', 'supervision-record']);
    expect(res.body.record_types.find((t: any) => t.dataset === 'hotline-ticket')).toEqual({ dataset: 'hotline-ticket', required_scope: 'read:hotline-ticket', accessible: false, count: null, truncated: false });
    expect(res.body.links).toEqual([{ from: { dataset: 'enforcement-case', id: CASE(1) }, to: { dataset: 'supervision-record', id: 'JC-1' }, via: 'decision_no' }]);
    expect(JSON.stringify(res.body.links)).not.toContain('hotline-ticket');
    // Nor when the hub learned the ticket: seen from the case alone.
    expect(res.body.party).toMatchObject(await learned([['enforcement_case', 'case_id', CASE(1)]]));
  });

  it('finds a person by ID number with read:pii — the 18-character and the old 15-digit form — hashing it as the normaliser did', async () => {
    const key = await hub.key(['read:*', 'read:pii']);
    const stored = await read.db('core.enforcement_case').where({ case_id: CASE(2) }).first();
    const byId = await hub.call('GET', `/v1/parties/${PERSON_ID}`, { key });
    expect(byId.status).toBe(200);
    expect(byId.body.found_by).toBe('id_number');
    expect(byId.body.party).toMatchObject({ party_key: `ID:${stored.party_id_hash}`, kind: 'INDIVIDUAL', name: '张**', id_hash: stored.party_id_hash, id_masked: stored.party_id_masked });
    expect(idsOf(byId.body, 'enforcement-case')).toEqual(['party:AJ-2']);
    expect(idsOf(byId.body, 'supervision-record')).toEqual(['party:JC-2']);
    const old15 = PERSON_ID.slice(0, 6) + PERSON_ID.slice(8, 17);
    const byOld = await hub.call('GET', `/v1/parties/${old15}`, { key });
    expect(byOld.body.party.party_key).toBe(byId.body.party.party_key);
    const byKey = await hub.call('GET', `/v1/parties/ID:${stored.party_id_hash}`, { key });
    expect(byKey.body.found_by).toBe('party_key');
    expect(byKey.body.records).toEqual(byId.body.records);
    expect(clearIdentifiers(byId.text)).toEqual([]);
  });

  it('never writes the ID number or its hash to the log, and the audit holds the route template only', async () => {
    const key = await hub.key(['read:*', 'read:pii']);
    const stored = await read.db('core.enforcement_case').where({ case_id: CASE(2) }).first();
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: any, ...rest: any[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      expect((await hub.call('GET', `/v1/parties/${PERSON_ID}`, { key })).status).toBe(200);
      expect((await hub.call('GET', `/v1/parties/${WRONG_CHECK_ID}`, { key })).status).toBe(400);
    } finally {
      process.stderr.write = write;
    }
    const log = lines.join('');
    expect(log).not.toContain(PERSON_ID.slice(0, 17));
    expect(log).not.toContain(stored.party_id_hash);
    // The audit writer appends in the background: wait for the two rows of this key (ld_<key id>.<secret>).
    const audit = await eventually(async () => {
      const rows = await read.db('ops.audit_log').where({ key_id: key.slice(3, 19) }).select('route', 'status');
      return rows.length >= 2 && rows;
    }, 30_000, 'the audit rows of the two lookups');
    expect(audit.map((r: { route: string; status: number }) => `${r.status} ${r.route}`).sort()).toEqual(['200 /v1/parties/:key', '400 /v1/parties/:key']);
    expect(JSON.stringify(audit)).not.toContain(PERSON_ID.slice(0, 17));
  });
});
