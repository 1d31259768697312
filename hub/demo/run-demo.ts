import type { Config } from '../../lib/config';
import { table } from '../cli/output';
import { PipelineReader } from '../api/metrics-pipeline';
import { sourceStatus } from '../pipeline-status';
import { runHub, WAREHOUSE_CONSUMER } from '../run-hub';
import { createStack, up } from '../stack/stack';
import { startDemoAgencies } from './agencies';

/**
 * `npm start`: the local stack, the simulated agency systems, and the whole hub pulling from
 * them on a schedule — with a live summary of where every source's records are, until Ctrl-C.
 */
export async function runDemo(config: Config, say: (line: string) => void, summaryEveryMs = 15_000): Promise<void> {
  await up(createStack(config), say);
  const agencies = await startDemoAgencies(config);
  try {
    say('simulated agency systems:');
    for (const s of agencies.systems) say(`  ${s.name}: ${s.where}`);
    const demoConfig: Config = { ...config, sources_dir: agencies.sourcesDir };
    await runHub(demoConfig, say, {
      running: (rt) => {
        const base = `http://${config.hub.host}:${config.hub.port}`;
        say(`open ${base}/v1/docs for the API; create a key with: npx liandong agency add <code> --name <name> --scopes read:*`);
        const reader = new PipelineReader({ kafka: rt.kafka, db: rt.db, logger: rt.logger, sourceIds: [...rt.sources.keys()], normaliserGroup: rt.config.normaliser.group_id, cacheMs: 0 });
        let busy = false;
        const print = async () => {
          if (busy) return;
          busy = true;
          try {
            const snapshot = await reader.snapshot();
            const behind = (pipeline: 'normaliser' | 'warehouse', consumer: string) => snapshot.lag.find((l) => l.pipeline === pipeline && l.consumer === consumer)?.messages ?? 0;
            say(`── ${new Date().toISOString()} ── normaliser behind by ${behind('normaliser', rt.config.normaliser.group_id)}, warehouse sink by ${behind('warehouse', WAREHOUSE_CONSUMER)} message(s)`);
            const rows = await sourceStatus(rt.db, snapshot, rt.sources.values());
            say(
              table(
                rows.map((s) => ({
                  source: s.source,
                  kind: s.kind,
                  landed: s.landed,
                  'dead letters': s.dlqOpen,
                  'warehouse rows': s.warehouseRows,
                  'last pull': s.lastRun ? `${s.lastRun.status} (${s.lastRun.read} read)` : '-',
                })),
              ),
            );
          } catch (err) {
            rt.logger.warn('summary not available', { error: err });
          } finally {
            busy = false;
          }
        };
        const timer = setInterval(() => void print(), summaryEveryMs);
        return {
          stop: () => {
            clearInterval(timer);
            void reader.stop();
          },
        };
      },
    });
  } finally {
    await agencies.stop();
  }
}
