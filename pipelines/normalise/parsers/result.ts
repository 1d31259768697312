/**
 * What every domain parser returns. Parsers are pure functions: no I/O, no clock, no
 * randomness; the secret for keyed hashes is passed in.
 *
 * A parse either succeeds with a value and zero or more non-fatal warnings (codes such as
 * `USCC_CHECKSUM`, `REGION_FROM_NAME`, `AMOUNT_FROM_TEXT`), or fails with a stable error code
 * (`BAD_DATE`, `BAD_AMOUNT`, `BAD_USCC`, `BAD_ID_NUMBER`, `BAD_PHONE`, `UNKNOWN_REGION`,
 * `BAD_QUANTITY`…) and a message that says what was wrong with which input.
 */
export type ParseResult<T> = ParseOk<T> | ParseFail;

export interface ParseOk<T> {
  ok: true;
  value: T;
  warnings: string[];
}

export interface ParseFail {
  ok: false;
  code: string;
  message: string;
}

export function ok<T>(value: T, warnings: string[] = []): ParseOk<T> {
  return { ok: true, value, warnings };
}

export function fail(code: string, message: string): ParseFail {
  return { ok: false, code, message };
}
