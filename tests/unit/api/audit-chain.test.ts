import { auditHash, AuditEntry, canonicalEncoding, canonicalTime, ChainedRow, chainEntries, checkLink, GENESIS_HASH } from '../../../hub/api/audit-chain';

const entry = (n: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  at: new Date(Date.UTC(2026, 10, 27, 8, 0, 0, n)),
  requestId: `req-${n}`,
  keyId: '0123456789abcdef',
  agencyCode: '11620900MB19512346',
  method: 'POST',
  route: '/v1/ingest/:dataset',
  dataset: 'enforcement-case',
  recordCount: n,
  status: 202,
  outcome: 'OK',
  ...over,
});

/** The first broken row of a chain, as verifyAuditChain walks it. */
function firstBreak(rows: ChainedRow[]): { seq: string; reason: string } | null {
  let prev: { seq: bigint; hash: string } | null = null;
  for (const row of rows) {
    const broken = checkLink(prev, row);
    if (broken) return { seq: row.seq.toString(), reason: broken.reason };
    prev = { seq: row.seq, hash: row.hash };
  }
  return null;
}

describe('the audit hash chain', () => {
  it('encodes a row as a versioned JSON array in a fixed field order, time in UTC with microseconds', () => {
    const fields = { ...entry(123, { requestId: 'req-1', recordCount: 3 }), at: canonicalTime(new Date('2026-11-27T08:00:00.123Z')) };
    expect(canonicalEncoding(1n, GENESIS_HASH, fields)).toBe(
      `["liandong-audit/1","1","${'0'.repeat(64)}","2026-11-27T08:00:00.123000Z","req-1","0123456789abcdef","11620900MB19512346","POST","/v1/ingest/:dataset","enforcement-case",3,202,"OK"]`,
    );
  });

  it('hashes that encoding with SHA-256 — pinned, because a changed encoding would fail every stored chain', () => {
    const fields = { ...entry(123, { requestId: 'req-1', recordCount: 3 }), at: canonicalTime(new Date('2026-11-27T08:00:00.123Z')) };
    expect(auditHash(1n, GENESIS_HASH, fields)).toBe('c6fb42afa44710c6a91d0becd4986a005e7582e5ad305877f5c1220436004637');
  });

  it('keeps null apart from an empty string and from the text "null"', () => {
    const at = canonicalTime(new Date(0));
    const base = { ...entry(1), at };
    const hashes = new Set([null, '', 'null'].map((dataset) => auditHash(1n, GENESIS_HASH, { ...base, dataset })));
    expect(hashes.size).toBe(3);
  });

  it('cannot be fooled by moving text from one field to the next', () => {
    const base = { ...entry(1), at: canonicalTime(new Date(0)) };
    expect(auditHash(1n, GENESIS_HASH, { ...base, method: 'GET', route: '/v1/x' })).not.toBe(auditHash(1n, GENESIS_HASH, { ...base, method: 'GET/', route: 'v1/x' }));
  });

  it('changes the hash when any single field changes', () => {
    const base = { ...entry(1), at: canonicalTime(new Date(0)) };
    const reference = auditHash(1n, GENESIS_HASH, base);
    const variants: Array<Partial<typeof base>> = [
      { at: canonicalTime(new Date(1)) }, { requestId: 'other' }, { keyId: null }, { agencyCode: 'x' }, { method: 'GET' },
      { route: '/v1/audit' }, { dataset: 'hotline-ticket' }, { recordCount: 2 }, { status: 403 }, { outcome: 'SCOPE_MISSING' },
    ];
    for (const v of variants) expect(auditHash(1n, GENESIS_HASH, { ...base, ...v })).not.toBe(reference);
    expect(auditHash(2n, GENESIS_HASH, base)).not.toBe(reference);
    expect(auditHash(1n, 'f'.repeat(64), base)).not.toBe(reference);
  });

  it('chains the first row from the genesis value and each next row from the one before', () => {
    const rows = chainEntries([entry(1), entry(2), entry(3)], null);
    expect(rows.map((r) => r.seq)).toEqual([1n, 2n, 3n]);
    expect(rows[0].prevHash).toBe(GENESIS_HASH);
    expect(rows[1].prevHash).toBe(rows[0].hash);
    expect(rows[2].prevHash).toBe(rows[1].hash);
    expect(firstBreak(rows)).toBeNull();
  });

  it('continues an existing chain from its last row', () => {
    const first = chainEntries([entry(1), entry(2)], null);
    const more = chainEntries([entry(3)], { seq: first[1].seq, hash: first[1].hash });
    expect(more[0].seq).toBe(3n);
    expect(firstBreak([...first, ...more])).toBeNull();
  });

  it('names a row whose field was changed as a hash mismatch', () => {
    const rows = chainEntries([entry(1), entry(2), entry(3), entry(4)], null);
    rows[2] = { ...rows[2], recordCount: 999 };
    expect(firstBreak(rows)).toEqual({ seq: '3', reason: 'hash_mismatch' });
  });

  it('names the row after one that was changed and re-hashed as a prev_hash mismatch', () => {
    const rows = chainEntries([entry(1), entry(2), entry(3), entry(4)], null);
    const forged = { ...rows[1], outcome: 'FORGED' };
    rows[1] = { ...forged, hash: auditHash(forged.seq, forged.prevHash, forged) };
    expect(firstBreak(rows)).toEqual({ seq: '3', reason: 'prev_hash_mismatch' });
  });

  it('names the row after a deleted one as a seq gap, and a log missing its first rows too', () => {
    const rows = chainEntries([entry(1), entry(2), entry(3), entry(4)], null);
    expect(firstBreak([rows[0], rows[1], rows[3]])).toEqual({ seq: '4', reason: 'seq_gap' });
    expect(firstBreak(rows.slice(1))).toEqual({ seq: '2', reason: 'seq_gap' });
  });

  it('says why in words the CLI prints', () => {
    const rows = chainEntries([entry(1), entry(2)], null);
    expect(checkLink({ seq: 1n, hash: rows[0].hash }, { ...rows[1], status: 200 })?.message).toBe('hash does not match its fields');
    expect(checkLink({ seq: 1n, hash: 'a'.repeat(64) }, rows[1])?.message).toBe('prev_hash does not match the hash of seq 1');
  });
});
