import type { Knex } from 'knex';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { createDb } from '../../lib/db';
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
import { positionAtEnd } from '../../pipelines/warehouse/consumer-offsets';
import { contentHash, CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { CANONICAL_TOPICS, WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import { Dataset, DATASET_TOPICS, rawTopic } from '../../schemas/catalog';
import { migrateLatest } from '../../sql/migrate';
import { scopeToRun } from '../support/warehouse';
import { eventually, uniqueName } from '../support/helpers';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

type Rec = Record<string, any>;

/** One canonical record per dataset, through the real normaliser, its id made unique to this run. */
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
    out.set(outcome.dataset, { ...scopeToRun(outcome.record, run), [field]: `${run}:${outcome.record[field]}` });
  }
  expect(out.size).toBe(3);
  return out;
}

describe('the warehouse sink', () => {
  const config = testConfig();
  const kafka = createKafka(config, { clientId: 'it-warehouse' });
  const registry = createRegistry(config);
  const logger = createLogger({ test: 'warehouse' }, { level: 'warn' });
  let db: Knex;

  beforeAll(async () => {
    db = createDb(config, { poolMax: 4 });
    await migrateLatest(db);
  });

  afterAll(async () => {
    await db.destroy();
  });

  it('keeps the newer version current when an older one arrives after it, and keeps both in history', async () => {
    const run = uniqueName('it-wh');
    const consumer = `${run}-sink`;
    const schemas = await prepareTopicsAndSchemas(config, kafka, registry, []);
    const codec = await outputCodec(registry, schemas);
    await positionAtEnd(db, kafka, consumer, CANONICAL_TOPICS);

    const base = oneOfEach(config, run);
    const older = new Map<Dataset, Rec>();
    const newer = new Map<Dataset, Rec>();
    for (const [dataset, record] of base) {
      older.set(dataset, { ...record, source_updated_at: '2025-03-01T00:00:00.000Z', warnings: [...record.warnings, 'OLDER'] });
      newer.set(dataset, { ...record, source_updated_at: '2025-04-01T00:00:00.000Z' });
    }
    const producer = createProducer(kafka);
    await producer.connect();
    const send = (versions: Map<Dataset, Rec>) =>
      producer.sendBatch({
        topicMessages: [...versions].map(([dataset, record]) => ({
          topic: DATASET_TOPICS[dataset],
          messages: [{ key: record[RECORD_ID_FIELD[dataset]], value: codec.encode(schemas.canonical[dataset], record) }],
        })),
      });
    // Newer first, then the older one late, then the newer one re-sent.
    await send(newer);
    await send(older);
    await send(newer);
    await producer.disconnect();

    const sink = new WarehouseSink({ config, kafka, registry, db, logger, consumer, groupId: consumer });
    await sink.start();
    try {
      for (const [dataset, record] of base) {
        const { table, idColumn } = CORE_TABLES[dataset];
        await eventually(async () => {
          const [{ count }] = await db(`core.${table}_history`).where(idColumn, record[idColumn]).count<{ count: string }[]>('* as count');
          return count === '2';
        }, 60_000, `both versions of ${dataset} in history`);
      }
      // The re-send is applied too (it is a later message) before we look at the current rows.
      await eventually(async () => {
        const offsets = await db('ops.consumer_offsets').where({ consumer }).select('topic', 'partition', 'next_offset');
        const admin = kafka.admin();
        await admin.connect();
        try {
          for (const topic of CANONICAL_TOPICS) {
            for (const p of await admin.fetchTopicOffsets(topic)) {
              const stored = offsets.find((o) => o.topic === topic && o.partition === p.partition);
              if (!stored || BigInt(stored.next_offset) < BigInt(p.high) - 1n) return false;
            }
          }
          return true;
        } finally {
          await admin.disconnect();
        }
      }, 60_000, 'the sink to reach the end of the canonical topics');
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
  });
});
