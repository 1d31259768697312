import { Command } from 'commander';
import { exitOnFatal } from './normalise-commands';
import { CANONICAL_TOPICS, WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import { positionAtEnd } from '../../pipelines/warehouse/consumer-offsets';
import { rebuildWarehouse, RebuildProgress, RebuildSummary } from '../../pipelines/warehouse/rebuild';
import { migrateLatest } from '../../sql/migrate';
import { withRuntime } from '../runtime';
import { table } from './output';

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
  warehouse
    .command('rebuild')
    .description('replay the canonical topics from the start into fresh tables, then switch them in atomically (the live sink keeps running)')
    .option('--consumer <name>', "the live sink's consumer name in ops.consumer_offsets", 'warehouse')
    .option('--keep-old', 'keep the replaced tables as core_old_<stamp> / link_old_<stamp> instead of dropping them')
    .action(async (opts: { consumer: string; keepOld?: boolean }) => {
      await withRuntime('warehouse-rebuild', async (rt) => {
        await migrateLatest(rt.db);
        // Ctrl-C before the switch: the copies are dropped and the live warehouse stays as it was.
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const progress = progressLine();
        try {
          const summary = await rebuildWarehouse(rt, { consumer: opts.consumer, keepOld: opts.keepOld, signal: abort.signal, onProgress: progress.update });
          progress.done();
          printSummary(summary);
        } finally {
          progress.done();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
  return warehouse;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * On an interactive terminal, one line redrawn in place (applied, rate, what is left); otherwise
 * only the phase changes, so a log file gets a few lines, not thousands.
 */
function progressLine(): { update: (p: RebuildProgress) => void; done: () => void } {
  const tty = process.stdout.isTTY === true;
  let phase = '';
  let drawn = false;
  let last = { at: Date.now(), applied: 0, rate: 0 };
  const PHASES: Record<RebuildProgress['phase'], string> = {
    prepare: 'creating core_next / link_next',
    replay: 'replaying the canonical topics into core_next / link_next',
    switch: 'caught up; switching over (the live sink waits only for the switch transaction)',
    cleanup: 'switched; dropping the replaced tables',
  };
  return {
    update: (p) => {
      if (p.phase !== phase) {
        if (drawn) process.stdout.write('\n');
        drawn = false;
        phase = p.phase;
        say(PHASES[p.phase]);
      }
      if (!tty || (p.phase !== 'replay' && p.phase !== 'switch')) return;
      const now = Date.now();
      if (now - last.at >= 1000) {
        last = { at: now, applied: p.applied, rate: ((p.applied - last.applied) * 1000) / (now - last.at) };
      }
      const pct = p.total > 0 ? Math.min(100, (100 * p.applied) / p.total).toFixed(1) : '100.0';
      const left = last.rate > 0 ? ` · ~${Math.ceil(Math.max(0, p.total - p.applied) / last.rate)} s left` : '';
      const tries = p.attempts > 0 ? ` · switch attempt ${p.attempts}` : '';
      process.stdout.write(`\r\x1b[2K  ${p.applied.toLocaleString('en')} / ${p.total.toLocaleString('en')} messages (${pct}%) · ${Math.round(last.rate).toLocaleString('en')}/s${left}${tries}`);
      drawn = true;
    },
    done: () => {
      if (drawn) process.stdout.write('\n');
      drawn = false;
    },
  };
}

function printSummary(s: RebuildSummary): void {
  say(`warehouse rebuilt from ${s.messages.toLocaleString('en')} canonical messages and switched over (${s.attempts} switch attempt${s.attempts === 1 ? '' : 's'})`);
  say(table(s.tables.map((t) => ({ table: t.table, rows: t.rows.toLocaleString('en') }))));
  if (s.views.length > 0) say(`views re-pointed at the new tables: ${s.views.join(', ')}`);
  say(`replay ${seconds(s.replayMs)}  switch ${seconds(s.switchMs)}  total ${seconds(s.totalMs)}`);
  if (s.keptOld) say(`the replaced tables are kept in ${s.keptOld.core} and ${s.keptOld.link}${s.keptBecause ? ` (${s.keptBecause})` : ''}`);
  say(`the live consumer '${s.consumer}' goes on from where the rebuild stopped`);
}
