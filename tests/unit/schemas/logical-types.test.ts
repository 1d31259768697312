import { Type } from 'avsc';
import { ValidationError } from '../../../lib/errors';
import { formatDays, formatMillis, fromTwosComplement, LOGICAL_TYPES, toTwosComplement } from '../../../schemas/logical-types';

// A fresh options object per call: avsc keeps its registry of named types in the options it is given.
const opts = () => ({ logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true });
const decimal = (precision: number, scale: number) => Type.forSchema({ type: 'bytes', logicalType: 'decimal', precision, scale } as never, opts());
const money = decimal(18, 2);
const date = Type.forSchema({ type: 'int', logicalType: 'date' } as never, opts());
const timestamp = Type.forSchema({ type: 'long', logicalType: 'timestamp-millis' } as never, opts());

/** The bytes Avro writes for a `bytes` value: zig-zag varint length, then the bytes. */
function avroBytes(hex: string): Buffer {
  const length = hex.length / 2;
  expect(length).toBeLessThan(64); // one-byte varint
  return Buffer.concat([Buffer.from([length * 2]), Buffer.from(hex, 'hex')]);
}

describe('decimal(18,2) money', () => {
  it.each([
    '0.00',
    '0.01',
    '-0.01',
    '1.00',
    '-1.50',
    '1.27',
    '1.28',
    '-1.28',
    '-1.29',
    '327.67',
    '327.68',
    '50000.00',
    '123456789012.34',
    '9999999999999999.99',
    '-9999999999999999.99',
  ])('round-trips %s unchanged', (value) => {
    expect(money.fromBuffer(money.toBuffer(value))).toBe(value);
  });

  it.each([
    ['50000', '50000.00'],
    ['+3.5', '3.50'],
    ['1.500', '1.50'],
    ['007.10', '7.10'],
    ['-0', '0.00'],
    ['-0.00', '0.00'],
  ])('normalises %s to %s', (input, canonical) => {
    expect(money.fromBuffer(money.toBuffer(input))).toBe(canonical);
  });

  it('takes a bigint as a whole number of yuan', () => {
    expect(money.fromBuffer(money.toBuffer(5n))).toBe('5.00');
  });

  // Java: new BigDecimal(s).unscaledValue().toByteArray(), as Confluent's serializers write it.
  it.each([
    ['50000.00', '4c4b40'], // unscaled 5000000
    ['-1.50', 'ff6a'], // unscaled -150
    ['0.00', '00'],
    ['1.27', '7f'],
    ['1.28', '0080'],
    ['-1.28', '80'],
    ['-1.29', 'ff7f'],
    ['327.67', '7fff'],
    ['327.68', '008000'],
    ['9999999999999999.99', '0de0b6b3a763ffff'], // 10^18 - 1
    ['-9999999999999999.99', 'f21f494c589c0001'],
  ])('encodes %s as the two\'s-complement bytes 0x%s, as Java does', (value, hex) => {
    expect(money.toBuffer(value)).toEqual(avroBytes(hex));
  });

  it.each([
    ['1e5', /not a plain decimal string/],
    ['abc', /not a plain decimal string/],
    ['', /not a plain decimal string/],
    [' 1.00', /not a plain decimal string/],
    ['1,000.00', /not a plain decimal string/],
    ['1.', /not a plain decimal string/],
    ['.5', /not a plain decimal string/],
    ['NaN', /not a plain decimal string/],
    ['Infinity', /not a plain decimal string/],
    ['１２３', /not a plain decimal string/], // full-width digits are the parsers' job
    ['12345678901234567', /more than 18 significant digits/], // 17 integer digits
    ['10000000000000000.00', /more than 18 significant digits/],
    ['-12345678901234567.5', /more than 18 significant digits/],
    ['1.234', /more than 2 fraction digits/],
    [1.5, /binary floating-point/],
    [50000, /binary floating-point/],
    [null, /not a decimal string/],
    [{}, /not a decimal string/],
  ])('refuses %p with a clear error', (value, message) => {
    expect(() => money.toBuffer(value)).toThrow(message);
    expect(() => money.toBuffer(value)).toThrow(ValidationError);
    expect(money.isValid(value)).toBe(false);
  });

  it('names the type in its errors, with the BAD_DECIMAL code', () => {
    try {
      money.toBuffer('1e5');
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toMatchObject({ code: 'BAD_DECIMAL', field: 'decimal(18,2)' });
    }
  });

  it('orders values numerically, not by their bytes', () => {
    expect(money.compare('-1.50', '1.00')).toBe(-1);
    expect(money.compare('10.00', '9.99')).toBe(1);
    expect(money.compare('2.50', '2.5')).toBe(0);
  });

  it('exports precision and scale with the schema', () => {
    expect(money.schema({ exportAttrs: true })).toEqual({ type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 });
  });

  it('reads decimals of the same scale and a smaller precision (schema resolution)', () => {
    const wider = decimal(20, 2);
    expect(wider.fromBuffer(money.toBuffer('-9999999999999999.99'), wider.createResolver(money))).toBe('-9999999999999999.99');
    const narrower = decimal(4, 2);
    expect(() => narrower.fromBuffer(money.toBuffer('100.00'), narrower.createResolver(money))).toThrow(/more than 4 significant digits/);
  });

  it('refuses to resolve a decimal of another scale', () => {
    expect(() => decimal(18, 3).createResolver(money)).toThrow(/cannot read/);
  });

  it('reads plain bytes written by a writer without the logical type', () => {
    const bytes = Type.forSchema('bytes');
    expect(money.fromBuffer(bytes.toBuffer(Buffer.from('ff6a', 'hex')), money.createResolver(bytes))).toBe('-1.50');
  });
});

describe('decimal with other precisions and scales', () => {
  it.each([
    [5, 0, '99999', '99999'],
    [5, 0, '-7', '-7'],
    [4, 4, '0.1234', '0.1234'],
    [3, 1, '-0.5', '-0.5'],
    [38, 10, '1234567890123456789012345678.0123456789', '1234567890123456789012345678.0123456789'],
  ])('decimal(%i,%i) round-trips %s', (precision, scale, input, output) => {
    const type = decimal(precision, scale);
    expect(type.fromBuffer(type.toBuffer(input))).toBe(output);
  });

  it('refuses a value one digit too long for decimal(5,0)', () => {
    expect(() => decimal(5, 0).toBuffer('100000')).toThrow(/more than 5 significant digits/);
  });

  it('works on fixed, sign-extended to the fixed size', () => {
    const type = Type.forSchema({ type: 'fixed', name: 'Money', size: 4, logicalType: 'decimal', precision: 9, scale: 2 } as never, opts());
    expect(type.toBuffer('-1.50')).toEqual(Buffer.from('ffffff6a', 'hex'));
    expect(type.fromBuffer(type.toBuffer('50000.00'))).toBe('50000.00');
  });

  it.each([
    [{ type: 'bytes', logicalType: 'decimal' }, /precision must be a positive integer/],
    [{ type: 'bytes', logicalType: 'decimal', precision: 2, scale: 3 }, /scale must be an integer between 0 and the precision/],
    [{ type: 'string', logicalType: 'decimal', precision: 2 }, /must be bytes or fixed/],
  ])('refuses the invalid schema %j', (schema, message) => {
    expect(() => Type.forSchema(schema as never, opts())).toThrow(message);
  });
});

describe("two's-complement helpers", () => {
  it.each([0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 2n ** 63n - 1n, -(2n ** 63n), 10n ** 30n, -(10n ** 30n)])('round-trip %p', (n) => {
    expect(fromTwosComplement(toTwosComplement(n))).toBe(n);
  });

  it('reads empty bytes as zero', () => {
    expect(fromTwosComplement(Buffer.alloc(0))).toBe(0n);
  });
});

describe('date', () => {
  it.each([
    ['1970-01-01', 0],
    ['1969-12-31', -1],
    ['2000-02-29', 11_016],
    ['2025-06-04', 20_243],
    ['0001-01-01', -719_162],
    ['9999-12-31', 2_932_896],
  ])('%s is day %i', (text, days) => {
    const buf = date.toBuffer(text);
    expect(Type.forSchema('int').fromBuffer(buf)).toBe(days);
    expect(date.fromBuffer(buf)).toBe(text);
    expect(date.fromBuffer(date.toBuffer(days))).toBe(text);
  });

  it.each(['2025-02-30', '2023-02-29', '2025-13-01', '2025-00-10', '2025-6-4', '2025/06/04', '20250604', '2025-06-04T00:00:00Z', '', 1.5, 2 ** 31, null, new Date(0)])(
    'refuses %p',
    (value) => {
      expect(() => date.toBuffer(value)).toThrow(ValidationError);
      expect(date.isValid(value)).toBe(false);
    },
  );

  it('reads a plain int written by a writer without the logical type', () => {
    const int = Type.forSchema('int');
    expect(date.fromBuffer(int.toBuffer(20_243), date.createResolver(int))).toBe('2025-06-04');
  });
});

describe('timestamp-millis', () => {
  it.each([
    ['2025-06-04T06:30:00.000Z', 1_749_018_600_000],
    ['1970-01-01T00:00:00.000Z', 0],
    ['1969-12-31T23:59:59.999Z', -1],
    ['2038-01-19T03:14:08.000Z', 2 ** 31 * 1000],
  ])('%s is epoch millisecond %i', (text, ms) => {
    const buf = timestamp.toBuffer(text);
    expect(Type.forSchema('long').fromBuffer(buf)).toBe(ms);
    expect(timestamp.fromBuffer(buf)).toBe(text);
    expect(timestamp.fromBuffer(timestamp.toBuffer(ms))).toBe(text);
  });

  it.each([
    ['2025-06-04T14:30:00+08:00', '2025-06-04T06:30:00.000Z'],
    ['2025-06-04T14:30:00.000+08:00', '2025-06-04T06:30:00.000Z'],
    ['2025-06-04T06:30Z', '2025-06-04T06:30:00.000Z'],
    ['2025-06-04T06:30:00.5Z', '2025-06-04T06:30:00.500Z'],
    ['2025-06-04T06:30:00.05Z', '2025-06-04T06:30:00.050Z'],
    ['2025-06-03T22:30:00-08:00', '2025-06-04T06:30:00.000Z'],
    ['2025-06-04T00:00:00+08:00', '2025-06-03T16:00:00.000Z'],
  ])('normalises %s to %s', (input, output) => {
    expect(timestamp.fromBuffer(timestamp.toBuffer(input))).toBe(output);
  });

  it('takes a Date', () => {
    expect(timestamp.fromBuffer(timestamp.toBuffer(new Date(Date.UTC(2025, 5, 4, 6, 30))))).toBe('2025-06-04T06:30:00.000Z');
  });

  it.each([
    '2025-06-04T06:30:00', // no offset: the hub never guesses a time zone
    '2025-06-04 06:30:00Z',
    '2025-06-04',
    '2025-02-30T00:00:00Z',
    '2025-06-04T24:00:00Z',
    '2025-06-04T06:60:00Z',
    '2025-06-04T06:30:00.1234Z',
    '2025-06-04T06:30:00+24:00',
    'yesterday',
    1.5,
    Number.MAX_SAFE_INTEGER + 2,
    new Date(Number.NaN),
    null,
  ])('refuses %p', (value) => {
    expect(() => timestamp.toBuffer(value)).toThrow(ValidationError);
    expect(timestamp.isValid(value)).toBe(false);
  });

  it('writes every millisecond as Date.prototype.toISOString does, across the whole range of dates', () => {
    const edges = [0, -1, 86_399_999, -86_400_000, 951_782_400_000 /* 2000-02-29 */, -62_167_219_200_000 /* 0000-01-01 */, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];
    // A fixed pseudo-random walk over ±8.64e15 ms and densely around today, so the test is the same every run.
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const samples = [...edges, ...Array.from({ length: 20_000 }, (_, i) => Math.round((next() * 2 - 1) * (i % 2 ? 8.64e15 : 1e11) + (i % 2 ? 0 : 1.75e12)))];
    for (const ms of [...samples, 1.5, -0.4, -1.5, -0, 1_749_018_600_000.999]) expect([ms, formatMillis(ms)]).toEqual([ms, new Date(ms).toISOString()]);
    for (const days of [0, -1, 11_016, -719_528, 2_932_896, 100_000_000, -100_000_000]) expect(formatDays(days)).toBe(new Date(days * 86_400_000).toISOString().split('T')[0]);
    expect(() => formatMillis(8.64e15 + 1)).toThrow(RangeError);
    expect(() => formatMillis(Number.NaN)).toThrow(RangeError);
  });

  it('reads a plain long written by a writer without the logical type', () => {
    const long = Type.forSchema('long');
    expect(timestamp.fromBuffer(long.toBuffer(1_749_018_600_000), timestamp.createResolver(long))).toBe('2025-06-04T06:30:00.000Z');
  });
});

describe('nullable logical types (unions with null)', () => {
  const record = Type.forSchema(
    {
      type: 'record',
      name: 'Probe',
      fields: [
        { name: 'amount', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 }], default: null },
        { name: 'on', type: ['null', { type: 'int', logicalType: 'date' }], default: null },
        { name: 'at', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
      ],
    } as never,
    opts(),
  );

  it('encode values and nulls alike', () => {
    const full = { amount: '-1.50', on: '2025-06-04', at: '2025-06-04T06:30:00.000Z' };
    expect(record.fromBuffer(record.toBuffer(full))).toEqual(full);
    const empty = { amount: null, on: null, at: null };
    expect(record.fromBuffer(record.toBuffer(empty))).toEqual(empty);
  });

  it('refuses an invalid value in a union (with avsc\'s less specific message)', () => {
    expect(() => record.toBuffer({ amount: '1e5', on: null, at: null })).toThrow(/invalid/);
  });
});
