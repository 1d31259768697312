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
