import type { Knex } from 'knex';
import type { PipelineSnapshot } from './api/metrics-pipeline';

/**
 * Where each source's records are, end to end, as the demo's live summary prints it: the
 * pipeline figures /metrics exposes (records landed, dead letters, lags — read by the metrics
 * module's PipelineReader) plus what only the warehouse and the connector runs know.
 */
export interface SourceStatus {
  source: string;
  kind: string;
  /** Offsets written to the raw topic (raw topics are not transactional: one per record). */
  landed: number;
  dlqOpen: number;
  /** Current rows in the warehouse that came from this source. */
  warehouseRows: number;
  lastRun: { status: string; read: number } | null;
}

const CORE_TABLES = ['enforcement_case', 'hotline_ticket', 'supervision_record'];

export async function sourceStatus(db: Knex, snapshot: PipelineSnapshot, sources: Iterable<{ id: string; connector?: { kind: string } | null }>): Promise<SourceStatus[]> {
  const rows = await db.raw<{ rows: Array<{ source: string; n: string }> }>(CORE_TABLES.map((t) => `select lineage_source_id as source, count(*) as n from core.${t} group by 1`).join(' union all '));
  const inWarehouse = new Map<string, number>();
  for (const r of rows.rows) inWarehouse.set(r.source, (inWarehouse.get(r.source) ?? 0) + Number(r.n));
  const runs = await db('ops.connector_runs')
    .distinctOn('source_id')
    .orderBy([{ column: 'source_id' }, { column: 'started_at', order: 'desc' }])
    .select<Array<{ source_id: string; status: string; records_read: string }>>('source_id', 'status', 'records_read');
  const lastRun = new Map(runs.map((r) => [r.source_id, { status: r.status, read: Number(r.records_read) }]));
  return [...sources].map((s) => ({
    source: s.id,
    kind: s.connector?.kind ?? 'none',
    landed: snapshot.recordsIn.get(s.id) ?? 0,
    dlqOpen: snapshot.dlqOpen.get(s.id) ?? 0,
    warehouseRows: inWarehouse.get(s.id) ?? 0,
    lastRun: lastRun.get(s.id) ?? null,
  }));
}
