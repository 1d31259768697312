/**
 * Caller phone numbers: mainland mobiles and fixed lines with an area code (Jiuquan is 0937).
 * Like ID numbers these are personal data: messages never contain the number.
 */
import { keyedHash } from './keyed-hash';
import { fail, ok, type ParseResult } from './result';
import { toHalfWidth } from './text';

export type PhoneKind = 'MOBILE' | 'LANDLINE';

const MOBILE = /^1[3-9]\d{9}$/;

/** Keeps the first 3 and last 4 digits: `13812345678` → `138****5678`. */
export function maskMobile(digits: string): string {
  return digits.slice(0, 3) + '*'.repeat(digits.length - 7) + digits.slice(-4);
}

// Beijing (010) and the 02x cities have three-character area codes; every other one has four.
function areaCodeLength(digits: string): number {
  return /^0(10|2\d)/.test(digits) ? 3 : 4;
}

/**
 * Normalises a phone number and returns its kind, keyed hash and masked form.
 * Examples: `parsePhone('+86 138-1234-5678', s)` → `{ kind: 'MOBILE', masked: '138****5678', … }`;
 * `parsePhone('(0937)2612345', s)` → `{ kind: 'LANDLINE', masked: '0937-***2345', … }`.
 * The hash is HMAC-SHA256 hex of the digits (landlines with their leading 0 and area code).
 */
export function parsePhone(
  input: string,
  secret: string,
): ParseResult<{ kind: PhoneKind; hash: string; masked: string }> {
  const text = toHalfWidth(input).trim();
  if (text === '') return fail('BAD_PHONE', 'phone number is empty');
  const packed = text.replace(/[\s\u00a0\-‐–—()（）.]/g, '');
  if (!/^\+?\d+$/.test(packed)) return fail('BAD_PHONE', 'phone number contains characters other than digits and separators');

  let digits = packed.replace(/^\+/, '');
  let international = false;
  if (packed.startsWith('+') || digits.startsWith('0086')) {
    digits = digits.replace(/^(00)?/, '');
    if (!digits.startsWith('86')) return fail('BAD_PHONE', 'only mainland China (+86) numbers are accepted');
    digits = digits.slice(2);
    international = true;
  } else if (digits.length === 13 && digits.startsWith('86')) {
    digits = digits.slice(2); // 8613812345678: country code written without the plus
    international = true;
  }
  // Dialled from abroad, a landline drops the trunk 0 of its area code: +86 937 2612345.
  if (international && !digits.startsWith('1') && !digits.startsWith('0')) digits = `0${digits}`;

  if (MOBILE.test(digits)) {
    return ok({ kind: 'MOBILE', hash: keyedHash(digits, secret), masked: maskMobile(digits) });
  }
  if (digits.startsWith('1')) {
    return fail('BAD_PHONE', `a mobile number has 11 digits starting 13–19 (got ${digits.length} digits)`);
  }
  if (!digits.startsWith('0')) {
    return fail('BAD_PHONE', 'a fixed-line number needs its area code (such as 0937)');
  }
  const area = digits.slice(0, areaCodeLength(digits));
  const local = digits.slice(area.length);
  if (!/^[2-9]\d{6,7}$/.test(local)) {
    return fail('BAD_PHONE', 'after the area code a fixed-line number has 7 or 8 digits, not starting 0 or 1');
  }
  const masked = `${area}-${'*'.repeat(local.length - 4)}${local.slice(-4)}`;
  return ok({ kind: 'LANDLINE', hash: keyedHash(digits, secret), masked });
}
