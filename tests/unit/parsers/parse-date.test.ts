import { parseDate, parseTimestamp } from '../../../pipelines/normalise/parsers';

// Shanghai is UTC+8 all year, so local 2025-06-04 14:30 is 06:30 UTC.
const JUNE4_1430 = Date.UTC(2025, 5, 4, 6, 30);
const JUNE4_MIDNIGHT = Date.UTC(2025, 5, 3, 16, 0);
const JUNE4_DAYS = 20243; // 2025-06-04 as an Avro date

describe('parseTimestamp', () => {
  it.each<[string | number, number]>([
    ['2025年6月4日', JUNE4_MIDNIGHT],
    ['2025年06月04日', JUNE4_MIDNIGHT],
    ['2025年6月4号', JUNE4_MIDNIGHT],
    ['2025年06月04日 14时30分', JUNE4_1430],
    ['2025年6月4日14时30分00秒', JUNE4_1430],
    ['2025年6月4日 14点30分', JUNE4_1430],
    ['2025年6月4日下午两点半', JUNE4_1430],
    ['2025-6-4', JUNE4_MIDNIGHT],
    ['2025/06/04', JUNE4_MIDNIGHT],
    ['2025.6.4', JUNE4_MIDNIGHT],
    ['20250604', JUNE4_MIDNIGHT],
    ['202506041430', JUNE4_1430],
    ['20250604143000', JUNE4_1430],
    ['2025-06-04 14:30', JUNE4_1430],
    ['2025-06-04 14:30:00', JUNE4_1430],
    ['2025-06-04 14:30:00.0', JUNE4_1430], // Oracle exports
    ['2025-06-04 14:30:00.250', JUNE4_1430 + 250],
    ['2025-06-04T14:30:00', JUNE4_1430],
    ['2025-06-04T06:30:00Z', JUNE4_1430],
    ['2025-06-04T14:30:00+08:00', JUNE4_1430],
    ['2025-06-04T14:30:00+0800', JUNE4_1430],
    ['2025-06-04T08:30:00+02:00', JUNE4_1430],
    ['2025/6/4 下午2:30', JUNE4_1430],
    ['2025/6/4 2:30 PM', JUNE4_1430],
    ['2025/6/4 上午12:30', Date.UTC(2025, 5, 3, 16, 30)], // half past midnight
    ['2025/6/4 中午12:30', Date.UTC(2025, 5, 4, 4, 30)],
    ['2025-06-04 14：30', JUNE4_1430], // full-width colon from an IME
    ['２０２５年６月４日', JUNE4_MIDNIGHT],
    ['２０２５－０６－０４　１４：３０', JUNE4_1430],
    ['二〇二五年六月四日', JUNE4_MIDNIGHT],
    ['二零二五年六月四日', JUNE4_MIDNIGHT],
    ['二〇二五年十二月三十一日', Date.UTC(2025, 11, 30, 16, 0)],
    ['  2025-06-04  ', JUNE4_MIDNIGHT],
    ['45812', JUNE4_MIDNIGHT], // Excel serial as text
    ['45812.6041666667', JUNE4_1430],
    [45812, JUNE4_MIDNIGHT],
    [45812.604166666664, JUNE4_1430],
    [20250604, JUNE4_MIDNIGHT],
    [1749018600000, JUNE4_1430], // epoch milliseconds
    ['1749018600000', JUNE4_1430],
    ['2024-02-29', Date.UTC(2024, 1, 28, 16, 0)],
    ['1900-01-01', Date.UTC(1899, 11, 31, 16, 0)],
  ])('reads %j as the instant %d', (input, millis) => {
    expect(parseTimestamp(input)).toEqual({ ok: true, value: { millis, iso: new Date(millis).toISOString() }, warnings: [] });
  });

  it.each<[string | number, RegExp]>([
    ['', /empty/],
    ['   ', /empty/],
    ['abc', /not a recognised date format/],
    ['2025年', /year alone/],
    ['2025', /year alone/], // not Excel serial 2025 (1905-07-17)
    ['2025年6月', /day of the month is missing/],
    ['2025-06', /day of the month is missing/],
    ['2025-02-30', /30 February does not exist/],
    ['2025-02-29', /29 February does not exist in 2025/],
    ['2025-13-01', /month 13 does not exist/],
    ['2025-04-31', /31 April does not exist/],
    ['20250230', /30 February does not exist/],
    ['2025年0月1日', /month 0 does not exist/],
    ['1899-12-31', /year 1899 is outside/],
    ['2205-06-04', /year 2205 is outside/], // a typo for 2025
    ['2025-06-04 25:00', /not a time of day/],
    ['2025-06-04 14:60', /not a time of day/],
    ['2025/6/4 下午14:30', /cannot follow 下午/],
    ['2025-06-04 下班后', /not recognised/],
    ['2025-6-4/2025-6-5', /not recognised/],
    ['06/04/2025', /not a recognised date format/], // day-month order is ambiguous
    [60, /29 February 1900/], // Excel's phantom leap day
    [-1, /not a date/],
    [Number.NaN, /not a date/],
    [123456789, /neither an Excel serial/],
  ])('rejects %j with BAD_DATE saying %s', (input, reason) => {
    const r = parseTimestamp(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('BAD_DATE');
      expect(r.message).toMatch(reason);
    }
  });
});

describe('parseDate', () => {
  it.each<[string | number, number, string]>([
    ['2025年6月4日', JUNE4_DAYS, '2025-06-04'],
    ['2025-06-04 23:59:59', JUNE4_DAYS, '2025-06-04'],
    ['2025-06-04T16:30:00Z', JUNE4_DAYS + 1, '2025-06-05'], // already the 5th in Shanghai
    ['2025-06-04T15:59:59Z', JUNE4_DAYS, '2025-06-04'],
    ['1970-01-01', 0, '1970-01-01'],
    ['1969-12-31', -1, '1969-12-31'],
    [45812.99, JUNE4_DAYS, '2025-06-04'],
    [59, -25509, '1900-02-28'], // before Excel's phantom 29 February
    [61, -25508, '1900-03-01'], // after it
    [1, -25567, '1900-01-01'],
  ])('reads %j as day %d (%s)', (input, days, iso) => {
    expect(parseDate(input)).toEqual({ ok: true, value: { days, iso }, warnings: [] });
  });

  it('fails the same way parseTimestamp does', () => {
    expect(parseDate('2025-02-30')).toEqual({ ok: false, code: 'BAD_DATE', message: '30 February does not exist' });
  });
});
