import type { Knex } from 'knex';
import knex from 'knex';
import { createDb } from '../../lib/db';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { outputCodec } from '../../pipelines/normalise/outcomes';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { positionAtEnd } from '../../pipelines/warehouse/consumer-offsets';
import { CORE_TABLES, CoreTable } from '../../pipelines/warehouse/core-rows';
import { linkTouched, partySeenSql } from '../../pipelines/warehouse/link-parties';
import { upsertRecords } from '../../pipelines/warehouse/upsert-batch';
import { CANONICAL_TOPICS, WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import { DATASET_TOPICS } from '../../schemas/catalog';
import { migrateLatest } from '../../sql/migrate';
import { ANALYST_ROLE } from '../../sql/migrations/20261127000500-party-link-mart';
import { eventually, uniqueName } from '../support/helpers';
import { testConfig } from '../support/stack';

const config = testConfig();
const kafka = createKafka(config, { clientId: 'it-warehouse-links' });
const registry = createRegistry(config);
const logger = createLogger({ test: 'warehouse-links' }, { level: 'error' });
let db: Knex;

beforeAll(async () => {
  db = createDb(config, { poolMax: 4 });
  await migrateLatest(db);
});
afterAll(() => db.destroy());

/** A warehouse sink of its own, starting at the current end of the canonical topics. */
async function startSink(run: string): Promise<WarehouseSink> {
  const consumer = `${run}-sink`;
  await positionAtEnd(db, kafka, consumer, CANONICAL_TOPICS);
  const sink = new WarehouseSink({ config, kafka, registry, db, logger, consumer, groupId: consumer });
  await sink.start();
  return sink;
}

function caseRecord(run: string, decisionNo: string): Record<string, unknown> {
  return {
    case_id: `${run}:JSJ-1`, agency_code: '11620900MB19512346', agency_name: '酒泉市市场监督管理局', domain: 'MARKET', action_type: 'PENALTY',
    decision_no: decisionNo, party: { kind: 'ORGANISATION', name: '酒泉祁连商贸有限公司', uscc: '91620902MA5726159J', id_hash: null, id_masked: null, region_code: '620902' },
    region_code: '620902', violation_type: '销售假冒注册商标的商品', violation_facts: null, legal_basis: null, penalty_kinds: ['FINE'], fine_amount: '80000.00',
    confiscated_amount: null, measures: [], occurred_on: '2025-03-01', decided_on: '2025-04-01', status: 'DECIDED', transferred_to_police: false, transferred_on: null,
    source_updated_at: '2025-04-02T00:00:00.000Z',
    lineage: { source_id: 'it', raw_topic: 'raw.it', raw_partition: 0, raw_offset: 1, ingested_at: '2025-04-02T00:00:00.000Z', normaliser_version: 'test' },
    warnings: [],
  };
}

function opinionRecord(run: string, decisionNo: string): Record<string, unknown> {
  return {
    record_id: `${run}:JQJ-1`, procuratorate_code: '11620900013905600W', kind: 'TRANSFER_OPINION', doc_no: '酒检意〔2025〕3号', target_agency_code: '11620900MB19512346',
    related_decision_nos: [decisionNo], related_case_ids: [], related_ticket_ids: [], party: null, region_code: '620902', summary: null,
    issued_on: '2025-05-01', reply_due_on: '2025-05-04', replied_on: null, status: 'AWAITING_REPLY', source_updated_at: '2025-05-01T00:00:00.000Z',
    lineage: { source_id: 'it', raw_topic: 'raw.it', raw_partition: 0, raw_offset: 2, ingested_at: '2025-05-01T00:00:00.000Z', normaliser_version: 'test' },
    warnings: [],
  };
}

/** One side of two batches applied at once: a record of a core table, and when the hub learned it. */
interface BatchSide {
  table: CoreTable;
  record: Record<string, unknown>;
  recordedAt?: string;
}

/**
 * Two batches in flight at once, as the sink applies partitions: each writes its record in its
 * own transaction, neither commits, so neither sees the other's; a links its record, then b
 * links and commits while a is still open. Resolves, once a has committed and b finished, with
 * whether b was still waiting for a 300 ms after it started linking.
 */
async function bWaitsForA(aSide: BatchSide, bSide: BatchSide): Promise<boolean> {
  const write = (trx: Knex.Transaction, side: BatchSide) => upsertRecords(trx, side.table, [side.record], side.recordedAt ? { recordedAt: [side.recordedAt] } : {});
  const link = (trx: Knex.Transaction, side: BatchSide) => linkTouched(trx, side.table, [String(side.record[side.table.idColumn])], config.warehouse.link_window_days);
  const a = await db.transaction();
  const b = await db.transaction();
  try {
    await write(a, aSide);
    await write(b, bSide);
    await link(a, aSide);
    let bDone = false;
    const bLinks = (async () => {
      await link(b, bSide);
      await b.commit();
      bDone = true;
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waited = !bDone;
    await a.commit();
    await bLinks;
    return waited;
  } finally {
    if (!a.isCompleted()) await a.rollback();
    if (!b.isCompleted()) await b.rollback();
  }
}

describe('warehouse links, views and roles', () => {
  it.each([
    ['after', ['enforcement-case', 'supervision-record']],
    ['before', ['supervision-record', 'enforcement-case']],
  ] as const)('links a supervision opinion that cites a decision number to its case when it arrives %s the case', async (_when, order) => {
    const run = uniqueName('it-link');
    const decisionNo = `酒市监罚〔2025〕${run}号`;
    const schemas = await prepareTopicsAndSchemas(config, kafka, registry, []);
    const codec = await outputCodec(registry, schemas);
    const sink = await startSink(run);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const records = { 'enforcement-case': caseRecord(run, decisionNo), 'supervision-record': opinionRecord(run, decisionNo) };
      for (const dataset of order) {
        const record = records[dataset];
        const key = String(dataset === 'enforcement-case' ? record.case_id : record.record_id);
        await producer.send({ topic: DATASET_TOPICS[dataset], messages: [{ key, value: codec.encode(schemas.canonical[dataset], record) }] });
        // The second record arrives only once the first is in the warehouse.
        await eventually(async () => (await db(dataset === 'enforcement-case' ? 'core.enforcement_case' : 'core.supervision_record').where(dataset === 'enforcement-case' ? { case_id: key } : { record_id: key })).length === 1, 60_000, `${key} in the warehouse`);
      }
      const links = await db('link.case_supervision').where({ case_id: `${run}:JSJ-1` });
      expect(links).toEqual([expect.objectContaining({ case_id: `${run}:JSJ-1`, record_id: `${run}:JQJ-1`, via: 'decision_no' })]);
      const timeline = await db('mart.case_timeline').where({ case_id: `${run}:JSJ-1` }).orderBy('event_date');
      expect(timeline.map((e: { event: string }) => e.event)).toEqual(['OFFENCE', 'PENALTY', 'SUPERVISION:TRANSFER_OPINION']);
      const tracking = await db('mart.suggestion_tracking').where({ record_id: `${run}:JQJ-1` }).first();
      expect(tracking.reply_due_on).toBeDefined();
      expect(Number(tracking.days_overdue)).toBeGreaterThan(0);
    } finally {
      await producer.disconnect();
      await sink.stop();
    }
  });

  it('lets the analyst role read mart and nothing else, and mart holds no hashes', async () => {
    const analyst = knex({ client: 'pg', connection: { host: config.database.host, port: config.database.port, database: config.database.database, user: ANALYST_ROLE }, pool: { min: 0, max: 1 } });
    try {
      await expect(analyst.raw('select count(*) from mart.party_360')).resolves.toBeDefined();
      await expect(analyst.raw('select count(*) from mart.suggestion_tracking')).resolves.toBeDefined();
      await expect(analyst.raw('select party_id_hash from core.enforcement_case limit 1')).rejects.toThrow(/permission denied/);
      await expect(analyst.raw('select * from core.party limit 1')).rejects.toThrow(/permission denied/);
      await expect(analyst.raw('select * from ops.dlq limit 1')).rejects.toThrow(/permission denied/);
      await expect(analyst.raw('select * from link.case_supervision limit 1')).rejects.toThrow(/permission denied/);
      await expect(analyst.raw('create table public.x (a int)')).rejects.toThrow(/permission denied/);
      const columns = await analyst.raw(`select table_name, column_name from information_schema.columns where table_schema = 'mart'`);
      const names = columns.rows.map((r: { column_name: string }) => r.column_name);
      expect(names.length).toBeGreaterThan(10);
      expect(names.filter((n: string) => /hash|phone|id_number/.test(n))).toEqual([]);
    } finally {
      await analyst.destroy();
    }
  });

  /** The party row of a credit code, its row version (xmin) and when it was seen, read from its records' history. */
  const partyOf = async (uscc: string) => {
    const {
      rows: [row],
    } = await db.raw(
      `select p.kind, p.name, p.region_code, p.confidence, p.xmin::text as row_version, seen.* from core.party p cross join lateral (${partySeenSql(Object.values(CORE_TABLES), 'p.party_key')}) seen where p.party_key = ?`,
      [`USCC:${uscc}`],
    );
    return { ...row, first_seen: row.first_seen.toISOString(), last_seen: row.last_seen.toISOString() };
  };

  it('writes a party only when a record brings it new or with facts that change it, and reads when it was seen from history', async () => {
    const run = uniqueName('it-facts');
    const party = { kind: 'ORGANISATION', name: `事实测试${run}`, uscc: `FACT${run}`, id_hash: null, id_masked: null, region_code: '620902' };
    const cases = CORE_TABLES['enforcement-case'];
    const apply = async (suffix: string, facts: Record<string, unknown>, recordedAt: string) => {
      const record: Record<string, unknown> = { ...caseRecord(`${run}${suffix}`, `酒市监罚〔2025〕${run}${suffix}号`), party: { ...party, ...facts } };
      await db.transaction(async (trx) => {
        await upsertRecords(trx, cases, [record], { recordedAt: [recordedAt] });
        await linkTouched(trx, cases, [String(record.case_id)], config.warehouse.link_window_days);
      });
      return partyOf(party.uscc);
    };
    const first = await apply('a', {}, '2025-04-02T00:00:00.000Z');
    expect(first).toMatchObject({ kind: 'ORGANISATION', name: party.name, region_code: '620902', confidence: 'high', first_seen: '2025-04-02T00:00:00.000Z', last_seen: '2025-04-02T00:00:00.000Z' });
    // The same facts, an unknown kind and no name: nothing that changes the party, so its row is not rewritten.
    const same = await apply('b', { kind: 'UNKNOWN', name: null, region_code: null }, '2025-05-02T00:00:00.000Z');
    expect(same).toEqual({ ...first, last_seen: '2025-05-02T00:00:00.000Z' });
    // A new name changes it.
    const renamed = await apply('c', { name: `${party.name}（更名）` }, '2025-06-02T00:00:00.000Z');
    expect(renamed.row_version).not.toBe(first.row_version);
    expect(renamed).toMatchObject({ kind: 'ORGANISATION', name: `${party.name}（更名）`, region_code: '620902', first_seen: '2025-04-02T00:00:00.000Z', last_seen: '2025-06-02T00:00:00.000Z' });
  });

  it('writes a party that two batches applied at the same time both name, the later one\'s facts last, without the link turn and without a deadlock', async () => {
    const run = uniqueName('it-party');
    const party = { kind: 'ORGANISATION', name: `并发测试${run}`, uscc: `TEST${run}`, id_hash: null, id_masked: null, region_code: '620902' };
    const first: Record<string, unknown> = { ...caseRecord(`${run}a`, `酒市监罚〔2025〕${run}a号`), party };
    const second: Record<string, unknown> = { ...caseRecord(`${run}b`, `酒市监罚〔2025〕${run}b号`), party: { ...party, name: `${party.name}（更名）` } };
    const cases = CORE_TABLES['enforcement-case'];
    const waited = await bWaitsForA(
      { table: cases, record: first, recordedAt: '2025-04-02T00:00:00.000Z' },
      { table: cases, record: second, recordedAt: '2025-06-02T00:00:00.000Z' },
    );
    expect(waited).toBe(true); // b's insert of the party waits for a's, then updates the row a committed
    expect(await partyOf(party.uscc)).toMatchObject({
      name: `${party.name}（更名）`,
      confidence: 'high',
      first_seen: '2025-04-02T00:00:00.000Z',
      last_seen: '2025-06-02T00:00:00.000Z',
    });
  });

  it('links a case and the opinion citing it when their two batches are applied at the same time', async () => {
    const run = uniqueName('it-conc');
    const decisionNo = `酒市监罚〔2025〕${run}号`;
    const theCase = caseRecord(run, decisionNo);
    const opinion = opinionRecord(run, decisionNo);
    const cases = CORE_TABLES['enforcement-case'];
    const records = CORE_TABLES['supervision-record'];
    // The opinion names no party, so the only thing b can wait for is the link turn.
    const waited = await bWaitsForA({ table: cases, record: theCase }, { table: records, record: opinion });
    expect(waited).toBe(true); // b waits for a's turn, which lasts until a commits
    const links = await db('link.case_supervision').where({ case_id: theCase.case_id }).select('record_id', 'via');
    expect(links).toEqual([{ record_id: opinion.record_id, via: 'decision_no' }]);
  });
});

