import type { z } from 'zod';
import type { Logger } from '../lib/log';

/**
 * The connector contract. A connector kind only talks to its source: it declares its
 * configuration (`config`, a zod schema that is also its documentation; fields that name an
 * environment variable holding a secret end in `_env`), can `check` that the source answers,
 * and `read`s records and state updates as an async generator. The runner owns the rest:
 * producing to Kafka, persisting state after Kafka acknowledged, retries, runs and progress.
 *
 * State is plain serialisable data. A `state` item means "every record yielded before me may
 * be considered delivered"; after a crash, `read` resumes from the last persisted state, so
 * records after it may be read again — as identical re-sends.
 */
export type ConnectorState = Record<string, unknown>;

export type ReadItem =
  | { type: 'record'; key: string; payload: string | Record<string, unknown>; contentType?: string }
  | { type: 'state'; state: ConnectorState }
  /** Something the source offered that could not be read at all (a corrupt file); counted as failed. */
  | { type: 'reject'; what: string; reason: string };

export interface ConnectorContext {
  logger: Logger;
  /** Aborted when the run is cancelled; pass it to fetch and queries. */
  signal: AbortSignal;
  /** The value of a secret environment variable named by the configuration. */
  secret(envName: string): string;
}

export interface ConnectorKind<C> {
  readonly kind: string;
  readonly description: string;
  readonly config: z.ZodType<C>;
  /**
   * False for a kind whose records are pushed to the hub (the exchange API) rather than read:
   * a schedule on it is refused when the source is loaded. Pulled kinds leave it out.
   */
  readonly pulled?: false;
  /** Throws a SourceError saying why the source cannot be reached or read. */
  check(config: C, ctx: ConnectorContext): Promise<string>;
  read(config: C, state: ConnectorState | null, ctx: ConnectorContext): AsyncGenerator<ReadItem>;
}
