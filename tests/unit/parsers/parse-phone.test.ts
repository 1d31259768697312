import { createHmac } from 'node:crypto';
import { parsePhone } from '../../../pipelines/normalise/parsers';

const SECRET = 'test-secret';
const hmac = (digits: string): string => createHmac('sha256', SECRET).update(digits).digest('hex');

describe('parsePhone', () => {
  // [as written, kind, normalised digits that are hashed, masked form]
  it.each([
    ['13812345678', 'MOBILE', '13812345678', '138****5678'],
    [' 13812345678 ', 'MOBILE', '13812345678', '138****5678'],
    ['138 1234 5678', 'MOBILE', '13812345678', '138****5678'],
    ['138-1234-5678', 'MOBILE', '13812345678', '138****5678'],
    ['+8613812345678', 'MOBILE', '13812345678', '138****5678'],
    ['+86 138 1234 5678', 'MOBILE', '13812345678', '138****5678'],
    ['+86-138-1234-5678', 'MOBILE', '13812345678', '138****5678'],
    ['(+86)13812345678', 'MOBILE', '13812345678', '138****5678'],
    ['008613812345678', 'MOBILE', '13812345678', '138****5678'],
    ['0086 138 1234 5678', 'MOBILE', '13812345678', '138****5678'],
    ['8613812345678', 'MOBILE', '13812345678', '138****5678'],
    ['１３８１２３４５６７８', 'MOBILE', '13812345678', '138****5678'],
    ['＋８６　１３８１２３４５６７８', 'MOBILE', '13812345678', '138****5678'],
    ['199 0937 1234', 'MOBILE', '19909371234', '199****1234'],
    ['17093712345', 'MOBILE', '17093712345', '170****2345'], // virtual operator range
    ['0937-2612345', 'LANDLINE', '09372612345', '0937-***2345'],
    ['0937 2612345', 'LANDLINE', '09372612345', '0937-***2345'],
    ['(0937)2612345', 'LANDLINE', '09372612345', '0937-***2345'],
    ['（0937）2612345', 'LANDLINE', '09372612345', '0937-***2345'],
    ['09372612345', 'LANDLINE', '09372612345', '0937-***2345'],
    ['+86 937 2612345', 'LANDLINE', '09372612345', '0937-***2345'],
    ['０９３７－２６１２３４５', 'LANDLINE', '09372612345', '0937-***2345'],
    ['010-65123456', 'LANDLINE', '01065123456', '010-****3456'],
    ['0931-8912345', 'LANDLINE', '09318912345', '0931-***2345'], // Lanzhou
  ])('reads %j as a %s number', (input, kind, digits, masked) => {
    expect(parsePhone(input, SECRET)).toEqual({ ok: true, value: { kind, hash: hmac(digits), masked }, warnings: [] });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['1381234567', /11 digits/], // one digit short
    ['138123456789', /11 digits/],
    ['12812345678', /11 digits starting 13–19/],
    ['12345', /11 digits/], // the hotline itself
    ['2612345', /area code/], // local number without 0937
    ['0937-261234', /7 or 8 digits/],
    ['0937-0612345', /7 or 8 digits/],
    ['+852 6123 4567', /mainland China/],
    ['138****5678', /characters other than digits/], // already masked upstream
    ['电话：13812345678', /characters other than digits/],
    ['0937-2612345转801', /characters other than digits/],
  ])('rejects %j with BAD_PHONE because %s', (input, reason) => {
    const r = parsePhone(input, SECRET);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('BAD_PHONE');
      expect(r.message).toMatch(reason);
      expect(r.message).not.toMatch(/\d{5,}/);
    }
  });

  it('refuses an empty secret, because an unkeyed hash of a phone number is reversible', () => {
    expect(() => parsePhone('13812345678', '')).toThrow(TypeError);
  });
});
