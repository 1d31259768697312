import crypto from 'node:crypto';
import { sourceValue } from '../../../pipelines/normalise/apply-mapping';
import { maskPiiInText } from '../../../pipelines/normalise/parsers/mask-text';

/**
 * What the push API checks at the door, before anything is sent: the shape of each record, not
 * its content. A record that is not an object, nests too deep, is too large, carries an integer
 * JSON cannot hold exactly, or has no usable record id is rejected here with a code; everything
 * else goes to the raw topic, and content problems (a bad date, a bad credit code) become dead
 * letters of the normaliser, where a mapping fix can still rescue them. Messages name fields and
 * limits, never values: a value may be personal data.
 */
export const MAX_RECORD_BYTES = 256 * 1024;
export const MAX_RECORD_DEPTH = 10;
export const MAX_RECORD_KEY_CHARS = 200;

export interface Rejection {
  index: number;
  /** The record's id when it had a usable one. */
  recordKey: string | null;
  code: 'NOT_AN_OBJECT' | 'TOO_DEEP' | 'TOO_LARGE' | 'UNSAFE_NUMBER' | 'MISSING_RECORD_ID' | 'BAD_RECORD_ID';
  message: string;
}

/** A record that passed the door: its key, the payload exactly as it will be sent, and its digest. */
export interface Candidate {
  index: number;
  recordKey: string;
  payload: string;
  sha256: string;
}

/** A record of the batch identical (same key and payload) to an earlier one of the same batch. */
export interface RepeatInBatch {
  index: number;
  firstIndex: number;
}

export interface CheckedBatch {
  /** The first occurrence of each version in the batch, in batch order. */
  candidates: Candidate[];
  repeats: RepeatInBatch[];
  rejected: Rejection[];
}

const CONTROL_OR_LONE_SURROGATE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Anything else (an object, a boolean, a float) would make a key that reads differently from the value.
function recordKeyOf(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  let key: string;
  if (typeof value === 'string') key = value.trim();
  else if (typeof value === 'number' && Number.isSafeInteger(value)) key = String(value);
  else return null;
  if (key === '') return undefined;
  // Keys go to PostgreSQL text (which refuses NUL) and on into other systems: no control characters.
  if (key.length > MAX_RECORD_KEY_CHARS || CONTROL_OR_LONE_SURROGATE.test(key)) return null;
  return key;
}

/**
 * The first structural problem of a value, or null: nesting deeper than MAX_RECORD_DEPTH, or an
 * integer beyond 2^53 (JSON.parse already rounded it: an 18-digit ID number sent as a number
 * arrives changed, so it must be sent as a string). Stops descending at the depth limit, so a
 * hostile body cannot exhaust the stack.
 */
function structureProblem(value: unknown, depth: number, path: string): Pick<Rejection, 'code' | 'message'> | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? // A field name is the agency's to choose; masked like free text in case one is an ID or phone number.
        { code: 'UNSAFE_NUMBER', message: `field ${maskPiiInText(path).text} holds an integer too large for a JSON number to carry exactly; send it as a string` }
      : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_RECORD_DEPTH) return { code: 'TOO_DEEP', message: `record nests objects or arrays deeper than ${MAX_RECORD_DEPTH} levels` };
  const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [name, child] of entries) {
    const problem = structureProblem(child, depth + 1, path ? `${path}.${name.slice(0, 64)}` : name.slice(0, 64));
    if (problem) return problem;
  }
  return null;
}

/**
 * Checks every record of a batch. `idField` is the push source's record id field (a dotted
 * path reaches into nested objects).
 *
 * @example
 *   checkRecords([{ case_no: 'A1', … }, 'oops'], 'case_no')
 *   // → candidates [{ index: 0, recordKey: 'A1', … }], rejected [{ index: 1, code: 'NOT_AN_OBJECT', … }]
 */
export function checkRecords(records: readonly unknown[], idField: string): CheckedBatch {
  const out: CheckedBatch = { candidates: [], repeats: [], rejected: [] };
  const firstOf = new Map<string, number>();
  records.forEach((record, index) => {
    const reject = (code: Rejection['code'], message: string, recordKey: string | null = null) => out.rejected.push({ index, recordKey, code, message });
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      reject('NOT_AN_OBJECT', 'a record must be a JSON object');
      return;
    }
    const problem = structureProblem(record, 1, '');
    if (problem) {
      reject(problem.code, problem.message);
      return;
    }
    const key = recordKeyOf(sourceValue(record as Record<string, unknown>, idField));
    if (key === undefined) {
      reject('MISSING_RECORD_ID', `record has no ${idField}, the field that identifies a record of this source`);
      return;
    }
    if (key === null) {
      reject('BAD_RECORD_ID', `${idField} must be a non-empty string (or an integer) of at most ${MAX_RECORD_KEY_CHARS} characters, without control characters`);
      return;
    }
    const payload = JSON.stringify(record);
    const bytes = Buffer.byteLength(payload, 'utf8');
    if (bytes > MAX_RECORD_BYTES) {
      reject('TOO_LARGE', `record is ${bytes} bytes as JSON; at most ${MAX_RECORD_BYTES}`, key);
      return;
    }
    const sha256 = crypto.createHash('sha256').update(payload, 'utf8').digest('hex');
    const version = `${key}\u0000${sha256}`;
    const first = firstOf.get(version);
    if (first !== undefined) {
      out.repeats.push({ index, firstIndex: first });
      return;
    }
    firstOf.set(version, index);
    out.candidates.push({ index, recordKey: key, payload, sha256 });
  });
  return out;
}
