import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Config } from '../lib/config';
import type { SourceDefinition } from '../pipelines/normalise/mapping';
import { DATASET_TOPICS, rawTopic } from '../schemas/catalog';

/**
 * Where the records of each source are, end to end: landed in its raw topic, waiting for the
 * normaliser, dead-lettered, in the warehouse — and how far the warehouse sink is behind the
 * canonical topics. The demo's live summary prints it; an operator reads the same numbers.
 */
export interface SourceStatus {
  source: string;
  kind: string;
  /** Messages in the raw topic (raw topics are not transactional: offsets count records). */
  landed: number;
  /** Raw messages the normaliser has not consumed yet. */
  normaliserLag: number;
  dlqOpen: number;
  /** Current rows in the warehouse that came from this source. */
  warehouseRows: number;
  lastRun: { status: string; finishedAt: Date | null; read: number } | null;
}

export interface PipelineStatus {
  sources: SourceStatus[];
  /** Canonical messages (offsets, transaction markers included) the warehouse sink has still to apply. */
  warehouseLag: number;
}

const CORE_TABLES = ['enforcement_case', 'hotline_ticket', 'supervision_record'];

export async function pipelineStatus(deps: { config: Config; kafka: Kafka; db: Knex }, sources: Iterable<SourceDefinition>, warehouseConsumer = 'warehouse'): Promise<PipelineStatus> {
  const { config, kafka, db } = deps;
  const list = [...sources];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const committed = new Map<string, number>();
    for (const t of await admin.fetchOffsets({ groupId: config.normaliser.group_id, topics: list.map((s) => rawTopic(s.id)).filter((t) => existing.has(t)) })) {
      committed.set(t.topic, t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0));
    }
    const rows = await db.raw<{ rows: Array<{ source: string; n: string }> }>(
      CORE_TABLES.map((t) => `select lineage_source_id as source, count(*) as n from core.${t} group by 1`).join(' union all '),
    );
    const inWarehouse = new Map<string, number>();
    for (const r of rows.rows) inWarehouse.set(r.source, (inWarehouse.get(r.source) ?? 0) + Number(r.n));
    const dlq = new Map((await db('ops.dlq').where({ status: 'open' }).groupBy('source_id').select<Array<{ source_id: string; n: string }>>('source_id', db.raw('count(*) as n'))).map((r) => [r.source_id, Number(r.n)]));
    const runs = await db('ops.connector_runs')
      .distinctOn('source_id')
      .orderBy([{ column: 'source_id' }, { column: 'started_at', order: 'desc' }])
      .select<Array<{ source_id: string; status: string; finished_at: Date | null; records_read: string }>>('source_id', 'status', 'finished_at', 'records_read');
    const lastRun = new Map(runs.map((r) => [r.source_id, { status: r.status, finishedAt: r.finished_at, read: Number(r.records_read) }]));

    const out: SourceStatus[] = [];
    for (const s of list) {
      const topic = rawTopic(s.id);
      const offsets = existing.has(topic) ? await admin.fetchTopicOffsets(topic) : [];
      const landed = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      const high = offsets.reduce((sum, p) => sum + Number(p.high), 0);
      out.push({
        source: s.id,
        kind: s.connector?.kind ?? 'push',
        landed,
        normaliserLag: Math.max(0, high - (committed.get(topic) ?? 0)),
        dlqOpen: dlq.get(s.id) ?? 0,
        warehouseRows: inWarehouse.get(s.id) ?? 0,
        lastRun: lastRun.get(s.id) ?? null,
      });
    }
    const stored = new Map((await db('ops.consumer_offsets').where({ consumer: warehouseConsumer }).select<Array<{ topic: string; partition: number; next_offset: string }>>()).map((r) => [`${r.topic}/${r.partition}`, Number(r.next_offset)]));
    let warehouseLag = 0;
    for (const topic of Object.values(DATASET_TOPICS)) {
      if (!existing.has(topic)) continue;
      for (const p of await admin.fetchTopicOffsets(topic)) warehouseLag += Math.max(0, Number(p.high) - (stored.get(`${topic}/${p.partition}`) ?? Number(p.low)));
    }
    return { sources: out, warehouseLag };
  } finally {
    await admin.disconnect();
  }
}
