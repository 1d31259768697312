import {
  hashIdNumber,
  maskIdNumber,
  normaliseIdNumber,
  parseIdNumber,
} from '../../../pipelines/normalise/parsers';

const TODAY = '2025-06-04';
const SECRET = 'test-secret';

describe('normaliseIdNumber', () => {
  it.each([
    ['11010519491231002X', '11010519491231002X'], // the standard's example
    ['11010519491231002x', '11010519491231002X'],
    ['  11010519491231002X  ', '11010519491231002X'],
    ['１１０１０５１９４９１２３１００２Ｘ', '11010519491231002X'],
    ['１１０１０５１９４９１２３１００２ｘ', '11010519491231002X'],
    ['110105 19491231 002X', '11010519491231002X'],
    ['110105491231002', '11010519491231002X'], // old 15-digit form
    ['622102690522001', '62210219690522001X'], // 15-digit with a retired 酒泉地区 code
    ['620902198503151235', '620902198503151235'],
    ['622102197201010019', '622102197201010019'],
    ['620982200002290044', '620982200002290044'], // born 29 February 2000, a leap day
    ['620922194910010031', '620922194910010031'],
    ['62098119000101001X', '62098119000101001X'], // 1 January 1900, the earliest allowed
    ['620923201005170026', '620923201005170026'],
    ['440304199912314569', '440304199912314569'],
    ['620902202506040011', '620902202506040011'], // born on "today"
  ])('normalises %j to %s', (input, expected) => {
    expect(normaliseIdNumber(input, TODAY)).toEqual({ ok: true, value: expected, warnings: [] });
  });

  it.each([
    ['', /empty/],
    ['11010519491231002', /18 or 15 characters, got 17/],
    ['1101051949123100', /18 or 15 characters, got 16/],
    ['11010519491231002XX', /18 or 15 characters, got 19/],
    ['110105194912310023', /check character/], // wrong check character
    ['620902198503151234', /check character/],
    ['1101051949123100X2', /17 digits followed by a digit or X/],
    ['11010519491231002Y', /17 digits followed by a digit or X/],
    ['11010519491331002X', /no such month/],
    ['11010519490230002X', /no such day/],
    ['62098220010229004X', /no such day/], // 2001 is not a leap year
    ['11010518991231002X', /before 1900/],
    ['620902202506050017', /in the future/],
    ['11010549123100X', /15-character ID number must be all digits/],
    ['110105491331002', /no such month/],
  ])('rejects %j with BAD_ID_NUMBER because %s', (input, reason) => {
    const r = normaliseIdNumber(input, TODAY);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('BAD_ID_NUMBER');
      expect(r.message).toMatch(reason);
      // Personal data never reaches a message, not even the birth date inside the number.
      if (input.trim() !== '') expect(r.message).not.toContain(input.trim());
      expect(r.message).not.toMatch(/\d{6,}/);
    }
  });

  it('accepts a birth date after a given today only when no today is given, because the default only enforces the calendar', () => {
    expect(normaliseIdNumber('620902202506050017').ok).toBe(true);
    expect(normaliseIdNumber('620902202506050017', '2025-06-05').ok).toBe(true);
  });

  it('refuses a malformed today, because that is a caller bug', () => {
    expect(() => normaliseIdNumber('11010519491231002X', '2025/6/4')).toThrow(TypeError);
  });
});

describe('hashIdNumber and maskIdNumber', () => {
  it('hashes with HMAC-SHA256 so the same person matches across sources', () => {
    const hash = hashIdNumber('11010519491231002X', SECRET);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashIdNumber('11010519491231002X', SECRET)).toBe(hash);
    expect(hashIdNumber('11010519491231002X', 'other-secret')).not.toBe(hash);
    expect(hashIdNumber('620902198503151235', SECRET)).not.toBe(hash);
  });

  it('refuses an empty secret, because an unkeyed hash of an ID number is reversible', () => {
    expect(() => hashIdNumber('11010519491231002X', '')).toThrow(TypeError);
  });

  it.each([
    ['11010519491231002X', '110105********002X'],
    ['620902198503151235', '620902********1235'],
    ['110105491231002', '110105*****1002'],
  ])('masks %s as %s', (id, masked) => {
    expect(maskIdNumber(id)).toBe(masked);
  });
});

describe('parseIdNumber', () => {
  it('returns the hash and masked form of the 18-character number, whichever form was written', () => {
    const fifteen = parseIdNumber('110105491231002', SECRET, TODAY);
    const eighteen = parseIdNumber('11010519491231002x', SECRET, TODAY);
    expect(eighteen).toEqual({
      ok: true,
      value: { hash: hashIdNumber('11010519491231002X', SECRET), masked: '110105********002X' },
      warnings: [],
    });
    expect(fifteen).toEqual(eighteen);
  });

  it('passes a failure through without any trace of the number', () => {
    const r = parseIdNumber('110105194912310023', SECRET, TODAY);
    expect(r).toEqual({ ok: false, code: 'BAD_ID_NUMBER', message: expect.not.stringContaining('1101051949') });
  });
});
