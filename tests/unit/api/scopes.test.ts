import { hasScope, Principal, requireScope, SCOPE_PATTERN } from '../../../hub/api/auth';
import { ApiError } from '../../../hub/api/http-errors';

const holder = (...scopes: string[]): Principal => ({ keyId: '0123456789abcdef', agencyCode: 'A', agencyName: '测试单位', scopes });

describe('scopes', () => {
  it.each([
    [['ingest:enforcement-case'], 'ingest:enforcement-case', true],
    [['ingest:enforcement-case'], 'ingest:hotline-ticket', false],
    [['ingest:enforcement-case'], 'read:enforcement-case', false],
    [['read:enforcement-case'], 'ingest:enforcement-case', false],
    [['ingest:*'], 'ingest:supervision-record', true],
    [['ingest:*'], 'read:supervision-record', false],
    [['read:*'], 'read:hotline-ticket', true],
    [['read:*'], 'read:pii', false],
    [['admin'], 'read:enforcement-case', true],
    [['admin'], 'ingest:hotline-ticket', true],
    [['admin'], 'admin', true],
    [['admin'], 'read:pii', false],
    [['admin', 'read:pii'], 'read:pii', true],
    [['read:pii'], 'read:enforcement-case', false],
    [['read:*', 'ingest:*'], 'admin', false],
    [[], 'read:enforcement-case', false],
  ])('a key with %j %s %s', (scopes, wanted, expected) => {
    expect(hasScope(holder(...scopes), wanted)).toBe(expected);
  });

  it('refuses a missing scope with 403 SCOPE_MISSING naming the scope required', () => {
    let caught: unknown;
    try {
      requireScope(holder('read:hotline-ticket'), 'admin');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect(caught).toMatchObject({ status: 403, code: 'SCOPE_MISSING', details: { required: 'admin', granted: ['read:hotline-ticket'] } });
  });

  it.each(['admin', 'read:pii', 'ingest:enforcement-case', 'read:hotline-ticket', 'read:supervision-record', 'ingest:*', 'read:*'])('accepts the scope %s when a key is created', (s) => {
    expect(SCOPE_PATTERN.test(s)).toBe(true);
  });

  it.each(['Admin', 'read', 'read:', 'write:enforcement-case', 'ingest:pii', 'read:people', 'admin ', '*'])('refuses the scope %j when a key is created', (s) => {
    expect(SCOPE_PATTERN.test(s)).toBe(false);
  });
});
