import { Command } from 'commander';
import { z } from 'zod';
import { CONNECTOR_KINDS } from '../../connectors/kinds';
import { connectorContext, loadState, runSource } from '../../connectors/runner';
import { createLogger } from '../../lib/log';
import { requireSource } from '../../pipelines/normalise/mapping';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { withRuntime } from '../runtime';
import { table } from './output';

const say = (line: string) => process.stdout.write(line + '\n');

export function connectorCommands(): Command {
  const connector = new Command('connector').description('the connectors that pull records from agency systems');

  connector
    .command('list')
    .description('each source with its connector, schedule, cursor state and last run')
    .action(async () => {
      await withRuntime('connector', async (rt) => {
        const runs = await rt.db.raw(`select distinct on (source_id) * from ops.connector_runs order by source_id, started_at desc`);
        const last = new Map<string, Record<string, unknown>>(runs.rows.map((r: Record<string, unknown>) => [r.source_id as string, r]));
        const rows = [];
        for (const source of rt.sources.values()) {
          const run = last.get(source.id);
          rows.push({
            source: source.id,
            kind: source.connector?.kind ?? 'none',
            schedule: source.connector?.schedule ?? null,
            state: JSON.stringify(await loadState(rt.db, source.id)),
            'last run': run ? `${(run.started_at as Date).toISOString()} ${run.status}` : null,
            read: run ? Number(run.records_read) : null,
            produced: run ? Number(run.records_produced) : null,
            failed: run ? Number(run.records_failed) : null,
            error: (run?.error as string | null) ?? null,
          });
        }
        say(table(rows));
      });
    });

  connector
    .command('kinds')
    .description('each connector kind with its configuration schema (JSON Schema; secret fields marked "secret": true)')
    .action(() => {
      for (const kind of Object.values(CONNECTOR_KINDS)) {
        say(`# ${kind.kind}: ${kind.description}`);
        say(JSON.stringify(z.toJSONSchema(kind.config, { io: 'input' }), null, 2));
      }
    });

  connector
    .command('check')
    .description("check that a source's system answers")
    .argument('<source>')
    .action(async (id: string) => {
      await withRuntime('connector', async (rt) => {
        const source = requireSource(rt.sources, id);
        if (!source.connector) throw new Error(`source ${id} has no connector (push only)`);
        const kind = CONNECTOR_KINDS[source.connector.kind];
        say(await kind.check(kind.config.parse(source.connector.config), connectorContext(id, createLogger({ source: id }), new AbortController().signal)));
      });
    });

  connector
    .command('run')
    .description('pull one source now (incrementally, or everything with --full-refresh)')
    .argument('<source>')
    .option('--full-refresh', 'ignore the saved cursor and read everything again')
    .action(async (id: string, opts: { fullRefresh?: boolean }) => {
      await withRuntime('connector', async (rt) => {
        const source = requireSource(rt.sources, id);
        await prepareTopicsAndSchemas(rt.config, rt.kafka, rt.registry, [...rt.sources.keys()]);
        const tty = process.stderr.isTTY;
        const summary = await runSource(rt, source, {
          fullRefresh: opts.fullRefresh,
          onProgress: tty ? ({ read, produced }) => process.stderr.write(`\r${id}: read ${read}, in Kafka ${produced}   `) : undefined,
        });
        if (tty) process.stderr.write('\n');
        say(
          `${id} ${summary.status}: read ${summary.read}, produced ${summary.produced}, failed ${summary.failed}, ${summary.attempts} attempt(s), ${(summary.durationMs / 1000).toFixed(1)} s` +
            (summary.error ? ` — ${summary.error}` : ''),
        );
        if (summary.status === 'failed') process.exitCode = 5;
      });
    });
  return connector;
}
