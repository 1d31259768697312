import { BinaryRows, isoMicros, micros } from '../../../pipelines/warehouse/copy-binary';
import { CORE_TABLES } from '../../../pipelines/warehouse/core-rows';
import { STAGED_COLUMNS, stagedVersion, stagingChunks } from '../../../pipelines/warehouse/upsert-batch';
import { readBinaryCopy, timestamptzText } from '../../support/binary-copy';

describe('binary COPY rows', () => {
  it('writes each type as PostgreSQL reads it: int4, text, jsonb (version 1), timestamptz and NULL', () => {
    const rows = new BinaryRows(8); // smaller than one row: the buffer grows
    rows.header();
    rows.row(6);
    rows.int32(-7);
    rows.text('甘肃省酒泉市 "a"\tb\\c\n');
    rows.jsonb('{"名":"值"}');
    rows.jsonb(Buffer.from('{"k":[1,2]}'));
    rows.timestamptz(isoMicros('2026-11-27T08:00:00.123456Z'));
    rows.null();
    rows.trailer();
    const [row, ...rest] = readBinaryCopy(rows.take());
    expect(rest).toEqual([]);
    expect(row[0]!.readInt32BE(0)).toBe(-7);
    expect(row[1]!.toString('utf8')).toBe('甘肃省酒泉市 "a"\tb\\c\n');
    expect(row[2]![0]).toBe(1);
    expect(row[2]!.subarray(1).toString('utf8')).toBe('{"名":"值"}');
    expect(row[3]!.subarray(1).toString('utf8')).toBe('{"k":[1,2]}');
    expect(timestamptzText(row[4]!)).toBe('2026-11-27T08:00:00.123Z+456us');
    expect(row[5]).toBeNull();
  });

  it('hands out what it wrote and starts again empty', () => {
    const rows = new BinaryRows(64);
    rows.row(1);
    rows.int32(1);
    expect(rows.take()).toHaveLength(10);
    expect(rows.take()).toHaveLength(0);
  });
});

describe('isoMicros', () => {
  it('counts microseconds from 2000-01-01 UTC, PostgreSQL’s epoch, on either side of it', () => {
    expect(isoMicros('2000-01-01T00:00:00Z')).toBe(0);
    expect(isoMicros('2000-01-01T00:00:00.000001Z')).toBe(1);
    expect(isoMicros('1999-12-31T23:59:59.9995Z')).toBe(-500);
    expect(isoMicros('1969-12-31T23:59:59.999Z')).toBe(micros(-1));
    expect(isoMicros('2026-11-27T16:00:00.000+08:00')).toBe(isoMicros('2026-11-27T08:00:00.000Z'));
    expect(isoMicros('2026-11-27T08:00:00.0000005Z')).toBe((isoMicros('2026-11-27T08:00:00Z') as number) + 1);
  });

  it('gives the same instant as Date for millisecond times over the whole range the warehouse meets, in the canonical form and others', () => {
    for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2200, 0, 1); ms += 777_777_777 + 13) {
      const iso = new Date(ms).toISOString();
      expect(isoMicros(iso)).toBe((ms - Date.UTC(2000, 0, 1)) * 1000);
      expect(isoMicros(iso.replace('Z', '+00:00'))).toBe((ms - Date.UTC(2000, 0, 1)) * 1000);
    }
  });

  it('is exact far from 2000 too, where a double no longer holds the microseconds (a bigint then)', () => {
    expect(isoMicros('9999-12-31T23:59:59.999Z')).toBe(BigInt(Date.UTC(9999, 11, 31, 23, 59, 59, 999) - Date.UTC(2000, 0, 1)) * 1000n);
    expect(isoMicros('2285-01-01T00:00:00.000001Z')).toBe((Date.UTC(2285, 0, 1) - Date.UTC(2000, 0, 1)) * 1000 + 1);
    const rows = new BinaryRows(64);
    rows.row(3);
    rows.timestamptz(isoMicros('9999-12-31T23:59:59.999Z'));
    rows.timestamptz(isoMicros('0100-01-01T00:00:00.000001Z'));
    rows.timestamptz(isoMicros('1999-12-31T23:59:59.999999Z'));
    expect(readBinaryCopy(Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1'), rows.take(), Buffer.from([0xff, 0xff])]))[0].map((f) => timestamptzText(f!))).toEqual([
      '9999-12-31T23:59:59.999Z',
      '0100-01-01T00:00:00.000Z+1us',
      '1999-12-31T23:59:59.999Z+999us',
    ]);
  });

  it('refuses a text that is not a time, or has no offset', () => {
    expect(() => isoMicros('yesterday')).toThrow(RangeError);
    expect(() => isoMicros('2026-11-27T08:00:00')).toThrow(/with an offset/);
    // Days a month does not have, which Date.parse would roll over into the next month.
    for (const text of ['2026-02-29T00:00:00.000Z', '2026-02-30T00:00:00Z', '2026-04-31T00:00:00.000+08:00']) expect(() => isoMicros(text)).toThrow(RangeError);
    expect(isoMicros('2024-02-29T00:00:00.000Z')).toBe(micros(Date.UTC(2024, 1, 29)));
  });
});

describe('the staging COPY data', () => {
  const table = CORE_TABLES['hotline-ticket'];
  const col = (name: (typeof STAGED_COLUMNS)[number]) => STAGED_COLUMNS.indexOf(name);

  it('holds, per version, its id, source version, hash, recorded time, whether it is newest, and JSON, in the staging table’s column order', () => {
    const records = Array.from({ length: 1203 }, (_, i) => ({ ticket_id: `T${i}`, source_updated_at: i % 2 ? '2026-01-01T00:00:00.000Z' : null, text: '诉求\t"引号"' }));
    const versions = records.map((record) => stagedVersion(table, record));
    const chunks = [...stagingChunks(versions, records.map((_, i) => (i === 5 ? null : micros(Date.UTC(2026, 0, 2)))))];
    // About 60 KB a chunk: many here, none much larger.
    expect(chunks.length).toBeGreaterThan(2);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(64 * 1024);
    const rows = readBinaryCopy(Buffer.concat(chunks));
    expect(rows).toHaveLength(1203);
    for (const i of [0, 1, 5, 500, 1202]) {
      const row = rows[i];
      expect(row).toHaveLength(STAGED_COLUMNS.length);
      expect(row[col('id')]!.toString()).toBe(`T${i}`);
      expect(row[col('source_updated_at')] && timestamptzText(row[col('source_updated_at')]!)).toBe(i % 2 ? '2026-01-01T00:00:00.000Z' : null);
      expect(row[col('content_hash')]!.toString()).toBe(versions[i].contentHash);
      expect(row[col('recorded_at')] && timestamptzText(row[col('recorded_at')]!)).toBe(i === 5 ? null : '2026-01-02T00:00:00.000Z');
      expect([...row[col('newest')]!]).toEqual([1]);
      expect(row[col('record')]!.subarray(1).toString()).toBe(versions[i].json);
    }
  });

  it('stages each distinct version once, at its first copy, and marks per id the newest (a tie goes to the version seen last)', () => {
    const v = (id: string, at: string | null, note: string, offset: number) => ({ ticket_id: id, source_updated_at: at, note, lineage: { raw_offset: offset } });
    const log = [
      v('A', '2026-01-01T00:00:00.000Z', 'a1', 0),
      v('A', '2026-02-01T00:00:00.000Z', 'a2', 1),
      v('A', '2026-01-01T00:00:00.000Z', 'a1', 2), // a re-send of an older version: staged once, still not newest
      v('B', '2026-03-01T00:00:00.000Z', 'x', 3),
      v('B', '2026-03-01T08:00:00.000+08:00', 'y', 4), // the same instant, other content
      v('B', '2026-03-01T00:00:00.000Z', 'x', 5), // x seen again after y: x is newest
      v('C', '2026-03-01T00:00:00.000Z', 'c1', 6),
      v('C', null, 'c2', 7), // no source version: PostgreSQL sorts NULL first in descending order
    ];
    const rows = readBinaryCopy(Buffer.concat([...stagingChunks(log.map((record) => stagedVersion(table, record)))]));
    const summary = rows.map((row) => {
      const record = JSON.parse(row[col('record')]!.subarray(1).toString()) as { note: string; lineage: { raw_offset: number } };
      return `${row[col('id')]!.toString()} ${record.note}@${record.lineage.raw_offset}${row[col('newest')]![0] ? ' newest' : ''}`;
    });
    expect(summary).toEqual(['A a1@0', 'A a2@1 newest', 'B x@3 newest', 'B y@4', 'C c1@6', 'C c2@7 newest']);
  });
});
