import type { Knex } from 'knex';
import type { DeadLetter } from './normalise-record';

export interface DlqRow {
  id: string;
  raw_topic: string;
  raw_partition: number;
  raw_offset: string;
  source_id: string;
  dataset: string;
  record_key: string | null;
  errors: Array<{ field: string; code: string; message: string }>;
  normaliser_version: string;
  first_failed_at: Date;
  failed_at: Date;
  attempts: number;
  status: 'open' | 'resolved';
  resolved_record_id: string | null;
  resolved_at: Date | null;
}

/**
 * Writes dead letters into ops.dlq, one statement per batch. A row is keyed by its raw
 * message, so a re-delivered letter changes nothing and a newer failure of the same raw
 * record (after a retry) updates the row and counts the attempt.
 */
export async function upsertDeadLetters(db: Knex, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  // One row per raw position: the latest letter wins, and every letter counts as an attempt.
  const byPosition = new Map<string, { letter: DeadLetter; attempts: number }>();
  for (const letter of letters) {
    const key = `${letter.raw.topic}/${letter.raw.partition}/${letter.raw.offset}`;
    const seen = byPosition.get(key);
    if (!seen) byPosition.set(key, { letter, attempts: 1 });
    else byPosition.set(key, { letter: letter.failed_at >= seen.letter.failed_at ? letter : seen.letter, attempts: seen.attempts + 1 });
  }
  const rows = [...byPosition.values()].map(({ letter: l, attempts }) => ({
    raw_topic: l.raw.topic,
    raw_partition: l.raw.partition,
    raw_offset: l.raw.offset,
    source_id: l.source_id,
    dataset: l.dataset,
    record_key: l.record_key,
    errors: l.errors,
    normaliser_version: l.normaliser_version,
    failed_at: l.failed_at,
    attempts,
  }));
  await db.raw(
    `insert into ops.dlq (raw_topic, raw_partition, raw_offset, source_id, dataset, record_key, errors, normaliser_version, first_failed_at, failed_at, attempts)
     select raw_topic, raw_partition, raw_offset, source_id, dataset, record_key, errors, normaliser_version, failed_at, failed_at, attempts
     from jsonb_to_recordset(?::jsonb) as r(raw_topic text, raw_partition int, raw_offset bigint, source_id text, dataset text,
       record_key text, errors jsonb, normaliser_version text, failed_at timestamptz, attempts int)
     on conflict (raw_topic, raw_partition, raw_offset) do update set
       errors = excluded.errors, normaliser_version = excluded.normaliser_version, failed_at = excluded.failed_at,
       attempts = ops.dlq.attempts + excluded.attempts
     where ops.dlq.status = 'open' and excluded.failed_at > ops.dlq.failed_at`,
    [JSON.stringify(rows)],
  );
}

export interface DlqFilter {
  source?: string;
  status?: 'open' | 'resolved' | 'all';
  limit?: number;
  ids?: string[];
}

export async function listDeadLetters(db: Knex, filter: DlqFilter = {}): Promise<DlqRow[]> {
  const query = db<DlqRow>('ops.dlq').orderBy('id');
  if (filter.source) query.where('source_id', filter.source);
  if ((filter.status ?? 'open') !== 'all') query.where('status', filter.status ?? 'open');
  if (filter.ids) query.whereIn('id', filter.ids);
  if (filter.limit) query.limit(filter.limit);
  return query;
}

export async function getDeadLetter(db: Knex, id: string): Promise<DlqRow | undefined> {
  return db<DlqRow>('ops.dlq').where('id', id).first();
}

export async function markResolved(db: Knex, resolved: Array<{ topic: string; partition: number; offset: number; recordId: string }>): Promise<number> {
  if (resolved.length === 0) return 0;
  const result = await db.raw(
    `update ops.dlq d set status = 'resolved', resolved_record_id = r.record_id, resolved_at = now()
     from jsonb_to_recordset(?::jsonb) as r(topic text, partition int, "offset" bigint, record_id text)
     where d.raw_topic = r.topic and d.raw_partition = r.partition and d.raw_offset = r."offset" and d.status = 'open'`,
    [JSON.stringify(resolved.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, record_id: r.recordId })))],
  );
  return result.rowCount ?? 0;
}
