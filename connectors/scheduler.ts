import cron, { ScheduledTask } from 'node-cron';
import type { SourceDefinition } from '../pipelines/normalise/mapping';
import { runSource, RunnerDeps, RunSummary } from './runner';

/**
 * Runs every source with a schedule on it (node-cron, Asia/Shanghai). A tick that finds the
 * previous run of the same source still going is skipped; across processes the runner's
 * advisory lock keeps runs of one source from overlapping.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Set<string>();
  readonly last = new Map<string, RunSummary>();

  constructor(private readonly deps: RunnerDeps, private readonly sources: Map<string, SourceDefinition>) {}

  start(): number {
    for (const source of this.sources.values()) {
      const schedule = source.connector?.schedule;
      if (!schedule) continue;
      this.tasks.push(cron.schedule(schedule, () => void this.tick(source), { timezone: 'Asia/Shanghai', name: source.id }));
    }
    return this.tasks.length;
  }

  private async tick(source: SourceDefinition): Promise<void> {
    if (this.running.has(source.id)) {
      this.deps.logger.info('previous run still going; tick skipped', { source: source.id });
      return;
    }
    this.running.add(source.id);
    try {
      this.last.set(source.id, await runSource(this.deps, source, { trigger: 'schedule' }));
    } catch (err) {
      this.deps.logger.warn('scheduled run not started', { source: source.id, error: err });
    } finally {
      this.running.delete(source.id);
    }
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.stop();
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
}
