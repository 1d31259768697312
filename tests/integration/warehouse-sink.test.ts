import type { Knex } from 'knex';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import type { RecordMetadata } from 'kafkajs';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { RECORD_ID_FIELD } from '../../pipelines/normalise/canonical-fields';
import { loadSources } from '../../pipelines/normalise/mapping';
import { normaliseContext } from '../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { outputCodec } from '../../pipelines/normalise/outcomes';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { lockOffset, partitionKey, positionAtEnd, readOffsets, storeOffset } from '../../pipelines/warehouse/consumer-offsets';
import { contentHash, CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { CANONICAL_TOPICS, WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import { Dataset, DATASET_TOPICS, rawTopic } from '../../schemas/catalog';
import { FreshDatabase, freshDatabase } from '../support/warehouse';
import { eventually, uniqueName } from '../support/helpers';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

type Rec = Record<string, any>;

/**
 * One canonical record per dataset, through the real normaliser, its id made unique to this
 * run: the sink also applies what other runs put on the shared canonical topics meanwhile.
 */
function oneOfEach(config: ReturnType<typeof testConfig>, run: string): Map<Dataset, Rec> {
  const sources = loadSources(SHIPPED_SOURCES);
  const ctx = normaliseContext({ config, sources, piiSecret: 'test-secret' });
  const ids = { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };
  const out = new Map<Dataset, Rec>();
  let offset = 0;
  for (const r of new AgencySimulator({ seed: 31, count: 60, defectRate: 0, sources: ids }).records()) {
    const envelope = buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: run });
    const outcome = normaliseEnvelope(envelope, { topic: rawTopic(r.sourceId), partition: 0, offset: String(offset++) }, ctx);
    if (outcome.kind !== 'canonical' || out.has(outcome.dataset)) continue;
    const field = RECORD_ID_FIELD[outcome.dataset];
    out.set(outcome.dataset, { ...outcome.record, [field]: `${run}:${outcome.record[field]}` });
  }
  expect(out.size).toBe(3);
  return out;
}

describe('the warehouse sink', () => {
  const config = testConfig();
  const kafka = createKafka(config, { clientId: 'it-warehouse' });
  const registry = createRegistry(config);
  const logger = createLogger({ test: 'warehouse' }, { level: 'warn' });
  let fresh: FreshDatabase;
  let db: Knex;

  beforeAll(async () => {
    fresh = await freshDatabase(config, 'whsink');
    db = fresh.db;
  });

  afterAll(() => fresh?.drop());

  /**
   * A run of this test's own: its consumer positioned at the canonical topics' ends (they hold
   * every other run's records too), and a connected producer whose `send` puts one message per
   * record on its dataset's canonical topic.
   */
  async function canonicalRun(prefix: string) {
    const run = uniqueName(prefix);
    const consumer = `${run}-sink`;
    const schemas = await prepareTopicsAndSchemas(config, kafka, registry, []);
    const codec = await outputCodec(registry, schemas);
    await positionAtEnd(db, kafka, consumer, CANONICAL_TOPICS);
    const producer = createProducer(kafka);
    await producer.connect();
    const send = (versions: Map<Dataset, Rec>) =>
      producer.sendBatch({
        topicMessages: [...versions].map(([dataset, record]) => ({
          topic: DATASET_TOPICS[dataset],
          messages: [{ key: record[RECORD_ID_FIELD[dataset]], value: codec.encode(schemas.canonical[dataset], record) }],
        })),
      });
    return { run, consumer, producer, send };
  }

  /** Whether the consumer's stored offsets are past every message of `sent` (one message per partition, so each base offset is its offset). */
  async function appliedPast(consumer: string, sent: RecordMetadata[]): Promise<boolean> {
    const stored = await readOffsets(db, consumer);
    return sent.every((m) => (stored.get(partitionKey(m.topicName, m.partition)) ?? 0n) > BigInt(m.baseOffset!));
  }

  it('keeps the newer version current when an older one arrives after it, and keeps both in history', async () => {
    const { run, consumer, producer, send } = await canonicalRun('it-wh');
    const base = oneOfEach(config, run);
    const older = new Map<Dataset, Rec>();
    const newer = new Map<Dataset, Rec>();
    for (const [dataset, record] of base) {
      older.set(dataset, { ...record, source_updated_at: '2025-03-01T00:00:00.000Z', warnings: [...record.warnings, 'OLDER'] });
      newer.set(dataset, { ...record, source_updated_at: '2025-04-01T00:00:00.000Z' });
    }
    // Newer first, then the older one late, then the newer one re-sent.
    await send(newer);
    await send(older);
    // Where the re-send landed: one message per topic, so each partition's base offset is its offset.
    const resent = await send(newer);
    await producer.disconnect();

    // The sink applies whatever other runs produced to the shared topics since positionAtEnd, ahead of
    // this test's messages: the waits below allow for a large concurrent run, and a long session
    // keeps a slow batch from costing a rebalance.
    const sink = new WarehouseSink({ config: fresh.config, kafka, registry, db, logger, consumer, groupId: consumer, sessionTimeoutMs: 180_000 });
    await sink.start();
    try {
      for (const [dataset, record] of base) {
        const { table, idColumn } = CORE_TABLES[dataset];
        await eventually(async () => {
          const [{ count }] = await db(`core.${table}_history`).where(idColumn, record[idColumn]).count<{ count: string }[]>('* as count');
          return count === '2';
        }, 300_000, `both versions of ${dataset} in history`);
      }
      // The re-send is applied too (it is a later message) before we look at the current rows. Its own
      // offsets say when, not the topics' ends: other runs keep producing to the shared topics.
      await eventually(() => appliedPast(consumer, resent), 300_000, 'the sink to apply the re-sent versions');
    } finally {
      await sink.stop();
    }

    for (const [dataset, record] of base) {
      const { table, idColumn } = CORE_TABLES[dataset];
      const id = record[idColumn];
      const current = await db(`core.${table}`).where(idColumn, id);
      expect(current).toHaveLength(1);
      expect(current[0].source_updated_at.toISOString()).toBe('2025-04-01T00:00:00.000Z');
      expect(current[0].content_hash).toBe(contentHash(newer.get(dataset)!));
      expect(current[0].warnings).not.toContain('OLDER');
      const history = await db(`core.${table}_history`).where(idColumn, id).orderBy('source_updated_at');
      expect(history.map((h) => h.source_updated_at.toISOString())).toEqual(['2025-03-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z']);
      expect(history[0].record).toEqual(JSON.parse(JSON.stringify(older.get(dataset))));
      expect(history[1].content_hash).toBe(contentHash(newer.get(dataset)!));
      expect(history[1].recorded_at).toBeInstanceOf(Date);
    }

    // The columns carry the data standard's types: money as numeric, dates as date, the party flattened.
    const enforcement = newer.get('enforcement-case')!;
    const row = (await db.raw(`select fine_amount::text as fine, decided_on::text as decided, party_kind, party_uscc, party_name, penalty_kinds, measures from core.enforcement_case where case_id = ?`, [enforcement.case_id])).rows[0];
    expect(row).toEqual({
      fine: enforcement.fine_amount,
      decided: enforcement.decided_on,
      party_kind: enforcement.party.kind,
      party_uscc: enforcement.party.uscc,
      party_name: enforcement.party.name,
      penalty_kinds: enforcement.penalty_kinds,
      measures: enforcement.measures,
    });
  }, 900_000);

  it('stops on a batch that failed, and a restarted sink applies it from the stored offset, losing and repeating nothing', async () => {
    const { run, consumer, producer, send } = await canonicalRun('it-whfail');
    const records = oneOfEach(config, run);
    const failing = records.get('enforcement-case')!.case_id as string;
    // The first transaction that writes this case's history fails; a sequence is not rolled back with it, so only the first does.
    await db.raw(`create sequence it_fail_once`);
    await db.raw(`create function it_fail_once() returns trigger language plpgsql as $$
      begin
        if new.case_id = '${failing}' and nextval('it_fail_once') = 1 then raise exception 'injected failure'; end if;
        return new;
      end $$`);
    await db.raw(`create trigger it_fail_once before insert on core.enforcement_case_history for each row execute function it_fail_once()`);
    const sent = await send(records);
    await producer.disconnect();

    // The failure stops the sink, as a failure inside kafkajs's eachBatch did: the process exits and is
    // started again, and the new sink reads on from the stored offsets.
    // The sink's and kafkajs's lines about the failure are kept, not printed: the failure is the point.
    const warnings: string[] = [];
    const watched = createLogger({ test: 'warehouse-failure' }, { level: 'warn', write: (line) => warnings.push(line) });
    const watchedKafka = createKafka(config, { clientId: 'it-warehouse-failure', logger: watched });
    let fatal: (err: Error) => void = () => undefined;
    const stopped = new Promise<Error>((resolve) => (fatal = resolve));
    const first = new WarehouseSink({ config: fresh.config, kafka: watchedKafka, registry, db, logger: watched, consumer, groupId: consumer, sessionTimeoutMs: 180_000, onFatal: fatal });
    await first.start();
    try {
      expect((await stopped).message).toContain('injected failure');
    } finally {
      await first.stop();
    }
    const again = new WarehouseSink({ config: fresh.config, kafka, registry, db, logger, consumer, groupId: consumer, sessionTimeoutMs: 180_000 });
    await again.start();
    try {
      await eventually(() => appliedPast(consumer, sent), 300_000, 'the restarted sink to apply every record');
    } finally {
      await again.stop();
    }
    expect(warnings.some((line) => line.includes('warehouse batch failed') && line.includes('injected failure'))).toBe(true);
    for (const [dataset, record] of records) {
      const { table, idColumn } = CORE_TABLES[dataset];
      const history = await db(`core.${table}_history`).where(idColumn, record[idColumn]);
      expect(history).toHaveLength(1);
      expect(await db(`core.${table}`).where(idColumn, record[idColumn])).toHaveLength(1);
    }
  }, 900_000);

  it('locks a partition with no stored offset yet, so two sinks holding it during a rebalance apply its batch once', async () => {
    const consumer = uniqueName('it-lock');
    const a = await db.transaction();
    const b = await db.transaction();
    try {
      expect(await lockOffset(a, consumer, 'canonical.x', 0, 100n)).toBe(100n);
      let bStored: bigint | 'waiting' = 'waiting';
      const bSide = lockOffset(b, consumer, 'canonical.x', 0, 100n).then((stored) => {
        bStored = stored;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(bStored).toBe('waiting'); // b waits for a's row
      await storeOffset(a, consumer, 'canonical.x', 0, 250n);
      await a.commit();
      await bSide;
      expect(bStored).toBe(250n); // and then skips what a applied
    } finally {
      if (!a.isCompleted()) await a.rollback();
      if (!b.isCompleted()) await b.rollback();
    }
  });
});
