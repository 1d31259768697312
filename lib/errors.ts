/**
 * One error hierarchy for the whole hub. Every error says whether retrying can help
 * (`retriable`) and keeps the error that caused it, so the retry helper and the CLI
 * can decide without reading message text.
 */
export class LiandongError extends Error {
  readonly retriable: boolean;
  readonly code: string;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration file or environment override that does not match the schema. */
export class ConfigError extends LiandongError {
  constructor(message: string, readonly issues: ReadonlyArray<{ path: string; expected: string }> = []) {
    super('CONFIG_INVALID', message);
  }
}

/** A local-stack service that could not be installed, started or reached. */
export class StackError extends LiandongError {
  constructor(
    readonly service: string,
    readonly reason: string,
    message: string,
    readonly logTail?: string,
  ) {
    super(`STACK_${reason}`, `${service}: ${message}`);
  }
}

/** The schema registry refused a schema because it breaks the subject's compatibility rule. */
export class SchemaCompatibilityError extends LiandongError {
  constructor(readonly subject: string, message: string, cause?: unknown) {
    super('SCHEMA_INCOMPATIBLE', `${subject}: ${message}`, { cause });
  }
}

/** A field of an input record that cannot be turned into its canonical form. */
export class ValidationError extends LiandongError {
  constructor(readonly field: string, code: string, message: string) {
    super(code, `${field}: ${message}`);
  }
}

/**
 * An upstream source (HTTP API, database, file) that failed; `status` is the HTTP status where
 * there is one, `retryAfterMs` what the source asked us to wait (HTTP Retry-After).
 */
export class SourceError extends LiandongError {
  readonly retryAfterMs?: number;

  constructor(message: string, readonly status?: number, options: { retriable?: boolean; cause?: unknown; retryAfterMs?: number } = {}) {
    super('SOURCE_FAILED', message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * SQLSTATE classes that are worth retrying: connection failures (08), serialization and
 * deadlock (40001, 40P01), insufficient resources (53), operator intervention (57P01..57P03).
 */
const RETRIABLE_SQLSTATE_PREFIXES = ['08', '53', '57P0'];
const RETRIABLE_SQLSTATES = new Set(['40001', '40P01']);

export function isRetriableSqlState(code: string | undefined): boolean {
  if (!code) return false;
  return RETRIABLE_SQLSTATES.has(code) || RETRIABLE_SQLSTATE_PREFIXES.some((p) => code.startsWith(p));
}

/** A PostgreSQL write that failed; `pgCode` is the SQLSTATE. */
export class SinkError extends LiandongError {
  constructor(message: string, readonly pgCode?: string, cause?: unknown) {
    super('SINK_FAILED', message, { retriable: isRetriableSqlState(pgCode), cause });
  }
}

/** Errors that are programming mistakes: never retried. */
export function isProgrammingError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError;
}
