/**
 * Unified social credit code 统一社会信用代码 (GB 32100-2015): 18 characters, position 2 is the
 * organisation class, position 18 a check character over the first 17.
 */
import { fail, ok, type ParseResult } from './result';
import { compactText } from './text';

export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

// 3^(i−1) mod 31 for positions 1..17, as tabulated in the standard.
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export type UsccOrgClass = 'ORGANISATION' | 'SOLE_PROPRIETOR' | 'UNKNOWN';

/**
 * The check character for the first 17 characters of a code.
 * Example: `usccCheckChar('91350100M000100Y4')` → `'3'`.
 * Throws a TypeError for anything that is not 17 alphabet characters: that is a caller bug.
 */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17) throw new TypeError(`usccCheckChar needs 17 characters, got ${first17.length}`);
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    const value = USCC_ALPHABET.indexOf(first17[i]);
    if (value < 0) throw new TypeError(`"${first17[i]}" is not in the credit-code alphabet`);
    sum += value * WEIGHTS[i];
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * Normalises and validates a credit code.
 * Example: `parseUscc(' 91350100m000100y43 ')` → ok `{ uscc: '91350100M000100Y43', orgClass: 'ORGANISATION' }`.
 * A wrong check character only warns (`USCC_CHECKSUM`): some early pilot codes fail the checksum
 * yet were legally issued, and dropping them would lose real parties.
 */
export function parseUscc(input: string): ParseResult<{ uscc: string; orgClass: UsccOrgClass }> {
  const uscc = compactText(input).toUpperCase();
  if (uscc === '') return fail('BAD_USCC', 'credit code is empty');
  if (uscc.length !== 18) return fail('BAD_USCC', `credit code must have 18 characters, got ${uscc.length}`);
  for (let i = 0; i < 18; i += 1) {
    if (!USCC_ALPHABET.includes(uscc[i])) {
      return fail(
        'BAD_USCC',
        `credit code character ${i + 1} "${uscc[i]}" is not allowed (the alphabet has no I, O, S, V, Z)`,
      );
    }
  }
  const warnings = usccCheckChar(uscc.slice(0, 17)) === uscc[17] ? [] : ['USCC_CHECKSUM'];
  // Under registering authority 9 (market regulation), class 2 is a sole proprietor 个体工商户;
  // other authorities register organisations only.
  const orgClass: UsccOrgClass = uscc[0] === '9' && uscc[1] === '2' ? 'SOLE_PROPRIETOR' : 'ORGANISATION';
  return ok({ uscc, orgClass }, warnings);
}
