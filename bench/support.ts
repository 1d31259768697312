import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note: string;
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

const SHIPPED: Record<string, string> = { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };

/** The shipped source definitions under fresh ids, so each run has raw topics of its own. */
export function sourcesCopy(): { dir: string; ids: { penalty: string; hotline: string; supervision: string } } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-bench-'));
  const run = `bench-${Date.now().toString(36)}`;
  const ids = { penalty: `${run}-penalty`, hotline: `${run}-hotline`, supervision: `${run}-supervision` };
  for (const [role, id] of Object.entries(ids)) {
    const doc = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../config/sources', `${SHIPPED[role]}.yaml`), 'utf8'));
    doc.id = id;
    fs.writeFileSync(path.join(dir, `${id}.yaml`), YAML.stringify(doc));
  }
  return { dir, ids };
}

/**
 * How many companies the simulated city has (BENCH_COMPANIES, 20,000 by default). The
 * warehouse links every complaint and supervision record to the records of the same party
 * within a window, so the cost per row follows how many records each party has: 20,000
 * companies is a prefecture-level city's registered enterprises with an enforcement or
 * complaint history; the simulators' own default of 120 is a dense worst case (BENCH_COMPANIES=120).
 */
export function benchCompanies(): number {
  return Number(process.env.BENCH_COMPANIES ?? 20_000);
}
