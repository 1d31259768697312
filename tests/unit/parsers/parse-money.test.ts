import { parseMoney } from '../../../pipelines/normalise/parsers';

describe('parseMoney', () => {
  // [as written, options, yuan, warnings]
  it.each<[string | number, { unit?: '元' | '万元' }, string, string[]]>([
    ['50000', {}, '50000.00', []],
    ['50000元', {}, '50000.00', []],
    ['50000.00元', {}, '50000.00', []],
    ['5万元', {}, '50000.00', []],
    ['5万', {}, '50000.00', []],
    ['5 万元', {}, '50000.00', []],
    ['５万元', {}, '50000.00', []],
    ['0.5万元', {}, '5000.00', []],
    ['12.5万元', {}, '125000.00', []],
    ['1.2亿元', {}, '120000000.00', []],
    ['1.2亿', {}, '120000000.00', []],
    ['1亿2000万元', {}, '120000000.00', []],
    ['1.23456万元', {}, '12345.60', []], // five decimals in 万元 are still exact in yuan
    ['¥1,234.50', {}, '1234.50', []],
    ['￥1,234.50', {}, '1234.50', []],
    ['¥ 1,234.5', {}, '1234.50', []],
    ['RMB 5,000', {}, '5000.00', []],
    ['人民币50000元', {}, '50000.00', []],
    ['1,234,567.89', {}, '1234567.89', []],
    ['1，234，567.89元', {}, '1234567.89', []], // full-width commas
    ['１２３４．５６元', {}, '1234.56', []],
    ['0元', {}, '0.00', []],
    ['伍万元', {}, '50000.00', ['AMOUNT_FROM_TEXT']],
    ['伍万元整', {}, '50000.00', ['AMOUNT_FROM_TEXT']],
    ['人民币伍万元整', {}, '50000.00', ['AMOUNT_FROM_TEXT']],
    ['五万', {}, '50000.00', ['AMOUNT_FROM_TEXT']],
    ['两万', {}, '20000.00', ['AMOUNT_FROM_TEXT']],
    ['一百二十万元', {}, '1200000.00', ['AMOUNT_FROM_TEXT']],
    ['壹仟贰佰元整', {}, '1200.00', ['AMOUNT_FROM_TEXT']],
    ['壹仟贰佰圆整', {}, '1200.00', ['AMOUNT_FROM_TEXT']],
    ['叁拾万零伍佰元', {}, '300500.00', ['AMOUNT_FROM_TEXT']],
    ['壹拾万元整', {}, '100000.00', ['AMOUNT_FROM_TEXT']],
    ['十万元', {}, '100000.00', ['AMOUNT_FROM_TEXT']],
    ['一万二', {}, '12000.00', ['AMOUNT_FROM_TEXT']], // spoken shorthand for 一万二千
    ['一万零二元', {}, '10002.00', ['AMOUNT_FROM_TEXT']],
    ['5万3千元', {}, '53000.00', ['AMOUNT_FROM_TEXT']],
    ['一点五万元', {}, '15000.00', ['AMOUNT_FROM_TEXT']],
    ['伍佰元伍角陆分', {}, '500.56', ['AMOUNT_FROM_TEXT']],
    ['5元5角', {}, '5.50', []],
    ['壹万元零伍分', {}, '10000.05', ['AMOUNT_FROM_TEXT']],
    ['10.005元', {}, '10.01', ['AMOUNT_ROUNDED']], // half up
    ['10.004元', {}, '10.00', ['AMOUNT_ROUNDED']],
    ['1.2345678万元', {}, '12345.68', ['AMOUNT_ROUNDED']],
    ['9999999999999999.99', {}, '9999999999999999.99', []], // the largest decimal(18,2)
    [50000, {}, '50000.00', []],
    [1234.5, {}, '1234.50', []],
    [0.1 + 0.2, {}, '0.30', ['AMOUNT_ROUNDED']], // a float from a JSON source, read as its decimal text
    ['5', { unit: '万元' }, '50000.00', []],
    [0.5, { unit: '万元' }, '5000.00', []],
    ['伍', { unit: '万元' }, '50000.00', ['AMOUNT_FROM_TEXT']],
    ['5万元', { unit: '万元' }, '50000.00', []], // a unit in the text wins
    ['50000元', { unit: '万元' }, '50000.00', []],
    ['50000', { unit: '元' }, '50000.00', []],
  ])('reads %j with options %j as %s yuan (warnings %j)', (input, options, yuan, warnings) => {
    expect(parseMoney(input, options)).toEqual({ ok: true, value: { yuan }, warnings });
  });

  it.each<[string | number, RegExp]>([
    ['', /empty/],
    ['  ', /empty/],
    ['元', /no number before 元/],
    ['abc元', /unexpected character "a"/],
    ['五万多元', /approximate \("多"\)/],
    ['约5万', /approximate \("约"\)/],
    ['5万元左右', /approximate/],
    ['10万元以上', /approximate/],
    ['-500', /negative/],
    ['¥-500', /negative/],
    ['负500元', /negative/],
    [-500, /negative/],
    ['1,2345元', /two numbers in a row/], // a separator in the wrong place
    ['1.2.3元', /misplaced "\."/],
    ['5万5万', /万 written twice/],
    ['二百三百元', /units out of order/],
    ['万元', /"万" without a number/],
    ['5万3', /ambiguous/], // 50003 or 53000?
    ['5角', /unexpected character "角"/], // 角 and 分 only after 元
    ['5元5', /not 角 or 分/],
    ['伍佰元拾角', /not one digit/],
    ['10000000000000000', /more than 16 digits/], // beyond decimal(18,2)
    ['10000亿亿', /more than 16 digits/],
    [1e21, /too large or too small/],
    [Number.NaN, /not a finite number/],
    [Number.POSITIVE_INFINITY, /not a finite number/],
  ])('rejects %j with BAD_AMOUNT saying %s', (input, reason) => {
    const r = parseMoney(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('BAD_AMOUNT');
      expect(r.message).toMatch(reason);
    }
  });
});
