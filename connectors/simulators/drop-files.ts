import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { AgencySimulator } from './agency-records';

/**
 * What agencies e-mail in: penalty lists as Excel workbooks and as GBK-encoded CSV files (the
 * default of Excel and WPS on Chinese Windows), Chinese headers, deterministic from a seed.
 */
export interface DropFilesOptions {
  seed: number;
  /** Files of each kind. */
  files: number;
  rowsPerFile: number;
}

const HEADER = ['案件编号', '决定书文号', '当事人类型', '当事人名称', '统一社会信用代码', '违法行为类型', '处罚种类', '罚款金额（万元）', '处罚决定日期', '案件状态', '更新时间'];

function csvCell(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes `files` XLSX and `files` GBK CSV files into `dir`; returns their paths and the case numbers in them. */
export async function writeDropFiles(dir: string, options: DropFilesOptions): Promise<{ files: string[]; caseNumbers: string[] }> {
  fs.mkdirSync(dir, { recursive: true });
  const simulator = new AgencySimulator({ seed: options.seed, count: 0 });
  const files: string[] = [];
  const caseNumbers: string[] = [];
  const rows = (): string[][] =>
    Array.from({ length: options.rowsPerFile }, () => {
      const record = JSON.parse(simulator.penalty().payload) as Record<string, unknown>;
      caseNumbers.push(String(record.案件编号));
      return HEADER.map((h) => String(record[h] ?? ''));
    });
  for (let i = 1; i <= options.files; i++) {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('行政处罚');
    sheet.addRow(HEADER);
    for (const row of rows()) sheet.addRow(row);
    const xlsx = path.join(dir, `处罚信息-${String(i).padStart(3, '0')}.xlsx`);
    await workbook.xlsx.writeFile(xlsx);
    files.push(xlsx);

    const csv = path.join(dir, `处罚信息-${String(i).padStart(3, '0')}-gbk.csv`);
    fs.writeFileSync(csv, iconv.encode([HEADER, ...rows()].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n', 'gbk'));
    files.push(csv);
  }
  return { files, caseNumbers };
}
