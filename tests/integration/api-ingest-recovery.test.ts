import { RawProducer } from '../../connectors/raw-producer';
import { checkRecords } from '../../hub/api/ingest/check-records';
import { newReceiptId, recordReceipt } from '../../hub/api/ingest/receipt-store';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { rawTopic } from '../../schemas/catalog';
import { IngestWorld, messageCount, readSince, startIngestWorld } from './api-ingest-setup';

const CLIENTS = 50;
const ROUNDS = 4;
const PER_BATCH = 25;
/** Records of a batch the normaliser refuses (a 30 February): indexes 9 and 19. */
const BAD_PER_BATCH = 2;

const supervision = (recordId: string, over: Record<string, unknown> = {}) => ({
  record_id: recordId,
  kind: '检察建议',
  doc_no: `酒检行建〔2025〕${recordId}号`,
  target_agency_code: '11620900MB1952208N',
  party: { name: '酒泉某化工有限公司', uscc: '91620922MB5358720L' },
  region_code: '620922',
  summary: '督促依法履行危险废物监管职责',
  issued_on: '2025-11-01',
  status: '待回复',
  updated_at: '2025-11-01T10:00:00+08:00',
  ...over,
});

describe('the push API under concurrency and after a lost send', () => {
  let world: IngestWorld;
  let key: string;
  let admin: string;

  beforeAll(async () => {
    // 50 clients on one key: the rate limit is not what this test is about.
    world = await startIngestWorld((c) => ({ ...c, hub: { ...c.hub, rate_limit: { per_second: 10_000, burst: 10_000 } } }));
    key = await world.key('proc', ['ingest:supervision-record']);
    admin = await world.hub.key(['admin']);
  });

  afterAll(async () => {
    await world?.close();
  });

  const post = (records: unknown[]) => world.hub.call('POST', '/v1/ingest/supervision-record', { key, body: { records } });

  it(`takes ${CLIENTS} concurrent clients' batches without a 5xx, sends each version once, and every accepted record reaches a canonical topic or the DLQ`, async () => {
    const topic = rawTopic(world.ids.proc);
    const before = await messageCount(world, topic);
    // Every client's first batch also carries one record all clients send: one of them sends it, the others point at it.
    const shared = supervision('SHARED-1');
    const statuses: number[] = [];
    const receipts: string[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let round = 0; round < ROUNDS; round++) {
          const records: unknown[] = Array.from({ length: PER_BATCH }, (_x, i) => {
            const id = `C${client}-R${round}-${i}`;
            return i % 10 === 9 ? supervision(id, { issued_on: '2025-02-30' }) : supervision(id);
          });
          if (round === 0) records.push(shared);
          const res = await post(records);
          statuses.push(res.status);
          if (res.status === 202) receipts.push(res.body.receipt_url);
        }
      }),
    );
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 202)).toBe(true);
    const unique = CLIENTS * ROUNDS * PER_BATCH + 1;
    expect((await messageCount(world, topic)) - before).toBe(unique);

    const views = [];
    for (const url of receipts) views.push(await world.settled(url, key, 180_000));
    const fates = views.flatMap((v) => v.records);
    expect(fates).toHaveLength(unique + CLIENTS - 1);
    const sharedFates = fates.filter((r) => r.record_key === 'SHARED-1');
    expect(sharedFates.filter((r) => r.fate === 'canonical')).toHaveLength(1);
    expect(sharedFates.filter((r) => r.fate === 'duplicate' && r.original.fate === 'canonical')).toHaveLength(CLIENTS - 1);
    const own = fates.filter((r) => r.record_key !== 'SHARED-1');
    expect(own.filter((r) => r.fate === 'dead_letter').every((r) => r.errors[0].code === 'BAD_DATE')).toBe(true);
    expect(own.filter((r) => r.fate === 'dead_letter')).toHaveLength(CLIENTS * ROUNDS * BAD_PER_BATCH);
    expect(own.filter((r) => r.fate === 'canonical')).toHaveLength(own.length - CLIENTS * ROUNDS * BAD_PER_BATCH);
  });

  it('sends again, under the original receipt, a record whose first send was lost (the hub died before it): a re-post completes both receipts', async () => {
    const records = [supervision('LOST-1'), supervision('LOST-2')];
    const lost = newReceiptId();
    // What a hub that died between its transaction and its Kafka send leaves behind.
    await recordReceipt(world.db, {
      receiptId: lost, keyId: 'gone', agencyCode: world.agencies.proc, sourceId: world.ids.proc, dataset: 'supervision-record',
      topic: rawTopic(world.ids.proc), recordCount: 2, receivedAt: new Date(), batch: checkRecords(records, 'record_id'),
    });
    const topic = rawTopic(world.ids.proc);
    const before = await messageCount(world, topic);

    // Within the send lease the original send may still be under way: a re-post points at it and sends nothing.
    const early = await post(records);
    expect(early.body.duplicates).toEqual([0, 1].map((index) => ({ index, duplicate_of: { receipt_id: lost, index } })));
    expect(await messageCount(world, topic)).toBe(before);

    await world.db('ops.ingest_receipts').where({ receipt_id: lost }).update({ send_deadline: world.db.raw("now() - interval '1 second'") });
    const late = await post(records);
    expect(late.body.duplicates).toEqual([0, 1].map((index) => ({ index, duplicate_of: { receipt_id: lost, index } })));
    expect(await messageCount(world, topic)).toBe(before + 2);
    // A third post, inside the renewed lease, does not send a third copy.
    await post(records);
    expect(await messageCount(world, topic)).toBe(before + 2);

    const original = await world.settled(`/v1/receipts/${lost}`, admin);
    expect(original.records.map((r: any) => r.fate)).toEqual(['canonical', 'canonical']);
    for (const url of [early.body.receipt_url, late.body.receipt_url]) {
      const view = await world.settled(url, key);
      expect(view.records.map((r: any) => r.original)).toEqual(original.records.map(({ index: _i, record_key: _k, ...fate }: any) => fate));
    }
  });

  it('follows the first copy when a lost send did land after all and was sent again: the copy the normaliser turned into the record', async () => {
    const since = new Date();
    const records = [supervision('TWICE-1')];
    const batch = checkRecords(records, 'record_id');
    const lost = newReceiptId();
    await recordReceipt(world.db, {
      receiptId: lost, keyId: 'gone', agencyCode: world.agencies.proc, sourceId: world.ids.proc, dataset: 'supervision-record',
      topic: rawTopic(world.ids.proc), recordCount: 1, receivedAt: since, batch,
    });
    // The dead hub's send landed, and a re-post's re-send landed too: two identical copies under the receipt's id.
    const producer = new RawProducer(world.hub.rt.kafka, world.hub.rt.registry);
    await producer.connect();
    try {
      const copy = () => buildEnvelope({ sourceId: world.ids.proc, dataset: 'supervision-record', payload: batch.candidates[0].payload, recordKey: 'TWICE-1', runId: lost });
      await producer.send([copy()]);
      await producer.send([copy()]);
    } finally {
      await producer.disconnect();
    }
    const view = await world.settled(`/v1/receipts/${lost}`, admin);
    expect(view.records[0]).toMatchObject({ fate: 'canonical', record_id: 'TWICE-1' });

    const copies = await readSince(world, rawTopic(world.ids.proc), since, (v) => v.run_id === lost);
    expect(copies).toHaveLength(2);
    const row = await world.db('ops.ingest_records').where({ receipt_id: lost, idx: 0 }).first();
    const firstCopy = copies.reduce((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? a : b));
    expect([row.raw_partition, String(row.raw_offset)]).toEqual([firstCopy.partition, firstCopy.offset]);
    // The normaliser skipped the identical second copy: one canonical record, from the first.
    const canonical = await readSince(world, 'canonical.supervision-record', since, (v) => v.lineage.source_id === world.ids.proc && v.record_id === 'TWICE-1');
    expect(canonical.map((m) => String(m.value.lineage.raw_offset))).toEqual([firstCopy.offset]);
  });
});
