import fs from 'node:fs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { RawProducer } from '../connectors/raw-producer';
import { benchCompanies } from './support';
import { AgencySimulator, SimulatedRecord } from '../connectors/simulators/agency-records';
import type { Config } from '../lib/config';
import { RECORD_ID_FIELD } from '../pipelines/normalise/canonical-fields';
import { loadSources } from '../pipelines/normalise/mapping';
import { normaliseContext } from '../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../pipelines/normalise/normalise-record';
import { SeenVersions } from '../pipelines/normalise/seen-versions';
import { prepareTopicsAndSchemas } from '../pipelines/topics';
import { buildEnvelope } from '../pipelines/raw-envelope';
import { positionAtEnd } from '../pipelines/warehouse/consumer-offsets';
import { CANONICAL_TOPICS } from '../pipelines/warehouse/sink-warehouse';
import { Dataset, DLQ_TOPIC, rawTopic } from '../schemas/catalog';
import type { BenchDatabase } from './bench-database';
import { HubProcesses } from './child-processes';
import { once, onInterrupt } from './interrupt';
import { canonicalEnds } from './sink-throughput';
import { sourcesCopy } from './support';
import { VisibilityWatch } from './visibility-watch';

export interface FreshnessOptions {
  /** Records per second handed to the producer. */
  rate: number;
  seconds: number;
  /** Records are handed over every `tickMs` (rate × tickMs / 1000 at a time): a steady flow, not a burst. */
  tickMs: number;
  /** Records sent (and awaited) before the measurement: both services joined their groups and warmed up. */
  warmup: number;
  /** How long to wait after the last handover for the stragglers. */
  drainMs: number;
}

export interface FreshnessResult {
  /** Freshness of each measured record, ms, ascending. */
  latencies: number[];
  /** Median of handover → `recorded_at` (the canonical message's timestamp): the normaliser's part of the freshness. */
  normaliserMedianMs: number | null;
  /** Median freshness of the records handed over in the first and in the last `spanMs` (null: none seen). */
  trend: { spanMs: number; first: number | null; last: number | null };
  sent: number;
  /** Messages other runs put on the shared canonical topics meanwhile: the sink applied those too. */
  foreign: number;
  /** Watched records still not visible `drainMs` after the last handover. */
  missing: number;
  /** Records sent but not watched (not canonical, or versioned by receipt time). */
  unwatched: number;
  /** How late the latest handover was against its schedule: the producer kept pace if small. */
  maxLateMs: number;
  polls: number;
}

interface Planned {
  record: SimulatedRecord;
  expect: { dataset: Dataset; id: string; version: number } | null;
}

/**
 * Agency records of fresh ids (year 2023, so they never collide with the throughput rows),
 * with what each should become in the warehouse, worked out with the same mapping the
 * normaliser will apply.
 */
function plan(config: Config, sourcesDir: string, ids: { penalty: string; hotline: string; supervision: string }, count: number): Planned[] {
  const ctx = normaliseContext({ config, sources: loadSources(sourcesDir), piiSecret: 'bench-plan' });
  const planned: Planned[] = [];
  for (const record of new AgencySimulator({ seed: 2023, count, defectRate: 0, sources: ids, year: 2023, companies: benchCompanies() }).records()) {
    const envelope = buildEnvelope({ sourceId: record.sourceId, dataset: record.dataset, payload: record.payload, recordKey: record.recordKey, runId: 'plan' });
    const outcome = normaliseEnvelope(envelope, { topic: rawTopic(record.sourceId), partition: 0, offset: '0' }, ctx);
    const watchable = outcome.kind === 'canonical' && !(outcome.record.warnings as string[]).includes('SOURCE_VERSION_FROM_RECEIPT');
    planned.push({
      record,
      expect: watchable ? { dataset: outcome.dataset, id: String(outcome.record[RECORD_ID_FIELD[outcome.dataset]]), version: Date.parse(String(outcome.record.source_updated_at)) } : null,
    });
  }
  return planned;
}

/**
 * End-to-end freshness: raw envelopes handed to the RawProducer (as a connector run does) on a
 * steady schedule, into raw topics of an isolated copy of the shipped sources; the real
 * normaliser and warehouse sink as child processes (`liandong normaliser`,
 * `liandong warehouse sink`) writing into the bench database; the time from handover to the
 * row being visible in the core table.
 */
export async function measureFreshness(config: Config, kafka: Kafka, registry: SchemaRegistry, bench: BenchDatabase, options: FreshnessOptions): Promise<FreshnessResult> {
  const { dir, ids } = sourcesCopy();
  const run = ids.penalty.replace(/-penalty$/, '');
  const groups = { normaliser: `${run}-normaliser`, dlq: `${run}-dlq`, sinkConsumer: `${run}-fresh-sink` };
  const rawTopics = Object.values(ids).map(rawTopic);
  const admin = kafka.admin();
  await admin.connect();
  // The run's own topics and groups only; the schema subjects of its raw topics stay, as with the other benches.
  const cleanUp = once(async () => {
    await admin.deleteTopics({ topics: [...rawTopics, SeenVersions.topicFor({ ...config, normaliser: { ...config.normaliser, group_id: groups.normaliser } })] }).catch(() => undefined);
    await admin.deleteGroups([groups.normaliser, groups.dlq, `${groups.sinkConsumer}-group`]).catch(() => undefined);
    await admin.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Registered before the services, so an interrupt kills them before their topics go.
  const forgetCleanUp = onInterrupt(cleanUp);
  const services = new HubProcesses();
  const watch = new VisibilityWatch(bench.db);
  const producer = new RawProducer(kafka, registry);
  try {
    await prepareTopicsAndSchemas(config, kafka, registry, Object.values(ids));
    // The normaliser process also writes dlq.normalise into ops.dlq; a new group would replay every run's dead letters into the bench database.
    await admin.setOffsets({ groupId: groups.dlq, topic: DLQ_TOPIC, partitions: (await admin.fetchTopicOffsets(DLQ_TOPIC)).map((p) => ({ partition: p.partition, offset: p.high })) });
    await positionAtEnd(bench.db, kafka, groups.sinkConsumer, CANONICAL_TOPICS);
    const before = await canonicalEnds(kafka);

    const perTick = Math.max(1, Math.round((options.rate * options.tickMs) / 1000));
    const ticks = Math.ceil((options.rate * options.seconds) / perTick);
    const planned = plan(config, dir, ids, options.warmup + ticks * perTick);

    const env = {
      LIANDONG__DATABASE__DATABASE: bench.name,
      LIANDONG__SOURCES_DIR: dir,
      LIANDONG__NORMALISER__GROUP_ID: groups.normaliser,
      LIANDONG__NORMALISER__TRANSACTIONAL_ID: `${run}-tx`,
      LIANDONG__NORMALISER__DLQ_GROUP_ID: groups.dlq,
      LIANDONG_LOG_LEVEL: 'warn',
    };
    await Promise.all([
      services.start('normaliser', ['normaliser'], env, /normaliser running/),
      services.start('warehouse sink', ['warehouse', 'sink', '--consumer', groups.sinkConsumer, '--group', `${groups.sinkConsumer}-group`], env, /warehouse sink .* running/),
    ]);
    await producer.connect();
    watch.start();

    const hand = async (batch: Planned[], scheduledAt: number, track: boolean): Promise<number> => {
      const handedAt = Date.now();
      const envelopes = batch.map(({ record }) =>
        buildEnvelope({ sourceId: record.sourceId, dataset: record.dataset, payload: record.payload, recordKey: record.recordKey, runId: `${run}-fresh`, receivedAt: new Date(handedAt) }),
      );
      for (const { expect } of batch) if (expect) watch.expect(expect.dataset, expect.id, expect.version, handedAt);
      await producer.send(envelopes);
      return track ? handedAt - scheduledAt : 0;
    };

    // Warm-up: both services have joined their groups and applied something before the clock runs.
    await hand(planned.slice(0, options.warmup), Date.now(), false);
    const stuck = await watch.drained(120_000);
    if (stuck > 0) throw new Error(`${stuck} of ${options.warmup} warm-up records not visible in the warehouse after 120 s:\n${services.failed() ?? 'both services still running'}`);
    watch.takeSeen();

    const sends: Array<Promise<number>> = [];
    const t0 = Date.now() + options.tickMs;
    for (let k = 0; k < ticks; k++) {
      const due = t0 + k * options.tickMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const dead = services.failed();
      if (dead) throw new Error(dead);
      const from = options.warmup + k * perTick;
      // Not awaited: a slow acknowledgement must not push the next handover back. Handled at
      // once, so an early failure is not an unhandled rejection; Promise.all below reports it.
      const sent = hand(planned.slice(from, from + perTick), due, true);
      sent.catch(() => undefined);
      sends.push(sent);
    }
    const lateness = await Promise.all(sends);
    const missing = await watch.drained(options.drainMs);
    const seen = watch.takeSeen();
    const latencies = seen.map((s) => s.ms).sort((a, b) => a - b);
    // Median freshness of what was handed over in the first and in the last few seconds: a sink
    // that keeps up shows the same figure twice, one that falls behind a growing one.
    const span = Math.min(5_000, (options.seconds * 1000) / 3);
    const medianOf = (from: number, to: number) => {
      const ms = seen.filter((s) => s.handedAt >= from && s.handedAt < to).map((s) => s.ms).sort((a, b) => a - b);
      return ms.length > 0 ? ms[Math.floor((ms.length - 1) / 2)] : null;
    };
    const lastDue = t0 + (ticks - 1) * options.tickMs;
    const normaliserMs = seen.flatMap((s) => (s.normaliserMs === null ? [] : [s.normaliserMs])).sort((a, b) => a - b);
    const measured = planned.slice(options.warmup);
    const after = await canonicalEnds(kafka);
    const appended = [...after].reduce((sum, [key, end]) => sum + Number(end - (before.get(key) ?? 0n)), 0);
    return {
      foreign: Math.max(0, appended - planned.filter((p) => p.expect).length),
      latencies,
      normaliserMedianMs: normaliserMs.length > 0 ? normaliserMs[Math.floor((normaliserMs.length - 1) / 2)] : null,
      trend: { spanMs: span, first: medianOf(t0, t0 + span), last: medianOf(lastDue + options.tickMs - span, Infinity) },
      sent: measured.length,
      missing,
      unwatched: measured.filter((p) => !p.expect).length,
      maxLateMs: Math.max(0, ...lateness),
      polls: watch.polls,
    };
  } finally {
    await watch.stop();
    await producer.disconnect().catch(() => undefined);
    await services.stopAll();
    forgetCleanUp();
    await cleanUp();
  }
}
