import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { procuratorateRows, RowsOptions, SupervisionRow, wallTime } from '../../../connectors/simulators/procuratorate-db';

const options: RowsOptions = { seed: 11, count: 5000, firstId: 1, after: Date.UTC(2025, 11, 1), year: 2025 };
const rows = (o: Partial<RowsOptions> = {}): SupervisionRow[] => [...procuratorateRows({ ...options, ...o })];

function burstSizes(all: SupervisionRow[]): number[] {
  const sizes = new Map<string, number>();
  for (const row of all) sizes.set(row.updated_at, (sizes.get(row.updated_at) ?? 0) + 1);
  return [...sizes.values()];
}

describe('the procuratorate database simulator (rows, no database)', () => {
  it('gives the same rows for the same seed and other rows for another', () => {
    expect(rows()).toEqual(rows());
    expect(rows({ seed: 12 }).map((r) => r.当事人名称)).not.toEqual(rows().map((r) => r.当事人名称));
  });

  it('numbers rows from firstId and derives each case number from its id', () => {
    const appended = rows({ firstId: 5001, count: 3 });
    expect(appended.map((r) => r.id)).toEqual([5001, 5002, 5003]);
    expect(appended.map((r) => r.案件编号)).toEqual(['JQJ-2025-005001', 'JQJ-2025-005002', 'JQJ-2025-005003']);
  });

  it('writes updated_at in bursts after `after`, never going back, some bigger than a page of 500', () => {
    const all = rows();
    expect(all[0].updated_at > wallTime(options.after)).toBe(true);
    for (let i = 1; i < all.length; i++) expect(all[i].updated_at >= all[i - 1].updated_at).toBe(true);
    const sizes = burstSizes(all);
    expect(sizes.length).toBeLessThan(all.length / 10);
    expect(Math.max(...sizes)).toBeGreaterThan(500);
    expect(sizes.filter((n) => n === 1).length).toBeGreaterThan(0);
  });

  it('keeps 更新时间 equal to updated_at to the second and turns empty fields into NULL', () => {
    for (const row of rows({ count: 300 })) {
      expect(row.更新时间).toBe(row.updated_at.slice(0, 19));
      expect(Object.values(row)).not.toContain('');
      // A party is a company (credit code) or a person (ID number), never both.
      expect([row.当事人信用代码, row.当事人身份证号].filter((v) => v !== null)).toHaveLength(1);
    }
  });

  it('has exactly the columns the jq-procuratorate source maps, plus id and updated_at', () => {
    const source = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../../config/sources/jq-procuratorate.yaml'), 'utf8')) as {
      mapping: { fields: Record<string, { from?: string }> };
    };
    const mapped = new Set(Object.values(source.mapping.fields).flatMap((f) => (f.from ? [f.from] : [])));
    const columns = Object.keys(rows({ count: 1 })[0]).filter((c) => c !== 'id' && c !== 'updated_at');
    for (const column of columns) expect(mapped).toContain(column);
    // 关联案件 is the one mapped column the procuratorate's table does not have.
    expect([...mapped].filter((c) => !columns.includes(c))).toEqual(['关联案件']);
  });
});
