import { hashIdNumber, normaliseIdNumber } from '../../../pipelines/normalise/parsers/parse-id-number';
import { compactText } from '../../../pipelines/normalise/parsers/text';
import { USCC_ALPHABET } from '../../../pipelines/normalise/parsers/parse-uscc';
import { creditCode, invalid } from './validate';

/**
 * What `/v1/parties/:key` was asked for, as the warehouse's party key (`core.party.party_key`):
 *
 * - a credit code → `USCC:<code>` (normalised, checksum enforced: see `creditCode`);
 * - a resident ID number (18 characters, or the old 15 digits) → `ID:<HMAC>` with the same key
 *   and normalisation as the normaliser, so it finds the hash the records carry. The number is
 *   used for nothing else: it is not returned, logged, or put in an error message;
 * - a party key as the warehouse writes it (`USCC:…`, `ID:<64 hex>`, `NAME:<region>:<name>`).
 *
 * Both are 18 characters, and a credit code may be all digits. A key is taken as an ID number
 * when it is 15 digits, or 17 digits and a digit or X whose characters 7–14 are a real birth
 * date (19xx or 20xx): a credit code has the end of its area code there (`…02`, `…21`), which
 * almost never reads as a year from 1900. So a mistyped ID number is answered as one (its check
 * character is wrong) instead of being looked up as a credit code. A digit-only credit code
 * that does read that way is reached as `USCC:<code>`.
 *
 * @example
 *   resolvePartyKey('91620902MA5726159J', secret); // { by: 'credit_code', partyKey: 'USCC:91620902MA5726159J' }
 *   resolvePartyKey('62090219810823123X', secret); // { by: 'id_number', partyKey: 'ID:3f2a…' }
 */
export interface PartyLookup {
  by: 'credit_code' | 'id_number' | 'party_key';
  partyKey: string;
}

const USCC_KEY = new RegExp(`^USCC:[${USCC_ALPHABET}]{18}$`);
const ID_KEY = /^ID:[0-9a-f]{64}$/;
const NAME_KEY = /^NAME:\d{0,6}:.{1,200}$/u;

function looksLikeIdNumber(compact: string): boolean {
  if (/^\d{15}$/.test(compact)) return true;
  if (!/^\d{17}[\dX]$/.test(compact)) return false;
  const [y, m, d] = [Number(compact.slice(6, 10)), Number(compact.slice(10, 12)), Number(compact.slice(12, 14))];
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && y < 2100 && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function resolvePartyKey(input: string, piiSecret: string): PartyLookup {
  if (/^(USCC|ID|NAME):/.test(input)) {
    if (USCC_KEY.test(input) || ID_KEY.test(input) || NAME_KEY.test(input)) return { by: 'party_key', partyKey: input };
    throw invalid('params', 'key', 'a party key reads USCC:<18-character code>, ID:<64 hex digits> or NAME:<region code>:<name>', 'bad_party_key');
  }
  const compact = compactText(input).toUpperCase();
  if (looksLikeIdNumber(compact)) {
    const id = normaliseIdNumber(compact);
    // The parser's messages name what is wrong, never the digits.
    if (!id.ok) throw invalid('params', 'key', `not a valid ID number: ${id.message}`, 'bad_id_number');
    return { by: 'id_number', partyKey: `ID:${hashIdNumber(id.value, piiSecret)}` };
  }
  if (compact.length === 18) return { by: 'credit_code', partyKey: `USCC:${creditCode('params', 'key', compact)}` };
  throw invalid('params', 'key', 'expected a credit code (18 characters), an ID number (18 characters, or 15 digits) or a party key (USCC:…, ID:…, NAME:…)', 'bad_key');
}
