import { columnValues, CoreTable } from './core-rows';

/**
 * Rows in PostgreSQL's COPY text format (tab-separated, `\N` for NULL, backslash escapes):
 * PostgreSQL's usual way of taking many rows. `copyColumns` writes a core table's columns of a
 * record, which the bench's COPY baseline loads; `arrayLiteral` also serves the sink's SQL
 * literals. (The sink stages its records in the binary format, `copy-binary.ts`, and reads these
 * columns from the staged record in SQL.)
 *
 * @example
 *   const format = columnFormatter('text[]');
 *   format(['a', 'b"c']);   // '{"a","b\\\\"c"}' — an array literal, then COPY-escaped
 */

export type ValueFormat = (value: unknown) => string;

export const COPY_NULL = '\\N';

const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Whether the text holds a character COPY's text format escapes; four scans for one character are ~5× faster than one regular expression. */
const needsEscape = (text: string): boolean => text.includes('\\') || text.includes('\n') || text.includes('\r') || text.includes('\t');

/** A field's text escaped for COPY text format. */
export function copyEscape(text: string): string {
  return needsEscape(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : text;
}

/** An element of an array literal: always quoted, so commas, braces and spaces need no thought. */
const arrayElement = (value: unknown): string => (value === null || value === undefined ? 'NULL' : `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`);

/** PostgreSQL's array literal of the values, `{"a","b\\"c",NULL}`: its own syntax, before any COPY or SQL escaping. */
export const arrayLiteral = (values: readonly unknown[]): string => `{${values.map(arrayElement).join(',')}}`;

const scalarText = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

/** The formatter of one column, by its PostgreSQL type. */
export function columnFormatter(type: string): ValueFormat {
  if (type === 'jsonb') return (v) => (v === null || v === undefined ? COPY_NULL : copyEscape(JSON.stringify(v)));
  if (type.endsWith('[]')) return (v) => (v === null || v === undefined ? COPY_NULL : copyEscape(arrayLiteral(v as unknown[])));
  return (v) => (v === null || v === undefined ? COPY_NULL : copyEscape(scalarText(v)));
}

const formatters = new Map<string, ValueFormat[]>();

/** The table's columns of a canonical record, tab-separated, without a line end. */
export function copyColumns(table: CoreTable, record: Record<string, unknown>): string {
  let formats = formatters.get(table.table);
  if (!formats) formatters.set(table.table, (formats = table.columns.map(([, type]) => columnFormatter(type))));
  const values = columnValues(table, record);
  let line = formats[0](values[0]);
  for (let i = 1; i < values.length; i++) line += `\t${formats[i](values[i])}`;
  return line;
}
