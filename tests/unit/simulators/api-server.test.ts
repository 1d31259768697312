import { parseTimestamp, shanghaiTime } from '../../../connectors/simulators/api-server';

describe('simulator timestamps', () => {
  const at = Date.UTC(2025, 2, 1, 0, 30, 0); // 2025-03-01 08:30:00 in Shanghai

  it.each([
    ['2025-03-01 08:30:00', at],
    ['2025-03-01T08:30:00', at],
    ['2025-03-01T08:30:00+08:00', at],
    ['2025-03-01T00:30:00Z', at],
    ['2025-03-01T00:30:00.000Z', at],
    ['2025-02-28T19:30:00-0500', at],
    ['2025-03-01', at - 8.5 * 3_600_000],
  ])('reads %s as Shanghai time unless it names an offset', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each(['yesterday', '2025-02-30 00:00:00', '2025-03-01 24:00:00', '2025/03/01', ''])('rejects %p', (text) => {
    expect(parseTimestamp(text)).toBeNull();
  });

  it('writes epoch seconds as Shanghai wall time', () => {
    expect(shanghaiTime(at / 1000)).toBe('2025-03-01 08:30:00');
  });
});
