import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { tailFile } from '../stack/process';
import { ServiceName } from '../stack/service';
import { createStack, down, ServiceStatus, status, up } from '../stack/stack';
import { table } from './output';

const say = (line: string) => process.stdout.write(line + '\n');

function printStatus(rows: ServiceStatus[], json: boolean): void {
  if (json) {
    say(JSON.stringify(rows, null, 2));
    return;
  }
  say(
    table(
      rows.map((r) => ({
        service: r.service,
        port: r.port,
        pid: r.pid,
        health: r.health,
        'rss MB': r.rssMb,
        version: r.version,
      })),
    ),
  );
  const total = rows.reduce((sum, r) => sum + (r.rssMb ?? 0), 0);
  if (total > 0) say(`resident memory: ${total} MB in all`);
}

export function stackCommands(): Command {
  const stack = new Command('stack').description('the local stack: Kafka, the schema registry, PostgreSQL and MariaDB as plain processes');

  stack
    .command('up')
    .description('download (once), start and wait until every service is healthy; a no-op when already up')
    .option('--json', 'print the final status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = createStack(loadConfig());
      const t0 = Date.now();
      const rows = await up(s, say);
      printStatus(rows, Boolean(opts.json));
      say(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    });

  stack
    .command('down')
    .description('stop every service and wait until no process is left')
    .action(async () => {
      const s = createStack(loadConfig());
      await down(s, say);
      say('stack down');
    });

  stack
    .command('status')
    .description('each service with its port, pid, health and resident memory')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await status(createStack(loadConfig()));
      printStatus(rows, Boolean(opts.json));
      if (!rows.every((r) => r.health === 'healthy')) process.exitCode = 3;
    });

  stack
    .command('logs')
    .description('show the log of a service (postgres, kafka, registry, mariadb), or of all')
    .argument('[service]', 'postgres | kafka | registry | mariadb')
    .option('-n, --lines <n>', 'lines to show', '50')
    .option('-f, --follow', 'keep printing as the log grows')
    .action((service: string | undefined, opts: { lines: string; follow?: boolean }) => {
      const s = createStack(loadConfig());
      const chosen = s.services.filter((svc) => !service || svc.name === (service as ServiceName));
      if (chosen.length === 0) throw new Error(`unknown service ${service}: expected ${s.services.map((svc) => svc.name).join(', ')}`);
      if (opts.follow) {
        spawn('tail', ['-n', opts.lines, '-F', ...chosen.map((c) => c.logFile)], { stdio: 'inherit' });
        return;
      }
      for (const svc of chosen) {
        say(`==> ${svc.logFile} <==`);
        say(tailFile(svc.logFile, Number(opts.lines)));
      }
    });
  return stack;
}
