import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { piiSecret } from '../../lib/secrets';
import { readJsonLines, readTableFile } from '../../lib/tabular';
import { DlqTableSink } from '../../pipelines/normalise/dlq-sink';
import { getDeadLetter, listDeadLetters } from '../../pipelines/normalise/dlq-table';
import { loadSources, requireSource } from '../../pipelines/normalise/mapping';
import { Normaliser, normaliseContext } from '../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { replaySource, retryDeadLetters, ReprocessReport } from '../../pipelines/normalise/reprocess';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { createRuntime, withRuntime } from '../runtime';
import { table } from './output';

const say = (line: string) => process.stdout.write(line + '\n');
const note = (line: string) => process.stderr.write(line + '\n');

/**
 * Sample records as the normaliser would receive them: a JSON Lines file line by line as
 * text (so a broken line is reported as that record's MALFORMED_JSON, like in production),
 * other formats as the records a file-drop connector would read.
 */
async function readSample(file: string): Promise<{ payloads: Array<string | Record<string, unknown>>; format: string; encoding: string }> {
  if (/\.(jsonl|ndjson)$/i.test(file)) {
    const { lines, encoding } = readJsonLines(file);
    return { payloads: lines.map((l) => l.text), format: 'jsonl', encoding };
  }
  const table = await readTableFile(file);
  return { payloads: table.records, format: table.format, encoding: table.encoding };
}

/** `liandong normalise --source <id> --file <records>`: a mapping dry-run that touches no service. */
export function normaliseCommand(): Command {
  return new Command('normalise')
    .description("dry-run a source's mapping over sample records (.jsonl, .json, .csv, .xlsx) and print each canonical record or its errors; touches no service")
    .requiredOption('--source <id>', 'the source whose mapping to apply')
    .requiredOption('--file <path>', 'sample records')
    .option('--pretty', 'indent the JSON')
    .action(async (opts: { source: string; file: string; pretty?: boolean }) => {
      const config = loadConfig();
      const sources = loadSources(config.sources_dir);
      const source = requireSource(sources, opts.source);
      const file = path.resolve(opts.file);
      const sample = await readSample(file);
      const ctx = normaliseContext({ config, sources, piiSecret: piiSecret(config) });
      let good = 0;
      sample.payloads.forEach((payload, index) => {
        const envelope = buildEnvelope({ sourceId: source.id, dataset: source.dataset, payload, runId: 'dry-run' });
        const outcome = normaliseEnvelope(envelope, { topic: 'dry-run', partition: 0, offset: String(index) }, ctx);
        const line =
          outcome.kind === 'canonical'
            ? { index: index + 1, ok: true, key: outcome.key, warnings: outcome.record.warnings, record: outcome.record }
            : { index: index + 1, ok: false, errors: outcome.letter.errors };
        if (outcome.kind === 'canonical') good++;
        say(JSON.stringify(line, null, opts.pretty ? 2 : undefined));
      });
      const total = sample.payloads.length;
      note(`${total} record(s) from ${file} (${sample.format}, ${sample.encoding}): ${good} canonical, ${total - good} with errors`);
      if (good < total) process.exitCode = 4;
    });
}

/** `liandong normaliser`: runs the normaliser and the dead-letter table writer until Ctrl-C. */
export function normaliserCommand(): Command {
  return new Command('normaliser').description('run the normaliser (raw.* → canonical topics and dlq.normalise, exactly once) until Ctrl-C').action(async () => {
    const rt = createRuntime(loadConfig(), 'normaliser');
    const fatal = exitOnFatal(rt.logger);
    const normaliser = new Normaliser({ ...rt, onFatal: fatal });
    const dlq = new DlqTableSink({ ...rt, onFatal: fatal });
    await normaliser.start();
    await dlq.start();
    say(`normaliser running over ${rt.sources.size} source(s); Ctrl-C stops it`);
    const timer = setInterval(() => {
      const s = normaliser.stats;
      say(`read ${s.read}  canonical ${s.canonical}  dead letters ${s.dead}  re-sends skipped ${s.duplicates}  (ops.dlq rows written ${dlq.written})`);
    }, 10_000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(timer);
    await normaliser.stop();
    await dlq.stop();
    await rt.close();
  });
}

/** A pipeline whose consumer crashed for good stops the process, so a supervisor can restart it. */
export function exitOnFatal(logger: { error: (msg: string, fields?: Record<string, unknown>) => void }): (err: Error) => void {
  return (err) => {
    logger.error('stopping: a pipeline consumer crashed and will not restart', { error: err });
    process.exit(1);
  };
}

function printReport(report: ReprocessReport): void {
  say(`read ${report.read}: ${report.canonical} canonical, ${report.dead} dead letter(s); ${report.resolved} open dead letter(s) resolved`);
  for (const failure of report.failures.slice(0, 20)) {
    say(`  still failing ${failure.raw}: ${failure.errors.map((e) => `${e.field} ${e.code}`).join('; ')}`);
  }
  if (report.failures.length > 20) say(`  … and ${report.failures.length - 20} more`);
  for (const warning of report.warnings) note(`warning: ${warning}`);
}

export function replayCommand(): Command {
  const replay = new Command('replay').description('re-run a pipeline over data already landed');
  replay
    .command('normalise')
    .description('re-normalise a source from its raw topic with the current mapping')
    .requiredOption('--source <id>', 'source id')
    .option('--from <time|earliest>', 'ISO time, or earliest', 'earliest')
    .action(async (opts: { source: string; from: string }) => {
      await withRuntime('replay', async (rt) => {
        requireSource(rt.sources, opts.source);
        const from = opts.from === 'earliest' ? 'earliest' : new Date(opts.from);
        if (from !== 'earliest' && Number.isNaN(from.getTime())) throw new Error(`--from ${opts.from}: expected an ISO time (2025-06-04T08:00:00+08:00) or earliest`);
        printReport(await replaySource(rt, rt.db, opts.source, from));
      });
    });
  return replay;
}

export function dlqCommands(): Command {
  const dlq = new Command('dlq').description('dead letters of the normaliser: why records failed, and re-running them');
  dlq
    .command('list')
    .description('list dead letters (open by default)')
    .option('--source <id>', 'only this source')
    .option('--status <status>', 'open | resolved | all', 'open')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (opts: { source?: string; status: 'open' | 'resolved' | 'all'; limit: string }) => {
      await withRuntime('dlq', async (rt) => {
        const rows = await listDeadLetters(rt.db, { source: opts.source, status: opts.status, limit: Number(opts.limit) });
        say(
          table(
            rows.map((r) => ({
              id: r.id,
              source: r.source_id,
              raw: `${r.raw_topic}/${r.raw_partition}/${r.raw_offset}`,
              status: r.status,
              attempts: r.attempts,
              errors: r.errors.map((e) => `${e.field}:${e.code}`).join(' '),
            })),
          ) || 'no dead letters',
        );
      });
    });
  dlq
    .command('show')
    .description('one dead letter with every error')
    .argument('<id>')
    .action(async (id: string) => {
      await withRuntime('dlq', async (rt) => {
        const row = await getDeadLetter(rt.db, id);
        if (!row) throw new Error(`no dead letter ${id}`);
        say(JSON.stringify(row, null, 2));
      });
    });
  dlq
    .command('retry')
    .description('re-normalise open dead letters with the current mappings (after a mapping fix)')
    .option('--source <id>', 'only this source')
    .option('--id <ids...>', 'only these dead letters')
    .action(async (opts: { source?: string; id?: string[] }) => {
      await withRuntime('dlq', async (rt) => {
        const report = await retryDeadLetters(rt, rt.db, { source: opts.source, ids: opts.id });
        say(`retried ${report.selected} open dead letter(s)`);
        printReport(report);
      });
    });
  return dlq;
}
