import crypto from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Knex } from 'knex';
import type { AvroCodec } from '../../lib/avro-codec';
import { rawTopic } from '../../schemas/catalog';
import { partitionRanges, PartitionRange, readRanges } from '../raw-reader';
import { listDeadLetters, markResolved, DlqFilter } from './dlq-table';
import { normaliseContext, NormaliserDeps } from './normaliser';
import { OutputSchemas, prepareTopicsAndSchemas } from '../topics';
import type { NormaliseContext } from './normalise-record';
import { EncodedOutcome, normaliseMessages, outputCodec, produceInTransaction, transactionalProducer } from './outcomes';

export interface ReprocessReport {
  read: number;
  canonical: number;
  dead: number;
  /** Dead letters that this run turned into canonical records. */
  resolved: number;
  /** The dead outcomes of this run, for the operator. */
  failures: Array<{ raw: string; errors: Array<{ field: string; code: string; message: string }> }>;
  /** Anything the run could not do fully (expired raw records, partitions not read to the end). */
  warnings: string[];
}

function emptyReport(): ReprocessReport {
  return { read: 0, canonical: 0, dead: 0, resolved: 0, failures: [], warnings: [] };
}

/** What a replay or retry needs once, however many topics it reads: schemas, codec, context, producer. */
interface Session {
  deps: NormaliserDeps;
  db: Knex;
  schemas: OutputSchemas;
  codec: AvroCodec;
  ctx: NormaliseContext;
  producer: Producer;
}

async function withSession<T>(deps: NormaliserDeps, db: Knex, run: (session: Session) => Promise<T>): Promise<T> {
  const { config, kafka, registry, sources } = deps;
  const schemas = await prepareTopicsAndSchemas(config, kafka, registry, [...sources.keys()]);
  const codec = await outputCodec(registry, schemas);
  const producer = transactionalProducer(kafka, `${config.normaliser.transactional_id}-reprocess-${crypto.randomUUID()}`);
  await producer.connect();
  try {
    return await run({ deps, db, schemas, codec, ctx: normaliseContext(deps), producer });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Re-normalises stretches of a raw topic with the current mappings into `report`: each batch
 * is produced in one transaction, and every dead letter that now succeeds is marked resolved.
 * Used by `replay normalise` (from a time) and `dlq retry` (exactly the failed offsets).
 */
async function reprocess(
  session: Session,
  topic: string,
  ranges: PartitionRange[],
  report: ReprocessReport,
  keep: (partition: number, offset: string) => boolean = () => true,
): Promise<void> {
  const { deps, db, schemas, codec, ctx, producer } = session;
  const read = await readRanges(deps.kafka, topic, ranges, async (partition, messages) => {
    const chosen = messages.filter((m) => keep(partition, m.offset));
    if (chosen.length === 0) return;
    // An explicit replay or retry normalises again even what was seen: no duplicate check here.
    const { outcomes: encoded }: { outcomes: EncodedOutcome[] } = await normaliseMessages(codec, schemas, ctx, topic, partition, chosen);
    await produceInTransaction(producer, encoded);
    const resolved: Array<{ topic: string; partition: number; offset: number; recordId: string }> = [];
    for (const e of encoded) {
      if (e.outcome.kind === 'canonical') {
        const lineage = e.outcome.record.lineage as { raw_offset: number };
        resolved.push({ topic, partition, offset: lineage.raw_offset, recordId: e.outcome.key });
      } else {
        report.failures.push({ raw: e.outcome.key, errors: e.outcome.letter.errors });
      }
    }
    report.read += chosen.length;
    report.canonical += resolved.length;
    report.dead += chosen.length - resolved.length;
    report.resolved += await markResolved(db, resolved);
  });
  // Raw topics are written without transactions: every offset is a record, so a range must be read to its end.
  for (const early of read.endedIdle) {
    report.warnings.push(`${topic}/${early.partition}: read up to offset ${early.lastOffset ?? '(none)'} of ${early.to}; run it again`);
  }
}

/** `liandong replay normalise --source <id> --from <time|earliest>`. */
export async function replaySource(deps: NormaliserDeps, db: Knex, sourceId: string, from: 'earliest' | Date): Promise<ReprocessReport> {
  const topic = rawTopic(sourceId);
  const ranges = await partitionRanges(deps.kafka, topic, from);
  const report = emptyReport();
  await withSession(deps, db, (session) => reprocess(session, topic, ranges, report));
  return report;
}

/** `liandong dlq retry`: re-normalises exactly the raw records of the open dead letters chosen. */
export async function retryDeadLetters(deps: NormaliserDeps, db: Knex, filter: DlqFilter): Promise<ReprocessReport & { selected: number }> {
  const rows = await listDeadLetters(db, { ...filter, status: 'open' });
  const total: ReprocessReport & { selected: number } = { ...emptyReport(), selected: rows.length };
  const byTopic = new Map<string, Map<number, Set<string>>>();
  const lowWatermarks = await firstOffsets(deps, [...new Set(rows.map((r) => r.raw_topic))]);
  for (const row of rows) {
    // The raw record is gone once the topic's retention removed it: say so rather than skip it silently.
    if (BigInt(row.raw_offset) < (lowWatermarks.get(`${row.raw_topic}/${row.raw_partition}`) ?? 0n)) {
      total.failures.push({
        raw: `${row.raw_topic}/${row.raw_partition}/${row.raw_offset}`,
        errors: [{ field: 'raw', code: 'RAW_EXPIRED', message: 'the raw record is past the raw topic retention; ask the source to send it again' }],
      });
      continue;
    }
    const partitions = byTopic.get(row.raw_topic) ?? new Map<number, Set<string>>();
    const offsets = partitions.get(row.raw_partition) ?? new Set<string>();
    offsets.add(String(row.raw_offset));
    partitions.set(row.raw_partition, offsets);
    byTopic.set(row.raw_topic, partitions);
  }
  if (byTopic.size === 0) return total;
  await withSession(deps, db, async (session) => {
    for (const [topic, partitions] of byTopic) {
      const ranges: PartitionRange[] = [...partitions].map(([partition, offsets]) => {
        const sorted = [...offsets].map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        return { partition, from: sorted[0].toString(), to: sorted[sorted.length - 1].toString() };
      });
      await reprocess(session, topic, ranges, total, (partition, offset) => partitions.get(partition)?.has(offset) ?? false);
    }
  });
  return total;
}

/** The first offset still held by each partition of the topics (`topic/partition` → offset). */
async function firstOffsets(deps: NormaliserDeps, topics: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (topics.length === 0) return out;
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}/${p.partition}`, BigInt(p.low));
    }
  } finally {
    await admin.disconnect();
  }
  return out;
}
