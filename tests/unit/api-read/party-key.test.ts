import { resolvePartyKey } from '../../../hub/api/query/party-key';
import { hashIdNumber, idCheckChar } from '../../../pipelines/normalise/parsers/parse-id-number';
import { usccCheckChar } from '../../../pipelines/normalise/parsers/parse-uscc';
import { ApiError } from '../../../hub/api/http-errors';

const SECRET = 'unit-test-secret';
const ID = '11010519491231002X';
const USCC = '91620902MA5726159' + usccCheckChar('91620902MA5726159');

function refusal(key: string): ApiError {
  try {
    resolvePartyKey(key, SECRET);
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a refusal');
}

describe('party keys', () => {
  it('takes a credit code, normalised, to its USCC key', () => {
    expect(resolvePartyKey(` ${USCC.toLowerCase()} `, SECRET)).toEqual({ by: 'credit_code', partyKey: `USCC:${USCC}` });
  });

  it('hashes an ID number as the normaliser does, in its 18- and 15-character forms and with a lower-case x', () => {
    const expected = { by: 'id_number', partyKey: `ID:${hashIdNumber(ID, SECRET)}` };
    expect(resolvePartyKey(ID, SECRET)).toEqual(expected);
    expect(resolvePartyKey(ID.toLowerCase(), SECRET)).toEqual(expected);
    const first17 = '62092119810823123';
    expect(resolvePartyKey('620921810823123', SECRET)).toEqual({ by: 'id_number', partyKey: `ID:${hashIdNumber(first17 + idCheckChar(first17), SECRET)}` });
  });

  it('passes party keys through', () => {
    for (const key of [`USCC:${USCC}`, `ID:${'0'.repeat(64)}`, 'NAME:620902:张**']) expect(resolvePartyKey(key, SECRET)).toEqual({ by: 'party_key', partyKey: key });
  });

  it('answers a mistyped ID number as one, even when it happens to pass a credit code check', () => {
    // 620921198108231230 fails the ID check and passes the credit-code check.
    const wrong = '620921198108231230';
    expect(usccCheckChar(wrong.slice(0, 17))).toBe(wrong[17]);
    const err = refusal(wrong);
    expect(err.status).toBe(400);
    expect(err.details.issues).toEqual([expect.objectContaining({ path: 'key', code: 'bad_id_number' })]);
  });

  it('takes an all-digit credit code without a birth date in it for a credit code', () => {
    const first17 = '91440300192203821';
    const code = first17 + usccCheckChar(first17);
    expect(resolvePartyKey(code, SECRET).by).toBe('credit_code');
  });

  it.each([
    ['a credit code with a wrong check character', USCC.slice(0, 17) + (USCC[17] === '0' ? '1' : '0')],
    ['a 15-digit number with no real birth date', '620921811323123'],
    ['a malformed party key', 'ID:abc'],
    ['an unknown shape', 'acme'],
  ])('refuses %s with a 400 that does not quote it', (_what, key) => {
    const err = refusal(key);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.message).not.toContain(key);
    expect(JSON.stringify(err.details)).not.toContain(key);
  });
});
