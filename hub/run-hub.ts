import { Scheduler } from '../connectors/scheduler';
import type { Config } from '../lib/config';
import { DlqTableSink } from '../pipelines/normalise/dlq-sink';
import { Normaliser } from '../pipelines/normalise/normaliser';
import { positionAtEnd } from '../pipelines/warehouse/consumer-offsets';
import { CANONICAL_TOPICS, WarehouseSink } from '../pipelines/warehouse/sink-warehouse';
import { migrateLatest } from '../sql/migrate';
import { exitOnFatal } from './cli/normalise-commands';
import { createRuntime, Runtime } from './runtime';
import { serve } from './server/serve';

export interface RunHubOptions {
  /** Called once everything runs and the server listens (the demo prints its summary from here). */
  running?: (rt: Runtime) => { stop(): void } | void;
}

/** The warehouse sink's name in ops.consumer_offsets. */
export const WAREHOUSE_CONSUMER = 'warehouse';

/**
 * The whole hub in one process, as `liandong run` (production) and `npm start` (demo) run it:
 * migrate, register every subject (BACKWARD), then the normaliser, the dead-letter table, the
 * warehouse sink, the scheduled connectors and the exchange API, until Ctrl-C; then each part
 * stops in the reverse order, the API first so nothing new arrives.
 */
export async function runHub(config: Config, say: (line: string) => void, options: RunHubOptions = {}): Promise<void> {
  const rt = createRuntime(config, 'hub');
  const stops: Array<() => Promise<void> | void> = [];
  try {
    const applied = await migrateLatest(rt.db);
    say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations up to date');
    const fatal = exitOnFatal(rt.logger);
    const normaliser = new Normaliser({ ...rt, onFatal: fatal });
    const dlq = new DlqTableSink({ ...rt, onFatal: fatal });
    await normaliser.start();
    stops.push(() => normaliser.stop());
    await dlq.start();
    stops.push(() => dlq.stop());
    say(`schemas registered (BACKWARD) and topics ready for ${rt.sources.size} source(s); normaliser running`);

    const stored = await rt.db('ops.consumer_offsets').where({ consumer: WAREHOUSE_CONSUMER }).first();
    if (!stored && config.warehouse.initial_position === 'latest') await positionAtEnd(rt.db, rt.kafka, WAREHOUSE_CONSUMER, CANONICAL_TOPICS);
    const sink = new WarehouseSink({ ...rt, consumer: WAREHOUSE_CONSUMER, onFatal: fatal });
    await sink.start();
    stops.push(() => sink.stop());
    say('warehouse sink running (canonical topics → core, link, mart)');

    const scheduler = new Scheduler(rt, rt.sources);
    say(`${scheduler.start()} source(s) pulled on a schedule`);
    stops.push(() => scheduler.stop());

    let extra: { stop(): void } | undefined;
    await serve(rt, say, { onListening: () => (extra = options.running?.(rt) ?? undefined) });
    extra?.stop();
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rt.close();
  }
}
