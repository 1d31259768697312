import type { Knex } from 'knex';

/**
 * Wall time of the sink's statements by kind, from knex's own query events (a transaction's
 * statements reach the parent instance's listeners), so the bench can say where a batch's
 * time goes without touching the sink. BEGIN, COMMIT and the staging COPY (sent on the
 * connection itself) bypass those events: what the statements do not account for is the COPY,
 * commit, Kafka and the sink's JavaScript. The sink's own per-phase times cover all of it.
 */
const KINDS: ReadonlyArray<readonly [kind: string, pattern: RegExp]> = [
  // The merge from the staging table (the statement that names it).
  ['upsert', /liandong_stage_/],
  ['parties', /insert into "?core[^.]*"?\."?party"?/],
  ['link case_supervision', /insert into "?link[^.]*"?\."?case_supervision"?/],
  ['link ticket_case', /insert into "?link[^.]*"?\."?ticket_case"?/],
  ['link ticket_supervision', /insert into "?link[^.]*"?\."?ticket_supervision"?/],
  ['offsets', /consumer_offsets/],
];

export interface SqlTimings {
  /** Milliseconds and statement count per kind, biggest first. */
  totals(): Array<{ kind: string; ms: number; count: number }>;
  stop(): void;
}

interface QueryEvent {
  __knexQueryUid?: string;
  sql?: string;
}

export function timeStatements(db: Knex, ignore: RegExp): SqlTimings {
  const started = new Map<string, { kind: string; at: bigint }>();
  const totals = new Map<string, { ms: number; count: number }>();
  const onQuery = (q: QueryEvent) => {
    if (!q.__knexQueryUid || !q.sql || ignore.test(q.sql)) return;
    const kind = KINDS.find(([, pattern]) => pattern.test(q.sql!))?.[0] ?? 'other';
    started.set(q.__knexQueryUid, { kind, at: process.hrtime.bigint() });
  };
  const onDone = (q: QueryEvent) => {
    const begun = q.__knexQueryUid ? started.get(q.__knexQueryUid) : undefined;
    if (!begun) return;
    started.delete(q.__knexQueryUid!);
    const total = totals.get(begun.kind) ?? { ms: 0, count: 0 };
    total.ms += Number(process.hrtime.bigint() - begun.at) / 1e6;
    total.count++;
    totals.set(begun.kind, total);
  };
  const onResponse = (_response: unknown, q: QueryEvent) => onDone(q);
  const onError = (_error: unknown, q: QueryEvent) => onDone(q);
  db.on('query', onQuery);
  db.on('query-response', onResponse);
  db.on('query-error', onError);
  return {
    totals: () => [...totals].map(([kind, t]) => ({ kind, ...t })).sort((a, b) => b.ms - a.ms),
    stop: () => {
      db.removeListener('query', onQuery);
      db.removeListener('query-response', onResponse);
      db.removeListener('query-error', onError);
    },
  };
}
