import type { Config } from '../../lib/config';
import { table } from '../cli/output';
import { pipelineStatus } from '../pipeline-status';
import { runHub } from '../run-hub';
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
        let busy = false;
        const print = async () => {
          if (busy) return;
          busy = true;
          try {
            const status = await pipelineStatus(rt, rt.sources.values());
            say(`── ${new Date().toISOString()} ── warehouse sink behind by ${status.warehouseLag} message(s)`);
            say(
              table(
                status.sources.map((s) => ({
                  source: s.source,
                  kind: s.kind,
                  landed: s.landed,
                  'normaliser lag': s.normaliserLag,
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
        return { stop: () => clearInterval(timer) };
      },
    });
  } finally {
    await agencies.stop();
  }
}
