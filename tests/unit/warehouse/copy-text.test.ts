import { columnFormatter, copyColumns, copyEscape } from '../../../pipelines/warehouse/copy-text';
import { CORE_TABLES } from '../../../pipelines/warehouse/core-rows';

describe('COPY text format', () => {
  it('escapes backslash, newline, carriage return and tab, and leaves other text alone', () => {
    expect(copyEscape('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
    expect(copyEscape('罚款 5,000 元 "x" {y}')).toBe('罚款 5,000 元 "x" {y}');
  });

  it('writes NULL as \\N and a literal "\\N" escaped, so the two stay apart', () => {
    const text = columnFormatter('text');
    expect(text(null)).toBe('\\N');
    expect(text(undefined)).toBe('\\N');
    expect(text('\\N')).toBe('\\\\N');
    expect(text('')).toBe('');
  });

  it('writes arrays as quoted array literals, elements escaped before the field is', () => {
    const array = columnFormatter('text[]');
    expect(array(['a', 'b,c', 'd"e', null])).toBe('{"a","b,c","d\\\\"e",NULL}');
    expect(array(['back\\slash'])).toBe('{"back\\\\\\\\slash"}');
    expect(array([])).toBe('{}');
    expect(array(null)).toBe('\\N');
  });

  it('writes jsonb as JSON, its escapes escaped again for COPY', () => {
    expect(columnFormatter('jsonb')({ a: 'line\nbreak', b: [1] })).toBe('{"a":"line\\\\nbreak","b":[1]}');
  });

  it('writes one tab-separated field per column of the table', () => {
    const table = CORE_TABLES['supervision-record'];
    const line = copyColumns(table, { record_id: 'R1', related_case_ids: ['C1'], party: { uscc: 'U1' }, summary: 'tab\there' });
    const fields = line.split('\t');
    expect(fields).toHaveLength(table.columns.length);
    expect(fields[table.columns.findIndex(([c]) => c === 'record_id')]).toBe('R1');
    expect(fields[table.columns.findIndex(([c]) => c === 'party_uscc')]).toBe('U1');
    expect(fields[table.columns.findIndex(([c]) => c === 'related_case_ids')]).toBe('{"C1"}');
    expect(line).toContain('tab\\there');
    expect(fields[table.columns.findIndex(([c]) => c === 'doc_no')]).toBe('\\N');
  });
});
