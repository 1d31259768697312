import { loadConfig } from '../lib/config';
import { createStack, up } from '../hub/stack/stack';
import { table } from '../hub/cli/output';
import { benchConnectors } from './connectors';
import { benchNormalise } from './normalise';
import { benchWarehouse } from './warehouse';
import { benchApiLoad } from './api-load';
import type { BenchResult } from './support';

/**
 * `npm run bench [-- <name>…]`: brings the local stack up, runs the benchmarks against it and
 * prints one table. Figures are for this machine (2 cores); compare runs on the same one.
 */
const BENCHES: Record<string, (records: number) => Promise<BenchResult[]>> = {
  connectors: (n) => benchConnectors(loadConfig(), n),
  normalise: (n) => benchNormalise(loadConfig(), n),
  warehouse: (n) => benchWarehouse(loadConfig(), n),
  api: () => benchApiLoad(loadConfig()),
};

async function main(): Promise<void> {
  const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const records = Number(process.env.BENCH_RECORDS ?? 100_000);
  const config = loadConfig();
  await up(createStack(config), (line) => process.stderr.write(line + '\n'));
  const results: BenchResult[] = [];
  for (const [name, run] of Object.entries(BENCHES)) {
    if (chosen.length > 0 && !chosen.includes(name)) continue;
    process.stderr.write(`bench ${name} (${records} records)…\n`);
    results.push(...(await run(records)));
  }
  process.stdout.write(table(results.map((r) => ({ benchmark: r.name, value: r.value, unit: r.unit, detail: r.note }))) + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
