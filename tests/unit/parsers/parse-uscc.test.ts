import { parseUscc, usccCheckChar } from '../../../pipelines/normalise/parsers';

describe('parseUscc', () => {
  // [input as written, normalised code, organisation class, warnings]
  it.each([
    ['91350100M000100Y43', '91350100M000100Y43', 'ORGANISATION', []], // the standard's worked example
    ['  91350100m000100y43 ', '91350100M000100Y43', 'ORGANISATION', []],
    ['９１３５０１００Ｍ０００１００Ｙ４３', '91350100M000100Y43', 'ORGANISATION', []],
    ['9135 0100 M000 100Y 43', '91350100M000100Y43', 'ORGANISATION', []],
    ['91350100M000100Y43\t', '91350100M000100Y43', 'ORGANISATION', []],
    ['\u300091350100M000100Y43\u3000', '91350100M000100Y43', 'ORGANISATION', []],
    ['914403001922038216', '914403001922038216', 'ORGANISATION', []],
    ['9144030071526726XG', '9144030071526726XG', 'ORGANISATION', []],
    ['9144030071526726xg', '9144030071526726XG', 'ORGANISATION', []],
    ['91330100799655058B', '91330100799655058B', 'ORGANISATION', []],
    ['91110000710925462X', '91110000710925462X', 'ORGANISATION', []],
    ['92620902MA73BX4U0U', '92620902MA73BX4U0U', 'SOLE_PROPRIETOR', []], // 个体工商户 in 肃州区
    ['93620921MA72QH2N17', '93620921MA72QH2N17', 'ORGANISATION', []], // farmers' cooperative
    ['12620900013950621H', '12620900013950621H', 'ORGANISATION', []], // public institution
    ['51620900MJY123456A', '51620900MJY123456A', 'ORGANISATION', []], // social organisation
    ['Y1620982MC1234567L', 'Y1620982MC1234567L', 'ORGANISATION', []], // other authority
    ['91620900MA71X8K2XM', '91620900MA71X8K2XM', 'ORGANISATION', []],
    ['91350100M000100Y44', '91350100M000100Y44', 'ORGANISATION', ['USCC_CHECKSUM']], // pilot code, kept
    ['92620902MA73BX4U0P', '92620902MA73BX4U0P', 'SOLE_PROPRIETOR', ['USCC_CHECKSUM']],
  ])('accepts %j as %s (%s, warnings %j)', (input, uscc, orgClass, warnings) => {
    expect(parseUscc(input)).toEqual({ ok: true, value: { uscc, orgClass }, warnings });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['91350100M000100Y4', /18 characters, got 17/],
    ['91350100M000100Y433', /18 characters, got 19/],
    ['91350100O000100Y43', /character 9 "O"/], // letter O typed for zero
    ['9135010OM000100Y43', /character 8 "O"/],
    ['91350100I000100Y43', /character 9 "I"/],
    ['91350100M000100S43', /character 16 "S"/],
    ['91350100-M000100Y4', /character 9 "-"/],
    ['913501007000100Y4Z', /character 18 "Z"/],
    ['M00010OY-4', /18 characters, got 10/], // an old organisation code is not a credit code
    ['统一社会信用代码91350100M000', /18 characters/],
  ])('rejects %j with BAD_USCC saying %s', (input, message) => {
    const r = parseUscc(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('BAD_USCC');
      expect(r.message).toMatch(message);
    }
  });
});

describe('usccCheckChar', () => {
  it.each([
    ['91350100M000100Y4', '3'],
    ['91440300192203821', '6'],
    ['9144030071526726X', 'G'],
    ['91110000710925462', 'X'],
    ['92620902MA73BX4U0', 'U'],
    ['12620900013950621', 'H'],
  ])('computes the check character of %s as %s', (first17, check) => {
    expect(usccCheckChar(first17)).toBe(check);
  });

  it('refuses input that is not 17 alphabet characters, because that is a caller bug', () => {
    expect(() => usccCheckChar('91350100M000100Y')).toThrow(TypeError);
    expect(() => usccCheckChar('91350100M000100YO')).toThrow(TypeError);
  });
});
