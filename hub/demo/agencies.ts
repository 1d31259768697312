import fs from 'node:fs';
import path from 'node:path';
import knex, { Knex } from 'knex';
import YAML from 'yaml';
import type { Config } from '../../lib/config';
import { startEnforcementApi, PENALTIES_PATH } from '../../connectors/simulators/enforcement-api';
import { startHotlineApi, TICKETS_PATH } from '../../connectors/simulators/hotline-api';
import { seedProcuratorateDb, SUPERVISION_TABLE, updateSome } from '../../connectors/simulators/procuratorate-db';
import type { SimulatedApi } from '../../connectors/simulators/api-server';
import { mariadbConnection } from '../stack/service-mariadb';

/**
 * The agency systems of `npm start`: the market regulator's penalty API, the 12345 ticket feed
 * and the procuratorate's database (a table in the stack's MariaDB), all simulated from one seed
 * and growing every few seconds, so the scheduled connectors always find something new.
 *
 * The demo's source definitions are the shipped ones (config/sources) with a connector section
 * pointing at these systems, written to `<stack dir>/demo/sources`; push sources are copied as
 * they are. The mappings are the shipped ones: the demo exercises the real definitions.
 */
export interface DemoAgencies {
  sourcesDir: string;
  systems: Array<{ name: string; where: string }>;
  stop(): Promise<void>;
}

const PASSWORD_ENV = 'LIANDONG_DEMO_AGENCY_DB_PASSWORD';

export async function startDemoAgencies(config: Config): Promise<DemoAgencies> {
  const { demo } = config;
  const suffix = demo.run_id ? `-${demo.run_id}` : '';
  const table = demo.run_id ? `${SUPERVISION_TABLE}_${demo.run_id.replace(/-/g, '_')}` : SUPERVISION_TABLE;
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const penalties: SimulatedApi = await startEnforcementApi({ seed: demo.seed, count: 1500, port: demo.enforcement_api_port });
    started.push(penalties);
    const tickets: SimulatedApi = await startHotlineApi({ seed: demo.seed, count: 2500, port: demo.hotline_api_port });
    started.push(tickets);
    const maria = mariadbConnection(config);
    process.env[PASSWORD_ENV] = maria.password;
    const agencyDb: Knex = knex({ client: 'mysql2', connection: { ...maria, timezone: 'Z' }, pool: { min: 0, max: 2 } });
    started.push({ close: () => agencyDb.destroy() });
    const held = await agencyDb.schema.hasTable(table).then(async (has) => (has ? Number((await agencyDb(table).count({ n: '*' }))[0].n) : 0));
    if (held === 0) await seedProcuratorateDb(agencyDb, { seed: demo.seed, count: 800, table });

    const connectors: Record<string, Record<string, unknown>> = {
      'jq-amr-penalty': { kind: 'http-pull', config: { url: penalties.url + PENALTIES_PATH, style: 'page', page_size: 500, total_path: 'total', timeout_ms: 5000 } },
      'jq-12345': {
        kind: 'http-pull',
        config: { url: tickets.url + TICKETS_PATH, style: 'cursor', since_param: 'since', items_path: 'data', updated_at_field: '更新时间', id_field: '工单编号', page_size: 500, timeout_ms: 5000 },
      },
      'jq-procuratorate': {
        kind: 'db-pull',
        config: { client: 'mysql2', host: maria.host, port: maria.port, database: maria.database, user: maria.user, password_env: PASSWORD_ENV, table, updated_at_column: 'updated_at', id_column: 'id', batch_size: 1000 },
      },
    };
    const sourcesDir = writeDemoSources(config, connectors, suffix);

    let tick = 0;
    let growing = Promise.resolve();
    const timer = setInterval(() => {
      tick++;
      penalties.grow(30);
      tickets.grow(50);
      growing = growing.then(async () => {
        await seedProcuratorateDb(agencyDb, { seed: demo.seed + tick, count: 10, table });
        if (tick % 3 === 0) await updateSome(agencyDb, 2, { table, seed: tick });
      }).catch(() => undefined);
    }, demo.grow_every_s * 1000);
    timer.unref();

    return {
      sourcesDir,
      systems: [
        { name: '市场监管 penalty API (http-pull, page/offset)', where: penalties.url + PENALTIES_PATH },
        { name: '12345 ticket feed (http-pull, cursor)', where: tickets.url + TICKETS_PATH },
        { name: '检察院 supervision database (db-pull, MariaDB)', where: `mysql://${maria.host}:${maria.port}/${maria.database}.${table}` },
      ],
      stop: async () => {
        clearInterval(timer);
        await growing;
        for (const s of started.reverse()) await s.close();
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    throw err;
  }
}

/** The shipped source definitions, each pull source given its demo connector and schedule; push sources as they are. */
function writeDemoSources(config: Config, connectors: Record<string, Record<string, unknown>>, suffix: string): string {
  const dir = path.join(config.stack.dir, 'demo', `sources${suffix}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const shipped = config.sources_dir;
  for (const name of fs.readdirSync(shipped).filter((n) => /\.ya?ml$/.test(n))) {
    const doc = YAML.parse(fs.readFileSync(path.join(shipped, name), 'utf8')) as Record<string, any>;
    const connector = connectors[doc.id];
    if (connector) doc.connector = { ...connector, schedule: config.demo.schedule };
    else if (doc.connector?.kind !== 'push') continue;
    doc.id = `${doc.id}${suffix}`;
    fs.writeFileSync(path.join(dir, `${doc.id}.yaml`), YAML.stringify(doc));
  }
  return dir;
}
