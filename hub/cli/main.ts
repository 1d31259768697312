import { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { createDb } from '../../lib/db';
import { LiandongError, StackError } from '../../lib/errors';
import { migrateLatest, migrateRollback, migrationStatus } from '../../sql/migrate';
import { checkReadiness } from '../readiness';
import { serve } from '../server/serve';
import { withRuntime } from '../runtime';
import { runHub } from '../run-hub';
import { runDemo } from '../demo/run-demo';
import { table } from './output';
import { dlqCommands, normaliseCommand, normaliserCommand, replayCommand } from './normalise-commands';
import { connectorCommands } from './connector-commands';
import { schemaCommands } from './schema-commands';
import { stackCommands } from './stack-commands';
import { warehouseCommands } from './warehouse-commands';
import { agencyCommands } from './agency-commands';
import { auditCommands } from './audit-commands';

const say = (line: string) => process.stdout.write(line + '\n');

export function buildProgram(): Command {
  const program = new Command('liandong')
    .description('Liandong (联动): the government–procuratorate data-sharing hub')
    .showHelpAfterError();

  program.addCommand(stackCommands());
  program.addCommand(normaliseCommand());
  program.addCommand(normaliserCommand());
  program.addCommand(replayCommand());
  program.addCommand(dlqCommands());
  program.addCommand(schemaCommands());
  program.addCommand(connectorCommands());
  program.addCommand(warehouseCommands());
  program.addCommand(agencyCommands());
  program.addCommand(auditCommands());

  program
    .command('migrate')
    .description('apply the warehouse migrations (core, link, mart, ops)')
    .option('--rollback', 'roll back the last batch')
    .option('--status', 'list applied and pending migrations')
    .action(async (opts: { rollback?: boolean; status?: boolean }) => {
      const db = createDb(loadConfig(), { poolMax: 2 });
      try {
        if (opts.status) {
          const { applied, pending } = await migrationStatus(db);
          for (const m of applied) say(`applied  ${m}`);
          for (const m of pending) say(`pending  ${m}`);
        } else if (opts.rollback) {
          const reverted = await migrateRollback(db);
          say(reverted.length ? `rolled back: ${reverted.join(', ')}` : 'nothing to roll back');
        } else {
          const applied = await migrateLatest(db);
          say(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
        }
      } finally {
        await db.destroy();
      }
    });

  program
    .command('ready')
    .description('check that Kafka, the schema registry and PostgreSQL answer through the configured clients')
    .action(async () => {
      const checks = await checkReadiness(loadConfig());
      say(table(checks.map((c) => ({ service: c.name, ok: c.ok ? 'yes' : 'NO', ms: c.ms, detail: c.detail }))));
      if (!checks.every((c) => c.ok)) process.exitCode = 3;
    });

  program
    .command('serve')
    .description('run the hub HTTP server alone: the exchange API, health, readiness and metrics')
    .action(async () => {
      await withRuntime('hub', (rt) => serve(rt, say));
    });

  program
    .command('run')
    .description('run the whole hub against configured services: migrate, register the schemas, then the normaliser, the warehouse sink, the scheduled connectors and the API (the production entry point)')
    .action(async () => {
      await runHub(loadConfig(), say);
    });

  program
    .command('demo')
    .description('bring up the local stack and simulated agency systems, then run the whole hub on them (what `npm start` runs)')
    .action(async () => {
      // The demo's own summary says what happens; the JSON log shows warnings and errors only.
      process.env.LIANDONG_LOG_LEVEL ??= 'warn';
      await runDemo(loadConfig(), say);
    });

  return program;
}

/** Runs the CLI; errors become one clear message and a non-zero exit code, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = 1;
    if (err instanceof LiandongError) {
      process.stderr.write(`error [${err.code}] ${err.message}\n`);
      if (err instanceof StackError && err.logTail) process.stderr.write(`--- last lines of the log ---\n${err.logTail}\n`);
    } else {
      process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
      if (process.env.LIANDONG_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    }
  }
}
