import { Command } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../lib/config';
import { createDb } from '../../lib/db';
import { CANONICAL_TIME_SQL, verifyAuditChain } from '../api/audit-chain';
import { table } from './output';

const say = (line: string) => process.stdout.write(line + '\n');
const note = (line: string) => process.stderr.write(line + '\n');

/** Exit code of `audit verify` when the chain is broken (1 stays "could not check", e.g. no database). */
export const EXIT_CHAIN_BROKEN = 6;

async function withDb<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = createDb(loadConfig(), { poolMax: 2 });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** `liandong audit …`: the exchange API's hash-chained audit log (ops.audit_log). */
export function auditCommands(): Command {
  const audit = new Command('audit').description("the exchange API's audit log: every request, append-only and hash-chained");

  audit
    .command('verify')
    .description('recompute the hash chain over the whole audit log; names the first row where it breaks (exit 6)')
    .action(async () => {
      await withDb(async (db) => {
        const tty = process.stderr.isTTY;
        const result = await verifyAuditChain(db, { onProgress: tty ? (rows) => process.stderr.write(`\rchecked ${rows} row(s)   `) : undefined });
        if (tty) process.stderr.write('\n');
        if (result.ok) {
          say(result.head ? `audit chain intact: ${result.rows} row(s); head seq ${result.head.seq}, hash ${result.head.hash}` : 'audit log is empty');
          // Keeping the head elsewhere (a ticket, a signed note) also detects a rewrite of the chain from some row to the end.
          if (result.head) note('record the head hash outside the database to detect a rewritten tail later');
        } else {
          note(`audit chain broken at seq ${result.seq}: ${result.message} (${result.reason}; ${result.rows} row(s) before it are intact)`);
          process.exitCode = EXIT_CHAIN_BROKEN;
        }
      });
    });

  audit
    .command('tail')
    .description('the latest audit rows, oldest first')
    .option('-n, --lines <n>', 'how many rows', (v) => Number.parseInt(v, 10), 20)
    .option('--agency <code>', 'only this agency')
    .action(async (opts: { lines: number; agency?: string }) => {
      await withDb(async (db) => {
        const q = db('ops.audit_log').select(
          'seq', db.raw(`${CANONICAL_TIME_SQL} as at`), 'agency_code', 'key_id', 'method', 'route', 'dataset', 'record_count', 'status', 'outcome',
        );
        if (opts.agency) q.where('agency_code', opts.agency);
        const rows = (await q.orderBy('seq', 'desc').limit(Math.max(1, opts.lines))).reverse();
        say(
          table(rows.map((r: Record<string, unknown>) => ({
            seq: String(r.seq),
            at: r.at as string,
            agency: (r.agency_code as string | null) ?? null,
            key: (r.key_id as string | null) ?? null,
            request: `${r.method} ${r.route}`,
            dataset: (r.dataset as string | null) ?? null,
            records: r.record_count as number,
            status: r.status as number,
            outcome: r.outcome as string,
          }))) || 'audit log is empty',
        );
      });
    });
  return audit;
}
