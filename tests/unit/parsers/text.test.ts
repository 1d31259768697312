import {
  chineseNumeralToBigInt,
  divideDecimal,
  formatDecimal,
  parseDecimalText,
  readNumeral,
  roundDecimal,
  toHalfWidth,
  type Decimal,
} from '../../../pipelines/normalise/parsers';

const dec = (s: string): Decimal => parseDecimalText(s) as Decimal;

describe('toHalfWidth', () => {
  it.each([
    ['９１３５０１００Ｍ', '91350100M'],
    ['２０２５年６月４日', '2025年6月4日'],
    ['１，２３４．５０', '1,234.50'],
    ['（０９３７）', '(0937)'],
    ['ａｂｃ\u3000ＸＹＺ', 'abc XYZ'],
    ['￥〔2025〕', '￥〔2025〕'], // outside the full-width ASCII block: left alone
  ])('folds %j to %j', (input, expected) => {
    expect(toHalfWidth(input)).toBe(expected);
  });
});

describe('readNumeral', () => {
  it.each([
    ['0', '0', false],
    ['1,234,567.89', '1234567.89', false],
    ['5万', '50000', false],
    ['1.2亿', '120000000', false],
    ['一', '1', true],
    ['十', '10', true],
    ['十二', '12', true],
    ['二十', '20', true],
    ['一百零五', '105', true],
    ['一百一十', '110', true],
    ['三千五', '3500', true],
    ['一万二', '12000', true],
    ['一万零二', '10002', true],
    ['叁拾万零伍佰', '300500', true],
    ['一亿二千万', '120000000', true],
    ['一万亿', '1000000000000', true],
    ['二〇二五', '2025', true],
    ['一九八〇', '1980', true],
    ['零', '0', true],
    ['零点五', '0.5', true],
    ['十点五', '10.5', true],
    ['一百二十点五万', '1205000', true],
  ])('reads %j as %s (from text: %s)', (text, value, fromText) => {
    const r = readNumeral(text);
    expect(r.ok && { value: formatDecimal(r.value), fromText: r.fromText }).toEqual({ value, fromText });
  });

  it.each([[''], ['万'], ['abc'], ['一二三万四'], ['百百'], ['1.2.3'], ['5万3'], ['点五']])('refuses %j', (text) => {
    expect(readNumeral(text).ok).toBe(false);
  });
});

describe('chineseNumeralToBigInt', () => {
  it.each<[string, bigint | null]>([
    ['十四', 14n],
    ['三十一', 31n],
    ['二〇二五', 2025n],
    ['十二', 12n],
    ['一点五', null],
    ['年', null],
  ])('reads %j as %p', (text, value) => {
    expect(chineseNumeralToBigInt(text)).toBe(value);
  });
});

describe('decimal helpers', () => {
  it.each([
    ['10.005', 2, '10.01', true],
    ['10.004', 2, '10.00', true],
    ['10.5', 2, '10.50', false],
    ['0.125', 2, '0.13', true],
    ['7', 2, '7.00', false],
  ])('rounds %s to %i places as %s (rounded: %s)', (text, scale, expected, rounded) => {
    const r = roundDecimal(dec(text), scale);
    expect([formatDecimal(r.value), r.rounded]).toEqual([expected, rounded]);
  });

  it('divides exactly and rounds once, half up', () => {
    expect(formatDecimal(divideDecimal(dec('3000'), dec('666.67'), 4))).toBe('4.5000');
    expect(formatDecimal(divideDecimal(dec('1'), dec('3'), 4))).toBe('0.3333');
    expect(formatDecimal(divideDecimal(dec('2'), dec('3'), 4))).toBe('0.6667');
  });
});
