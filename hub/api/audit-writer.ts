import type { Knex } from 'knex';
import type { Logger } from '../../lib/log';
import { AuditEntry, ChainedRow, chainEntries } from './audit-chain';

/**
 * Appends audit entries to ops.audit_log with group commit: entries wait at most `intervalMs`
 * (or until `maxBatch` are waiting) and go in together, in one transaction, so auditing costs
 * one round trip per batch rather than per request.
 *
 * Appends are serialised across hub instances by a transaction-scoped advisory lock; the last
 * row is read after taking it, in the same transaction, so every instance chains from the row
 * the previous one committed. Because the lock is released only after commit, rows become
 * visible in seq order, which is what lets verification run while appends go on.
 *
 * A failed write keeps its entries at the head of the queue and is retried with backoff (and
 * logged). Entries carry no personal data (route templates, key ids, agency codes, counts), so
 * if the database is still unreachable when the hub stops, the entries left are written to the
 * log instead of being dropped.
 *
 * @example
 *   const writer = new AuditWriter(db, logger);
 *   writer.append(entry);
 *   await writer.stop();   // flushes what is queued
 */
export class AuditWriter {
  private queue: AuditEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  /** Set by stop(): from then on a write that keeps failing is given up at this time. */
  private stopDeadline: number | null = null;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly options: { intervalMs?: number; maxBatch?: number; stopTimeoutMs?: number } = {},
  ) {}

  /** Entries waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  append(entry: AuditEntry): void {
    if (this.stopped) {
      // Nothing will write it any more (the database pool may be closed): the log keeps it.
      this.logger.error('audit entry after the audit writer stopped', { audit: { ...entry, at: entry.at.toISOString() } });
      return;
    }
    this.queue.push(entry);
    if (this.queue.length >= (this.options.maxBatch ?? 200)) this.kick();
    else if (!this.timer && !this.draining) this.timer = setTimeout(() => this.kick(), this.options.intervalMs ?? 50);
  }

  /** Writes everything queued so far (retrying until it is written, or the stop deadline passes). */
  async flush(): Promise<void> {
    do {
      this.kick();
      await this.draining;
    } while (this.queue.length > 0 || this.draining);
  }

  /** Flushes and stops; entries that still cannot be written after `stopTimeoutMs` are logged. */
  async stop(): Promise<void> {
    this.stopDeadline = Date.now() + (this.options.stopTimeoutMs ?? 15_000);
    await this.flush();
    this.stopped = true;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.draining && this.queue.length > 0) {
      this.draining = this.drain().finally(() => {
        this.draining = null;
        // An entry appended between the end of the loop and this callback would wait for no timer.
        if (this.queue.length > 0 && !this.timer) this.timer = setTimeout(() => this.kick(), 0);
      });
    }
  }

  private async drain(): Promise<void> {
    const maxBatch = this.options.maxBatch ?? 200;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, maxBatch);
      try {
        await this.write(batch);
        this.queue.splice(0, batch.length);
        if (this.failures > 0) this.logger.info('audit log writes resumed', { after_failures: this.failures });
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const waitMs = Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)) * (0.5 + Math.random() / 2);
        this.logger.warn('audit log write failed; retrying', { entries: this.queue.length, attempt: this.failures, retry_in_ms: Math.round(waitMs), err });
        if (this.stopDeadline !== null && Date.now() + waitMs > this.stopDeadline) {
          this.giveUp();
          return;
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  private giveUp(): void {
    const entries = this.queue.splice(0);
    this.logger.error('audit log unreachable at stop: the entries not written follow, one line each', { entries: entries.length });
    for (const e of entries) this.logger.error('audit entry not written', { audit: { ...e, at: e.at.toISOString() } });
  }

  private async write(batch: readonly AuditEntry[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(?)', [AUDIT_APPEND_LOCK]);
      const last = await trx('ops.audit_log').orderBy('seq', 'desc').first<{ seq: string; hash: string } | undefined>('seq', 'hash');
      const rows = chainEntries(batch, last ? { seq: BigInt(last.seq), hash: last.hash } : null);
      await trx('ops.audit_log').insert(rows.map(toColumns));
      await this.noteLastUse(trx, batch);
    });
  }

  /**
   * When each key was last used, for `liandong agency list`: one statement per key per batch,
   * not per request. In a savepoint, because it is a convenience: if it fails, the audit rows
   * still go in.
   */
  private async noteLastUse(trx: Knex.Transaction, batch: readonly AuditEntry[]): Promise<void> {
    const lastUse = new Map<string, Date>();
    for (const e of batch) if (e.keyId && (lastUse.get(e.keyId)?.getTime() ?? 0) < e.at.getTime()) lastUse.set(e.keyId, e.at);
    if (lastUse.size === 0) return;
    try {
      await trx.transaction(async (sp) => {
        for (const [keyId, at] of lastUse) {
          await sp('ops.api_keys').where({ key_id: keyId }).andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', at)).update({ last_used_at: at });
        }
      });
    } catch (err) {
      this.logger.warn('could not note when keys were last used', { keys: lastUse.size, err });
    }
  }
}

/** Advisory lock id of audit appends ('ldaudit' in ASCII); any number works if nothing else uses it. */
export const AUDIT_APPEND_LOCK = 0x6c6461756469;

function toColumns(r: ChainedRow): Record<string, unknown> {
  return {
    seq: r.seq.toString(),
    at: r.at,
    request_id: r.requestId,
    key_id: r.keyId,
    agency_code: r.agencyCode,
    method: r.method,
    route: r.route,
    dataset: r.dataset,
    record_count: r.recordCount,
    status: r.status,
    outcome: r.outcome,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}
