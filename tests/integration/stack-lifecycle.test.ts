import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isAlive, portInUse, processGroupMembers } from '../../hub/stack/process';
import type { ServiceStatus } from '../../hub/stack/stack';
import { runCli } from '../support/cli';
import { freePort } from '../support/helpers';
import { testConfig } from '../support/stack';

/**
 * A second stack instance, in a folder and on ports of its own, sharing the main stack's
 * download cache — so these tests can stop what they start without touching the stack the
 * other tests use.
 */
async function secondStack(): Promise<{ env: NodeJS.ProcessEnv; dir: string; ports: Record<string, number> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-stack-'));
  fs.chmodSync(dir, 0o755); // PostgreSQL and MariaDB run as an unprivileged user when we are root
  const ports = { kafka: await freePort(), controller: await freePort(), registry: await freePort(), postgres: await freePort(), mariadb: await freePort() };
  const file = path.join(dir, 'liandong.yaml');
  fs.writeFileSync(
    file,
    [
      'stack:',
      `  dir: ${path.join(dir, 'stack')}`,
      `  cache_dir: ${testConfig().stack.cache_dir}`,
      `  kafka: { port: ${ports.kafka}, controller_port: ${ports.controller}, heap_mb: 512 }`,
      `  registry: { port: ${ports.registry}, heap_mb: 384 }`,
      `  postgres: { port: ${ports.postgres} }`,
      `  mariadb: { port: ${ports.mariadb} }`,
      '',
    ].join('\n'),
  );
  return { env: { LIANDONG_CONFIG: file }, dir, ports };
}

async function statusOf(env: NodeJS.ProcessEnv): Promise<ServiceStatus[]> {
  const result = await runCli(['stack', 'status', '--json'], env, undefined, true);
  return JSON.parse(result.stdout) as ServiceStatus[];
}

describe('stack up / status / down', () => {
  it('fails before starting anything when a port is taken, naming the service and the port', async () => {
    const { env, dir, ports } = await secondStack();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(ports.kafka, '127.0.0.1', resolve));
    try {
      const result = await runCli(['stack', 'up'], env, undefined, true);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`error [STACK_PORT_TAKEN] kafka: port ${ports.kafka} on 127.0.0.1 is already in use`);
      expect(result.stderr).toContain('stack.kafka.port');
      const rows = await statusOf(env);
      expect(rows.map((r) => r.health)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    } finally {
      squatter.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts every service healthy, does nothing on a second up, and leaves no process after down', async () => {
    const { env, dir, ports } = await secondStack();
    try {
      const first = await runCli(['stack', 'up'], env, undefined, true);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      const rows = await statusOf(env);
      expect(rows.map((r) => [r.service, r.port, r.health])).toEqual([
        ['postgres', ports.postgres, 'healthy'],
        ['kafka', ports.kafka, 'healthy'],
        ['registry', ports.registry, 'healthy'],
        ['mariadb', ports.mariadb, 'healthy'],
      ]);
      const pids = rows.map((r) => r.pid!);
      expect(pids.every((pid) => isAlive(pid))).toBe(true);

      const again = await runCli(['stack', 'up'], env, undefined, true);
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('stack already running');
      expect((await statusOf(env)).map((r) => r.pid)).toEqual(pids);

      const down = await runCli(['stack', 'down'], env, undefined, true);
      expect(down.status).toBe(0);
      for (const pid of pids) {
        expect(isAlive(pid)).toBe(false);
        expect(processGroupMembers(pid)).toEqual([]);
      }
      for (const port of Object.values(ports)) expect(await portInUse(port)).toBe(false);
      expect((await statusOf(env)).map((r) => r.health)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    } finally {
      await runCli(['stack', 'down'], env, undefined, true);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
