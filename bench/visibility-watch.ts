import type { Knex } from 'knex';
import { CORE_TABLES } from '../pipelines/warehouse/core-rows';
import type { Dataset } from '../schemas/catalog';

export interface Seen {
  handedAt: number;
  /** Handover → visible. */
  ms: number;
  /**
   * Handover → the row's `recorded_at` (the canonical message's timestamp, i.e. when the
   * normaliser produced it): the normaliser's share of `ms`. Null when a newer version of the
   * record arrived in the same batch, whose time it would be.
   */
  normaliserMs: number | null;
}

interface Waiting {
  /** `source_updated_at` of the version, epoch ms: visible once the current row is at least this new. */
  version: number;
  handedAt: number;
}

/**
 * Watches the warehouse's current tables for versions the bench handed to the producer, and
 * notes when each became visible: the time the first poll that saw it returned (an upper
 * bound, late by at most one poll interval plus the query). A version counts as visible when
 * the current row of its id carries it or a newer one: in one sink batch only the newest
 * version of an id reaches the current table, and its history rows commit in the same
 * transaction.
 */
export class VisibilityWatch {
  private readonly waiting = new Map<Dataset, Map<string, Waiting[]>>();
  private readonly seen: Seen[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  /** The error that stopped polling, if any: the bench fails with it rather than waiting out a timeout. */
  failure: Error | null = null;
  polls = 0;

  constructor(private readonly db: Knex, private readonly intervalMs = 20) {
    for (const dataset of Object.keys(CORE_TABLES) as Dataset[]) this.waiting.set(dataset, new Map());
  }

  expect(dataset: Dataset, id: string, version: number, handedAt: number): void {
    const byId = this.waiting.get(dataset)!;
    const list = byId.get(id);
    if (list) list.push({ version, handedAt });
    else byId.set(id, [{ version, handedAt }]);
  }

  get pending(): number {
    let n = 0;
    for (const byId of this.waiting.values()) for (const list of byId.values()) n += list.length;
    return n;
  }

  /** Every version seen so far, in the order seen. */
  takeSeen(): Seen[] {
    return this.seen.splice(0);
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const began = Date.now();
        try {
          await this.pollOnce();
        } catch (err) {
          this.failure = err as Error;
          this.running = false;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, this.intervalMs - (Date.now() - began))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves once nothing is waiting, or after `timeoutMs`, with how many versions are still waiting. */
  async drained(timeoutMs: number): Promise<number> {
    const giveUp = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < giveUp) {
      if (this.failure) throw this.failure;
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
    if (this.failure) throw this.failure;
    return this.pending;
  }

  private async pollOnce(): Promise<void> {
    const parts: string[] = [];
    const bindings: string[][] = [];
    for (const [dataset, byId] of this.waiting) {
      if (byId.size === 0) continue;
      const { table, idColumn } = CORE_TABLES[dataset];
      parts.push(`select '${dataset}' as dataset, ${idColumn} as id, source_updated_at, recorded_at from core.${table} where ${idColumn} = any(?)`);
      bindings.push([...byId.keys()]);
    }
    if (parts.length === 0) return;
    this.polls++;
    const { rows } = await this.db.raw<{ rows: Array<{ dataset: Dataset; id: string; source_updated_at: Date; recorded_at: Date }> }>(parts.join(' union all '), bindings);
    const seenAt = Date.now();
    for (const row of rows) {
      const byId = this.waiting.get(row.dataset)!;
      const list = byId.get(row.id);
      if (!list) continue;
      const current = row.source_updated_at.getTime();
      const still = list.filter((w) => {
        if (w.version > current) return true;
        const own = w.version === current;
        this.seen.push({ handedAt: w.handedAt, ms: seenAt - w.handedAt, normaliserMs: own ? row.recorded_at.getTime() - w.handedAt : null });
        return false;
      });
      if (still.length > 0) byId.set(row.id, still);
      else byId.delete(row.id);
    }
  }
}
