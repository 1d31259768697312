import { parseArea, parseVolume, parseWeight } from '../../../pipelines/normalise/parsers';

describe('parseArea', () => {
  // [as written, options, 亩, warnings]
  it.each<[string | number, { unit?: string }, number, string[]]>([
    ['5亩', {}, 5, []],
    ['5.2亩', {}, 5.2, []],
    ['5.2 亩', {}, 5.2, []],
    ['１２．５亩', {}, 12.5, []],
    ['伍亩', {}, 5, ['QUANTITY_FROM_TEXT']],
    ['十二亩', {}, 12, ['QUANTITY_FROM_TEXT']],
    ['二十亩', {}, 20, ['QUANTITY_FROM_TEXT']],
    ['1.2万亩', {}, 12000, []],
    ['0.5公顷', {}, 7.5, []],
    ['2公顷', {}, 30, []],
    ['2hm²', {}, 30, []],
    ['2 HM2', {}, 30, []],
    ['666.67平方米', {}, 1, []],
    ['6666.7平方米', {}, 10, []],
    ['3000平方米', {}, 4.5, []], // 4.49997… rounded to four decimals
    ['3000㎡', {}, 4.5, []],
    ['3000m²', {}, 4.5, []],
    ['3000 M2', {}, 4.5, []],
    ['1,200平米', {}, 1.8, []],
    ['50平方', {}, 0.075, []], // spoken short form of 平方米
    ['100平方米', {}, 0.15, []],
    ['1平方米', {}, 0.0015, []],
    ['2平方公里', {}, 3000, []],
    ['0.01平方千米', {}, 15, []],
    ['12.5', { unit: '亩' }, 12.5, []],
    [12.5, { unit: '亩' }, 12.5, []],
    ['3000', { unit: '平方米' }, 4.5, []],
    ['3', { unit: '公顷' }, 45, []],
    ['5亩', { unit: '平方米' }, 5, []], // a unit in the text wins
  ])('reads %j with options %j as %d 亩', (input, options, value, warnings) => {
    expect(parseArea(input, options)).toEqual({ ok: true, value: { value, unit: 'mu' }, warnings });
  });

  it.each<[string | number, RegExp]>([
    ['', /empty/],
    ['12.5', /no unit of mu/],
    [12.5, /no unit of mu/],
    ['约5亩', /approximate/],
    ['10亩以上', /approximate/],
    ['5亩多', /approximate/],
    ['-5亩', /negative/],
    ['五亩三分', /unit not recognised/], // 分 of a 亩 is not read: too easily confused with other units
    ['abc亩', /unexpected character "a"/],
    ['亩', /no number/],
    ['5公里', /unit not recognised/], // a length is not an area
    ['5亩地', /unit not recognised/],
    [Number.NaN, /not a plain finite number/],
  ])('rejects %j with BAD_QUANTITY saying %s', (input, reason) => {
    const r = parseArea(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('BAD_QUANTITY');
      expect(r.message).toMatch(reason);
    }
  });

  it('refuses an unknown declared unit, because that is a configuration bug', () => {
    expect(() => parseArea('5', { unit: '英亩' })).toThrow(TypeError);
  });
});

describe('parseVolume', () => {
  it.each<[string | number, { unit?: string }, number, string[]]>([
    ['5立方米', {}, 5, []],
    ['5.2方', {}, 5.2, []],
    ['20 m³', {}, 20, []],
    ['20m3', {}, 20, []],
    ['20 M3', {}, 20, []],
    ['二十立方米', {}, 20, ['QUANTITY_FROM_TEXT']],
    ['伍立方', {}, 5, ['QUANTITY_FROM_TEXT']],
    ['１２．３４５６７方', {}, 12.3457, []],
    ['8.5', { unit: '立方米' }, 8.5, []],
    [8.5, { unit: 'm³' }, 8.5, []],
  ])('reads %j with options %j as %d m³', (input, options, value, warnings) => {
    expect(parseVolume(input, options)).toEqual({ ok: true, value: { value, unit: 'm3' }, warnings });
  });

  it.each([['5吨'], ['200株'], ['约5方'], ['']])('rejects %j with BAD_QUANTITY', (input) => {
    expect(parseVolume(input)).toMatchObject({ ok: false, code: 'BAD_QUANTITY' });
  });
});

describe('parseWeight', () => {
  it.each<[string | number, { unit?: string }, number, string[]]>([
    ['3吨', {}, 3, []],
    ['3.5t', {}, 3.5, []],
    ['3.5 T', {}, 3.5, []],
    ['3500kg', {}, 3.5, []],
    ['3500 KG', {}, 3.5, []],
    ['3500千克', {}, 3.5, []],
    ['3500公斤', {}, 3.5, []],
    ['500斤', {}, 0.25, []],
    ['250克', {}, 0.00025, []],
    ['叁吨', {}, 3, ['QUANTITY_FROM_TEXT']],
    ['1.2万吨', {}, 12000, []],
    ['2,500kg', {}, 2.5, []],
    ['3', { unit: '吨' }, 3, []],
    [3000, { unit: 'kg' }, 3, []],
  ])('reads %j with options %j as %d t', (input, options, value, warnings) => {
    expect(parseWeight(input, options)).toEqual({ ok: true, value: { value, unit: 't' }, warnings });
  });

  it.each([['3'], ['3升'], ['3吨多'], ['-3t'], ['三吨左右']])('rejects %j with BAD_QUANTITY', (input) => {
    expect(parseWeight(input)).toMatchObject({ ok: false, code: 'BAD_QUANTITY' });
  });
});
