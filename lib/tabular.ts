import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { ValidationError } from './errors';

/**
 * Reads the files agencies actually send — JSON Lines, a JSON array, CSV (UTF-8, UTF-8 with
 * BOM, or GBK) and XLSX workbooks with Chinese headers — as records keyed by column header.
 */
export type TableRecord = Record<string, unknown>;
export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'gbk';

export interface TableFile {
  format: 'jsonl' | 'json' | 'csv' | 'xlsx';
  encoding: TextEncoding | 'binary';
  records: TableRecord[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 (with or without BOM) when the bytes are valid UTF-8, otherwise GBK (as GB18030, its superset). */
export function decodeText(bytes: Buffer): { text: string; encoding: TextEncoding } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: bytes.subarray(3).toString('utf8'), encoding: 'utf-8-bom' };
  }
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: iconv.decode(bytes, 'gb18030'), encoding: 'gbk' };
  }
}

export async function readTableFile(file: string): Promise<TableFile> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.xlsx') return { format: 'xlsx', encoding: 'binary', records: await readXlsx(file) };
  if (ext === '.xls') {
    throw new ValidationError('file', 'UNSUPPORTED_FORMAT', `${file}: legacy .xls workbooks are not read; save it as .xlsx or CSV`);
  }
  if (ext === '.jsonl' || ext === '.ndjson') return { format: 'jsonl', encoding: readJsonLines(file).encoding, records: parseJsonLines(file) };
  const { text, encoding } = decodeText(fs.readFileSync(file));
  if (ext === '.json') {
    const data = parseJson(file, text, 1);
    if (!Array.isArray(data)) throw new ValidationError('file', 'MALFORMED_JSON', `${file}: expected a JSON array of records`);
    return { format: 'json', encoding, records: data as TableRecord[] };
  }
  if (ext === '.csv' || ext === '.txt') return { format: 'csv', encoding, records: parseCsvText(file, text) };
  throw new ValidationError('file', 'UNSUPPORTED_FORMAT', `${file}: unknown file type ${ext || '(none)'}; expected .jsonl, .json, .csv or .xlsx`);
}

function parseJson(file: string, text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError('file', 'MALFORMED_JSON', `${file}:${line}: ${(err as Error).message.replace(/, ".*$/, '')}`);
  }
}

/** The non-empty lines of a JSON Lines file, unparsed (each is one record's text). */
export function readJsonLines(file: string): { lines: Array<{ line: number; text: string }>; encoding: TextEncoding } {
  const { text, encoding } = decodeText(fs.readFileSync(file));
  const lines = text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((l) => l.text.trim() !== '');
  return { lines, encoding };
}

function parseJsonLines(file: string): TableRecord[] {
  return readJsonLines(file).lines.map((l) => parseJson(file, l.text, l.line) as TableRecord);
}

export function parseCsvText(file: string, text: string): TableRecord[] {
  try {
    return parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim()), skip_empty_lines: true, trim: true, relax_column_count: false }) as TableRecord[];
  } catch (err) {
    throw new ValidationError('file', 'MALFORMED_CSV', `${file}: ${(err as Error).message}`);
  }
}

/** Excel stores a typed date as the wall-clock time in UTC fields; keep it as local text. */
function cellValue(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((r) => r.text).join('');
    if ('result' in value) return cellValue(value.result as ExcelJS.CellValue);
    if ('text' in value) return value.text;
    if ('error' in value) return null;
  }
  return value;
}

async function readXlsx(file: string): Promise<TableRecord[]> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(file);
  } catch (err) {
    throw new ValidationError('file', 'MALFORMED_XLSX', `${file}: not a readable XLSX workbook (${(err as Error).message})`);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new ValidationError('file', 'MALFORMED_XLSX', `${file}: the workbook has no worksheet`);
  const headers: string[] = [];
  sheet.getRow(1).eachCell((cell, col) => (headers[col] = String(cellValue(cell.value) ?? '').trim()));
  const records: TableRecord[] = [];
  sheet.eachRow((row, rowNumber) => {
    if (rowNumber === 1) return;
    const record: TableRecord = {};
    let filled = false;
    headers.forEach((header, col) => {
      if (!header) return;
      const value = cellValue(row.getCell(col).value);
      record[header] = value;
      if (value !== null && value !== '') filled = true;
    });
    if (filled) records.push(record);
  });
  return records;
}
