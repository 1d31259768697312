import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDropFiles } from '../../../connectors/simulators/drop-files';
import { decodeText, readTableFile } from '../../../lib/tabular';

describe('drop-folder files for the file-drop connector', () => {
  it('writes XLSX workbooks and GBK CSV files with Chinese headers that read back to the same cases', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-drop-sim-'));
    const { files, caseNumbers } = await writeDropFiles(dir, { seed: 3, files: 2, rowsPerFile: 40 });
    expect(files).toHaveLength(4);
    const csv = files.find((f) => f.endsWith('.csv'))!;
    expect(decodeText(fs.readFileSync(csv)).encoding).toBe('gbk');
    const read: string[] = [];
    for (const file of files) read.push(...(await readTableFile(file)).records.map((r) => String(r.案件编号)));
    expect(read.sort()).toEqual([...caseNumbers].sort());
    expect(new Set(read).size).toBe(160);
  });

  it('is deterministic from its seed', async () => {
    const a = await writeDropFiles(fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-drop-a-')), { seed: 9, files: 1, rowsPerFile: 10 });
    const b = await writeDropFiles(fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-drop-b-')), { seed: 9, files: 1, rowsPerFile: 10 });
    expect(a.caseNumbers).toEqual(b.caseNumbers);
    expect(fs.readFileSync(a.files[1])).toEqual(fs.readFileSync(b.files[1]));
  });
});
