import { rawTopic } from '../../schemas/catalog';
import { IngestWorld, messageCount, readSince, startIngestWorld } from './api-ingest-setup';

const BUREAU = '11620900MB1952208N'; // the agency_code constant of the environment bureau's mapping
const ID_NUMBER = '11010519491231002X';
const MOBILE = '13812345678';

const caseRecord = (caseNo: string, over: Record<string, unknown> = {}) => ({
  case_no: caseNo,
  action_type: '行政处罚',
  decision_no: `酒环罚〔2025〕${caseNo.slice(-3)}号`,
  party: { kind: '企业', name: '酒泉某化工有限公司', uscc: '91620922MB5358720L' },
  region_code: '620922',
  violation_type: '非法处置危险废物',
  violation_facts: '将废矿物油倾倒于厂区外沟渠',
  penalty_kinds: ['罚款', '责令停产停业'],
  fine_amount: '200000',
  hazardous_waste_t: '3.5吨',
  decided_on: '2025-10-12',
  status: '已决定',
  updated_at: '2025-10-20T09:30:00+08:00',
  ...over,
});

const INJECTED_KEY = "HJ-9'); DROP TABLE ops.ingest_receipts; --";
const INJECTED_FACTS = `<script>alert('x')</script><img src=x onerror=alert(1)>' OR '1'='1'; DELETE FROM ops.dlq; --`;

describe('POST /v1/ingest/:dataset and GET /v1/receipts/:id', () => {
  let world: IngestWorld;
  let envKey: string;

  beforeAll(async () => {
    world = await startIngestWorld((c) => ({ ...c, hub: { ...c.hub, max_batch_records: 50 } }));
    envKey = await world.key('env', ['ingest:enforcement-case']);
  });

  afterAll(async () => {
    await world?.close();
  });

  const post = (key: string | undefined, body: unknown, dataset = 'enforcement-case') => world.hub.call('POST', `/v1/ingest/${dataset}`, { key, body });

  it('refuses a request without a key, or with an unknown one (401)', async () => {
    expect((await post(undefined, { records: [caseRecord('A-001')] })).status).toBe(401);
    const unknown = await post('ld_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { records: [caseRecord('A-001')] });
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a key without ingest:<dataset>, and a key whose agency has no push source for the dataset (403)', async () => {
    const readOnly = await world.key('env', ['read:enforcement-case']);
    const noScope = await post(readOnly, { records: [caseRecord('A-001')] });
    expect(noScope.status).toBe(403);
    expect(noScope.body).toMatchObject({ code: 'SCOPE_MISSING', details: { required: 'ingest:enforcement-case' } });

    const otherAgency = await world.hub.key(['ingest:enforcement-case']);
    const noSource = await post(otherAgency, { records: [caseRecord('A-001')] });
    expect(noSource.status).toBe(403);
    expect(noSource.body.code).toBe('NO_PUSH_SOURCE');

    // The bureau pushes cases, not supervision records.
    const wrongDataset = await post(await world.key('env', ['ingest:*']), { records: [{ record_id: 'R-1' }] }, 'supervision-record');
    expect(wrongDataset.status).toBe(403);
    expect(wrongDataset.body.code).toBe('NO_PUSH_SOURCE');
  });

  it.each([
    ['a body that is not JSON', undefined, '{"records": [', 'MALFORMED_JSON'],
    ['a body that is an array', [caseRecord('A-001')], undefined, 'VALIDATION_FAILED'],
    ['records that are not an array', { records: caseRecord('A-001') }, undefined, 'VALIDATION_FAILED'],
    ['no records', { records: [] }, undefined, 'VALIDATION_FAILED'],
    ['more records than a batch may hold', { records: Array.from({ length: 51 }, (_, i) => caseRecord(`A-${i}`)) }, undefined, 'VALIDATION_FAILED'],
    ['an unknown key beside records', { records: [caseRecord('A-001')], extra: 1 }, undefined, 'VALIDATION_FAILED'],
  ])('answers 400 to %s, and sends nothing', async (_what, body, rawBody, code) => {
    const before = await messageCount(world, rawTopic(world.ids.env));
    const res = await world.hub.call('POST', '/v1/ingest/enforcement-case', { key: envKey, body, rawBody });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(await messageCount(world, rawTopic(world.ids.env))).toBe(before);
  });

  it('answers 400 to an unknown dataset', async () => {
    const res = await post(envKey, { records: [caseRecord('A-001')] }, 'parking-ticket');
    expect(res.status).toBe(400);
    expect(res.body.details.issues[0].path).toBe('dataset');
  });

  describe('a batch with good and bad records, followed to every fate', () => {
    const since = new Date();
    const batch: unknown[] = [
      caseRecord('HJ-2025-001'),
      caseRecord('HJ-2025-002', { party: { kind: '自然人', name: '张三丰', id_number: ID_NUMBER }, violation_facts: `张三丰在瓜州县非法倾倒危废，举报人电话${MOBILE}` }),
      caseRecord('HJ-2025-003', { decided_on: '2025-13-45' }),
      caseRecord('HJ-2025-004', { party: { name: '酒泉某公司', uscc: 'ABC123' } }),
      '这不是一条记录',
      { decision_no: '酒环罚〔2025〕5号' },
      caseRecord('HJ-2025-001'),
      caseRecord(INJECTED_KEY, { violation_facts: INJECTED_FACTS }),
      caseRecord('HJ-2025-008', { party: { kind: '自然人', id_number: 110105194912310020 } }),
    ];
    let first: any;
    let settled: any;

    beforeAll(async () => {
      const res = await post(envKey, { records: batch });
      expect(res.status).toBe(202);
      first = res.body;
      settled = await world.settled(first.receipt_url, envKey);
    });

    it('answers with a receipt: what was taken in, what was refused at the door and why', () => {
      expect(first).toMatchObject({ source_id: world.ids.env, dataset: 'enforcement-case', records: 9, accepted: 6, receipt_url: `/v1/receipts/${first.receipt_id}` });
      expect(first.rejected).toEqual([
        { index: 4, code: 'NOT_AN_OBJECT', message: expect.any(String) },
        { index: 5, code: 'MISSING_RECORD_ID', message: expect.stringContaining('case_no') },
        { index: 8, code: 'UNSAFE_NUMBER', message: expect.stringContaining('party.id_number') },
      ]);
      expect(first.duplicates).toEqual([{ index: 6, duplicate_of: { receipt_id: first.receipt_id, index: 0 } }]);
    });

    it('shows every record of the receipt in its final fate', () => {
      const fates = settled.records.map((r: any) => [r.index, r.fate]);
      expect(fates).toEqual([[0, 'canonical'], [1, 'canonical'], [2, 'dead_letter'], [3, 'dead_letter'], [4, 'rejected'], [5, 'rejected'], [6, 'duplicate'], [7, 'canonical'], [8, 'rejected']]);
      expect(settled.records[0]).toMatchObject({ record_key: 'HJ-2025-001', dataset: 'enforcement-case', record_id: `${BUREAU}:HJ-2025-001` });
      expect(settled.records[2].errors).toEqual([expect.objectContaining({ field: 'decided_on', code: 'BAD_DATE' })]);
      expect(settled.records[3].errors).toEqual([expect.objectContaining({ field: 'party.uscc', code: 'BAD_USCC' })]);
      expect(settled.records[6]).toMatchObject({ duplicate_of: { receipt_id: first.receipt_id, index: 0 }, original: { fate: 'canonical', record_id: `${BUREAU}:HJ-2025-001` } });
      expect(settled.counts).toEqual({ records: 9, rejected: 3, duplicate: 1, canonical: 4, dead_letter: 2, pending: 0 });
      expect(settled.complete).toBe(true);
    });

    it('lands each accepted record once in the raw topic at the position the receipt follows, and its canonical record points back there', async () => {
      const rows = await world.db('ops.ingest_records').where({ receipt_id: first.receipt_id, outcome: 'accepted' }).orderBy('idx');
      expect(rows.map((r) => r.idx)).toEqual([0, 1, 2, 3, 7]);
      const raw = await readSince(world, rawTopic(world.ids.env), since, (v) => v.run_id === first.receipt_id);
      expect(raw).toHaveLength(5);
      for (const row of rows) {
        const message = raw.find((m) => m.partition === row.raw_partition && m.offset === String(row.raw_offset));
        expect(message?.value).toMatchObject({ record_key: row.record_key, payload_sha256: row.payload_sha256, source_id: world.ids.env, dataset: 'enforcement-case' });
      }
      const canonical = await readSince(world, 'canonical.enforcement-case', since, (v) => v.lineage.source_id === world.ids.env);
      const mine = settled.records.filter((r: any) => r.fate === 'canonical');
      for (const r of mine) {
        const row = rows.find((x) => x.idx === r.index)!;
        const record = canonical.find((m) => m.value.lineage.raw_partition === row.raw_partition && String(m.value.lineage.raw_offset) === String(row.raw_offset));
        expect(record?.key).toBe(r.record_id);
      }
    });

    it('stores SQL and script text as inert text: verbatim on the canonical topic and in the receipt, nothing executed', async () => {
      expect(settled.records[7]).toMatchObject({ record_key: INJECTED_KEY, fate: 'canonical', record_id: `${BUREAU}:${INJECTED_KEY}` });
      const canonical = await readSince(world, 'canonical.enforcement-case', since, (v) => v.lineage.source_id === world.ids.env && v.case_id === `${BUREAU}:${INJECTED_KEY}`);
      expect(canonical).toHaveLength(1);
      expect(canonical[0].value.violation_facts).toBe(INJECTED_FACTS);
      // The tables the text names are still there, rows and all.
      expect(Number((await world.db('ops.ingest_receipts').count({ n: '*' }))[0].n)).toBeGreaterThan(0);
      expect(Number((await world.db('ops.dlq').where({ source_id: world.ids.env }).count({ n: '*' }))[0].n)).toBe(2);
    });

    it('takes a re-post of the same batch in without sending anything again; every record points at its original and shares its fate', async () => {
      const before = await messageCount(world, rawTopic(world.ids.env));
      const again = await post(envKey, { records: batch });
      expect(again.status).toBe(202);
      expect(again.body.accepted).toBe(6);
      expect(again.body.duplicates).toEqual([0, 1, 2, 3, 6, 7].map((index) => ({ index, duplicate_of: { receipt_id: first.receipt_id, index: index === 6 ? 0 : index } })));
      expect(again.body.rejected.map((r: any) => r.index)).toEqual([4, 5, 8]);
      expect(await messageCount(world, rawTopic(world.ids.env))).toBe(before);

      const view = (await world.hub.call('GET', again.body.receipt_url, { key: envKey })).body;
      expect(view.complete).toBe(true);
      for (const r of view.records.filter((x: any) => x.fate === 'duplicate')) {
        const original = settled.records[r.duplicate_of.index];
        const { index: _i, record_key: _k, fate: _f, ...originalFate } = original;
        expect(r.original).toEqual(original.fate === 'duplicate' ? original.original : { fate: original.fate, ...originalFate });
      }
    });

    it('takes a corrected version of a dead-lettered record as a new version, and it becomes canonical', async () => {
      const fixed = await post(envKey, { records: [caseRecord('HJ-2025-003')] });
      expect(fixed.body.duplicates).toEqual([]);
      const view = await world.settled(fixed.body.receipt_url, envKey);
      expect(view.records[0]).toMatchObject({ fate: 'canonical', record_id: `${BUREAU}:HJ-2025-003` });
      expect((await world.hub.call('GET', first.receipt_url, { key: envKey })).body.records[2].fate).toBe('dead_letter');
    });

    it('shows a receipt to its own agency and to an admin only; to anyone else it does not exist', async () => {
      const procKey = await world.key('proc', ['ingest:supervision-record', 'read:enforcement-case']);
      const foreign = await world.hub.call('GET', first.receipt_url, { key: procKey });
      const unknown = await world.hub.call('GET', '/v1/receipts/rc_000000000000000000000000', { key: procKey });
      const malformed = await world.hub.call('GET', '/v1/receipts/anything', { key: procKey });
      for (const res of [foreign, unknown, malformed]) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ code: 'RECEIPT_NOT_FOUND', message: unknown.body.message, details: {} });
      }
      const sameAgency = await world.key('env', ['read:enforcement-case']);
      expect((await world.hub.call('GET', first.receipt_url, { key: sameAgency })).status).toBe(200);
      const admin = await world.hub.key(['admin']);
      expect((await world.hub.call('GET', first.receipt_url, { key: admin })).status).toBe(200);
      expect((await world.hub.call('GET', first.receipt_url)).status).toBe(401);
      const tooLong = await world.hub.call('GET', `/v1/receipts/${'x'.repeat(101)}`, { key: admin });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.code).toBe('VALIDATION_FAILED');
    });
  });

  it('counts accepted and refused records for /metrics', async () => {
    const counter = async (outcome: string) => {
      const text = (await world.hub.call('GET', '/metrics')).text;
      const m = new RegExp(`^liandong_records_ingested_total\\{dataset="enforcement-case",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = { accepted: await counter('accepted'), rejected: await counter('rejected') };
    const res = await post(envKey, { records: [caseRecord('M-001'), caseRecord('M-002'), 42] });
    expect(res.status).toBe(202);
    expect({ accepted: await counter('accepted'), rejected: await counter('rejected') }).toEqual({ accepted: before.accepted + 2, rejected: before.rejected + 1 });
  });

  it('lets no clear ID or phone number into a response without read:pii, nor into the hub log', async () => {
    const procKey = await world.key('proc', ['ingest:supervision-record']);
    const piiKey = await world.key('proc', ['read:pii']);
    const keyedByIdNumber = '62090219810823123X';
    const records = [
      {
        record_id: keyedByIdNumber,
        kind: '12309信访',
        party: { kind: '自然人', name: '李四', id_number: ID_NUMBER },
        summary: `来访人李四（电话${MOBILE}，身份证${ID_NUMBER}）反映企业偷排`,
        issued_on: '2025-11-02',
        status: '办理中',
        updated_at: '2025-11-02T10:00:00+08:00',
      },
      { record_id: `P-${MOBILE}`, kind: '公益诉讼线索', issued_on: '2025-13-01', updated_at: '2025-11-02T10:00:00+08:00', party: { id_number: '11010519491231002' } },
      { record_id: 'P-3', party: { id_number: 110105194912310020 } },
    ];
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: any[]) => {
      logged.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    let answers: string[];
    let clear: any;
    try {
      const posted = await post(procKey, { records }, 'supervision-record');
      expect(posted.status).toBe(202);
      const view = await world.settled(posted.body.receipt_url, procKey);
      expect(view.records.map((r: any) => r.fate)).toEqual(['canonical', 'dead_letter', 'rejected']);
      clear = (await world.hub.call('GET', posted.body.receipt_url, { key: piiKey })).body;
      answers = [posted.text, JSON.stringify(view)];
    } finally {
      process.stderr.write = write;
    }
    for (const text of [...answers, logged.join('')]) {
      expect(text).not.toContain(keyedByIdNumber);
      expect(text).not.toContain(ID_NUMBER.slice(0, 17));
      expect(text).not.toContain(MOBILE);
    }
    expect(answers[1]).toContain('620902********123X');
    // With read:pii the agency sees its own record ids as it sent them.
    expect(clear.records[0].record_key).toBe(keyedByIdNumber);
  });
});
