import { avroType } from '../../schemas/catalog';
import type { TestHub } from '../support/api';
import { clearIdentifiers, creditCode, hashesIn, idNumber, mobile, startReadHub, type ReadHub } from './api-read-fixtures';

const COMPANY_A = creditCode('91620902MA5726159');
const COMPANY_B = creditCode('91620981MA7X2K3Q1');
const PERSON_ID = idNumber('62092119810823123');
const CALLER_PHONE = mobile();

let read: ReadHub;
let hub: TestHub;
const loaded: Record<string, Array<Record<string, any>>> = {};

/** The date `days` after 2025-01-01. */
const day = (days: number) => new Date(Date.UTC(2025, 0, 1 + days)).toISOString().slice(0, 10);

function penalty(n: number, over: Record<string, unknown>): Record<string, unknown> {
  return {
    案件编号: `AJ-${n}`,
    决定书文号: `酒市监罚〔2025〕${n}号`,
    行为类别: '一般程序',
    当事人类型: '法人',
    区划代码: '620902',
    违法行为类型: '销售假冒注册商标的商品',
    主要违法事实: '销售假冒注册商标的白酒',
    处罚依据: '《中华人民共和国商标法》第六十条',
    处罚种类: '罚款',
    '罚款金额（万元）': '8',
    违法行为发生日期: '2025-01-01',
    案件状态: '已决定',
    是否移送公安: '否',
    更新时间: '2025-06-01 10:00:00',
    ...over,
  };
}

beforeAll(async () => {
  read = await startReadHub();
  hub = read.hub;
  // 23 cases against company B: two per decision date (ties are broken by case id), two districts, two statuses.
  const bulk = Array.from({ length: 23 }, (_, i) =>
    penalty(100 + i, { 当事人名称: '玉门宏达建材有限公司', 统一社会信用代码: COMPANY_B, 区划代码: i % 2 === 0 ? '620981' : '620982', 处罚决定日期: day(Math.floor(i / 2) * 7), 案件状态: i % 3 === 0 ? '已结案' : '已决定' }),
  );
  loaded.cases = await read.load('penalty', [
    ...bulk,
    penalty(1, { 当事人名称: '酒泉祁连商贸有限公司', 统一社会信用代码: COMPANY_A, 处罚决定日期: '2025-04-01' }),
    penalty(2, {
      当事人类型: '自然人',
      当事人名称: '张三丰',
      身份证号码: PERSON_ID,
      区划代码: '620921',
      主要违法事实: `张三丰（身份证${PERSON_ID}，电话${CALLER_PHONE}）在金塔县销售假冒白酒`,
      处罚决定日期: '2025-05-10',
      案件状态: '已结案',
    }),
  ]);
  const ticket = (id: string, over: Record<string, unknown>) => ({ 工单编号: id, 来源渠道: '电话', 诉求类型: '投诉', 工单状态: '已办结', 满意度: '满意', 更新时间: '2025-06-01 10:00:00', ...over });
  loaded.tickets = await read.load('hotline', [
    ticket('GD-1', { 受理时间: '2025-03-20 09:00:00', 涉及领域: '食品安全', 标题: '反映商贸公司销售假酒', 诉求内容: `市民王小明（${CALLER_PHONE}）反映该公司销售假酒`, 来电人: '王小明', 联系电话: CALLER_PHONE, 所属区县: '620902', 事发地址: '肃州区某路1号', 被反映对象: '酒泉祁连商贸有限公司', 被反映对象信用代码: COMPANY_A }),
    // 00:30 on 1 April in Jiuquan is still 31 March in UTC: the day filters use the city's day.
    ticket('GD-2', { 受理时间: '2025-04-01 00:30:00', 涉及领域: '环境污染', 标题: '建材厂粉尘污染', 诉求内容: '建材厂夜间粉尘排放', 所属区县: '620981', 被反映对象: '玉门宏达建材有限公司', 被反映对象信用代码: COMPANY_B }),
  ]);
  loaded.records = await read.load('supervision', [
    { 案件编号: 'JC-1', 检察院代码: '11620900013905600W', 监督类型: '检察意见(移送)', 文书编号: '酒检意〔2025〕3号', 关联处罚决定书: '酒市监罚〔2025〕1号', 所属区县: '620902', 内容摘要: '建议移送涉嫌犯罪案件', 发出日期: '2025-05-01', 办理状态: '待回复', 更新时间: '2025-05-01 12:00:00' },
    { 案件编号: 'JC-2', 检察院代码: '11620900013905600W', 监督类型: '检察意见(不起诉后行政处罚)', 当事人名称: '张三丰', 当事人身份证号: PERSON_ID, 所属区县: '620921', 内容摘要: `对张三丰（${PERSON_ID}）不起诉后建议给予行政处罚`, 发出日期: '2025-06-01', 办理状态: '待回复', 更新时间: '2025-06-01 12:00:00' },
  ]);
});
afterAll(() => read?.close());

const ids = (res: { body: any }, field: string) => res.body.records.map((r: any) => r[field]);

describe('GET /v1/datasets/:dataset/records — refusals', () => {
  it('answers 401 without a key', async () => {
    const res = await hub.call('GET', '/v1/datasets/enforcement-case/records');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('answers 403 to a key without read:<dataset>, an ingest grant included', async () => {
    for (const scopes of [['read:hotline-ticket'], ['ingest:enforcement-case'], ['read:pii']]) {
      const res = await hub.call('GET', '/v1/datasets/enforcement-case/records', { key: await hub.key(scopes) });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'SCOPE_MISSING', details: { required: 'read:enforcement-case' } });
    }
  });

  it.each([
    ['an unknown dataset', '/v1/datasets/penalties/records', 'params'],
    ['a limit above 500', '/v1/datasets/enforcement-case/records?limit=501', 'query'],
    ['a limit of 0', '/v1/datasets/enforcement-case/records?limit=0', 'query'],
    ['a credit code with a wrong check character', `/v1/datasets/enforcement-case/records?credit_code=${COMPANY_A.slice(0, 17)}${COMPANY_A[17] === '0' ? '1' : '0'}`, 'query'],
    ['a credit code of the wrong length', '/v1/datasets/enforcement-case/records?credit_code=9162', 'query'],
    ['a region code of odd length', '/v1/datasets/enforcement-case/records?region_code=620', 'query'],
    ['a date that does not exist', '/v1/datasets/enforcement-case/records?from=2025-02-30', 'query'],
    ['a range that ends before it starts', '/v1/datasets/enforcement-case/records?from=2025-05-01&to=2025-04-01', 'query'],
    ['a status of another dataset', '/v1/datasets/enforcement-case/records?status=AWAITING_REPLY', 'query'],
    ['a domain on supervision records', '/v1/datasets/supervision-record/records?domain=MARKET', 'query'],
    ['a misspelt filter', '/v1/datasets/enforcement-case/records?credit=x', 'query'],
    ['a cursor the API never issued', '/v1/datasets/enforcement-case/records?cursor=bm90LWEtY3Vyc29y', 'query'],
  ])('answers 400 to %s', async (_what, path, where) => {
    const res = await hub.call('GET', path, { key: await hub.key(['read:*']) });
    expect(res.status).toBe(400);
    expect(res.body.details.in).toBe(where);
    expect(res.body.details.issues.length).toBeGreaterThan(0);
  });

  it('answers 400 to a cursor sent with other filters than the page it came from', async () => {
    const key = await hub.key(['read:enforcement-case']);
    const first = await hub.call('GET', `/v1/datasets/enforcement-case/records?credit_code=${COMPANY_B}&limit=5`, { key });
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const other = await hub.call('GET', `/v1/datasets/enforcement-case/records?credit_code=${COMPANY_B}&status=CLOSED&limit=5&cursor=${first.body.next_cursor}`, { key });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe('BAD_CURSOR');
  });
});

describe('GET /v1/datasets/:dataset/records — filters and pages', () => {
  it('filters by credit code, region prefix, date range, status and domain', async () => {
    const key = await hub.key(['read:enforcement-case', 'read:hotline-ticket']);
    const get = (q: string) => hub.call('GET', `/v1/datasets/enforcement-case/records?limit=500&${q}`, { key });
    const bCases = loaded.cases.filter((c) => c.party.uscc === COMPANY_B);

    expect(ids(await get(`credit_code=${COMPANY_B.toLowerCase()}`), 'case_id').sort()).toEqual(bCases.map((c) => c.case_id).sort());
    expect(ids(await get('region_code=620981'), 'case_id').sort()).toEqual(loaded.cases.filter((c) => c.region_code === '620981').map((c) => c.case_id).sort());
    // 620900 is the city: every district in it.
    expect((await get('region_code=620900')).body.count).toBe(loaded.cases.length);
    const ranged = loaded.cases.filter((c) => c.decided_on >= '2025-02-01' && c.decided_on <= '2025-03-05');
    expect(ranged.length).toBeGreaterThan(0);
    expect(ids(await get('from=2025-02-01&to=2025-03-05'), 'case_id').sort()).toEqual(ranged.map((c) => c.case_id).sort());
    const closedB = bCases.filter((c) => c.status === 'CLOSED');
    expect(ids(await get(`credit_code=${COMPANY_B}&status=closed`), 'case_id').sort()).toEqual(closedB.map((c) => c.case_id).sort());
    expect((await get('status=DECIDED,CLOSED&domain=MARKET')).body.count).toBe(loaded.cases.length);
    expect((await get('domain=ENVIRONMENT')).body.count).toBe(0);

    const tickets = (q: string) => hub.call('GET', `/v1/datasets/hotline-ticket/records?${q}`, { key });
    expect(ids(await tickets('domain=ENVIRONMENT'), 'ticket_id')).toEqual(['GD-2']);
    expect(ids(await tickets(`credit_code=${COMPANY_A}`), 'ticket_id')).toEqual(['GD-1']);
    expect(ids(await tickets('from=2025-04-01&to=2025-04-01'), 'ticket_id')).toEqual(['GD-2']);
    expect(ids(await tickets('to=2025-03-31'), 'ticket_id')).toEqual(['GD-1']);
  });

  it('pages with a keyset cursor through every record once, newest first, ties broken by id', async () => {
    const key = await hub.key(['read:enforcement-case']);
    const expected = loaded.cases
      .filter((c) => c.party.uscc === COMPANY_B)
      .sort((a, b) => (a.decided_on === b.decided_on ? (a.case_id < b.case_id ? 1 : -1) : a.decided_on < b.decided_on ? 1 : -1))
      .map((c) => c.case_id);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: any } = await hub.call('GET', `/v1/datasets/enforcement-case/records?credit_code=${COMPANY_B}&limit=7${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(res.status).toBe(200);
      pages.push(ids(res, 'case_id'));
      cursor = res.body.next_cursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 2]);
    expect(pages.flat()).toEqual(expected);
  });

  it("answers records in the data standard's shape: with read:pii, exactly the canonical record the normaliser produced", async () => {
    const key = await hub.key(['read:*', 'read:pii']);
    for (const [dataset, field, records] of [
      ['enforcement-case', 'case_id', loaded.cases],
      ['hotline-ticket', 'ticket_id', loaded.tickets],
      ['supervision-record', 'record_id', loaded.records],
    ] as const) {
      const res = await hub.call('GET', `/v1/datasets/${dataset}/records?limit=500`, { key });
      expect(res.body.personal_data).toBe('with_hashes');
      const byId = new Map(res.body.records.map((r: any) => [r[field], r]));
      for (const record of records) {
        expect(byId.get(record[field])).toEqual(record);
        expect(avroType(dataset).isValid(byId.get(record[field]))).toBe(true);
      }
    }
  });
});

describe('GET /v1/datasets/:dataset/records — personal data', () => {
  it('answers no clear ID or phone number, no keyed hash and no clear name of a person without read:pii', async () => {
    const key = await hub.key(['read:*']);
    for (const dataset of ['enforcement-case', 'hotline-ticket', 'supervision-record']) {
      const res = await hub.call('GET', `/v1/datasets/${dataset}/records?limit=500`, { key });
      expect(res.status).toBe(200);
      expect(res.body.personal_data).toBe('masked');
      expect(res.body.count).toBeGreaterThan(0);
      expect(clearIdentifiers(res.text)).toEqual([]);
      expect(hashesIn(res.text)).toEqual([]);
      for (const clear of [PERSON_ID, CALLER_PHONE, '张三丰', '王小明']) expect(res.text).not.toContain(clear);
    }
    const person = (await hub.call('GET', `/v1/datasets/enforcement-case/records?region_code=620921`, { key })).body.records[0];
    expect(person.party).toEqual({ kind: 'INDIVIDUAL', name: '张**', uscc: null, id_masked: `${PERSON_ID.slice(0, 6)}********${PERSON_ID.slice(-4)}`, region_code: null });
    expect(person.party).not.toHaveProperty('id_hash');
    expect(person.violation_facts).toContain(`${CALLER_PHONE.slice(0, 3)}****${CALLER_PHONE.slice(-4)}`);
    const ticket = (await hub.call('GET', '/v1/datasets/hotline-ticket/records?domain=FOOD_DRUG_SAFETY', { key })).body.records[0];
    expect(ticket).not.toHaveProperty('caller_phone_hash');
    expect(ticket).toMatchObject({ caller_name_masked: '王**', caller_phone_masked: `${CALLER_PHONE.slice(0, 3)}****${CALLER_PHONE.slice(-4)}` });
  });

  it('adds the keyed hashes with read:pii, and still no clear ID or phone number (the warehouse has none)', async () => {
    const key = await hub.key(['read:*', 'read:pii']);
    const res = await hub.call('GET', '/v1/datasets/hotline-ticket/records?domain=FOOD_DRUG_SAFETY', { key });
    const stored = await read.db('core.hotline_ticket').where({ ticket_id: 'GD-1' }).first();
    expect(res.body.records[0].caller_phone_hash).toBe(stored.caller_phone_hash);
    expect(stored.caller_phone_hash).toMatch(/^[0-9a-f]{64}$/);
    const cases = await hub.call('GET', '/v1/datasets/enforcement-case/records?region_code=620921', { key });
    expect(cases.body.records[0].party.id_hash).toMatch(/^[0-9a-f]{64}$/);
    for (const r of [res, cases]) expect(clearIdentifiers(r.text)).toEqual([]);
  });
});
