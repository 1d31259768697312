import { Command } from 'commander';
import { exitOnFatal } from './normalise-commands';
import { CANONICAL_TOPICS, WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import { positionAtEnd } from '../../pipelines/warehouse/consumer-offsets';
import { migrateLatest } from '../../sql/migrate';
import { withRuntime } from '../runtime';

const say = (line: string) => process.stdout.write(line + '\n');

/** `liandong warehouse …`: the PostgreSQL warehouse fed from the canonical topics. */
export function warehouseCommands(): Command {
  const warehouse = new Command('warehouse').description('the PostgreSQL warehouse (core current state and history) fed from the canonical topics');
  warehouse
    .command('sink')
    .description('run the warehouse sink (canonical topics → core.*, offsets in the same transaction) until Ctrl-C')
    .option('--consumer <name>', 'name of this warehouse consumer in ops.consumer_offsets', 'warehouse')
    .option('--group <id>', 'Kafka consumer group (default liandong-<consumer>); offsets live in PostgreSQL, not in the group')
    .option('--from-end', 'when this consumer has no stored offsets yet, start at the end of the topics instead of replaying them')
    .action(async (opts: { consumer: string; group?: string; fromEnd?: boolean }) => {
      await withRuntime('warehouse', async (rt) => {
        await migrateLatest(rt.db);
        const stored = await rt.db('ops.consumer_offsets').where({ consumer: opts.consumer }).first();
        if (opts.fromEnd && !stored) await positionAtEnd(rt.db, rt.kafka, opts.consumer, CANONICAL_TOPICS);
        const sink = new WarehouseSink({ ...rt, consumer: opts.consumer, groupId: opts.group, onFatal: exitOnFatal(rt.logger) });
        await sink.start();
        say(`warehouse sink '${opts.consumer}' running; Ctrl-C stops it`);
        const timer = setInterval(() => {
          const s = sink.stats;
          say(`read ${s.read}  new versions ${s.versions}  current rows written ${s.current}  already applied ${s.skipped}  (${s.batches} transactions)`);
        }, 10_000);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        clearInterval(timer);
        await sink.stop();
      });
    });
  return warehouse;
}
