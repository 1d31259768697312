import { parseUscc } from '../../../pipelines/normalise/parsers/parse-uscc';
import { ApiError } from '../http-errors';

/**
 * Checks the read API makes beyond what a zod schema can say (they depend on the dataset, or
 * on a domain parser), answered in the same shape as the schema checks: 400 VALIDATION_FAILED
 * with `details.issues` naming the parameter — never echoing its value, which may be personal.
 */
export function invalid(where: 'params' | 'query', path: string, message: string, code = 'invalid_value'): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', `the request's ${where} are not valid: ${path}: ${message}`, { in: where, issues: [{ path, message, code }] });
}

/**
 * A credit code as a lookup key: normalised by the normaliser's own parser, and refused when
 * its check character is wrong. The normaliser only warns on a bad checksum (some early pilot
 * codes were legally issued that way), but a lookup with one is almost always a typo, and an
 * empty answer would hide it; such codes stay reachable as the party key `USCC:<code>`.
 */
export function creditCode(where: 'params' | 'query', path: string, input: string): string {
  const parsed = parseUscc(input);
  if (!parsed.ok) throw invalid(where, path, parsed.message, 'bad_credit_code');
  if (parsed.warnings.includes('USCC_CHECKSUM')) {
    throw invalid(where, path, 'the check character (position 18) does not match GB 32100-2015; for a legally issued code that fails it, use the party key USCC:<code>', 'bad_credit_code');
  }
  return parsed.value.uscc;
}

/** A comma-separated list of symbols, each one of `allowed`. */
export function symbolList(path: string, input: string | undefined, allowed: readonly string[]): string[] | undefined {
  if (input === undefined) return undefined;
  const values = input.split(',').map((v) => v.trim().toUpperCase()).filter(Boolean);
  const bad = values.filter((v) => !allowed.includes(v));
  if (values.length === 0 || bad.length > 0) throw invalid('query', path, `expected one or more of ${allowed.join(', ')} (comma-separated)`, 'invalid_enum_value');
  return [...new Set(values)];
}
