import { spawn } from 'node:child_process';
import { CLI } from '../support/cli';
import { eventually, freePort } from '../support/helpers';

describe('npm start: the hub as a newcomer first meets it', () => {
  it('brings up the stack, migrates, serves health and readiness, and stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'demo'], {
      env: { ...process.env, LIANDONG__HUB__PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      await eventually(() => output.includes('hub listening on'), 240_000, `the hub to listen (output so far:\n${output})`);
      expect(output).toMatch(/migrations (applied|up to date)/);
      expect(output).toContain('schemas registered (BACKWARD) and topics ready for 3 source(s); normaliser running');

      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });

      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await ready.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
      expect(ready.status).toBe(200);
      expect(body.status).toBe('ready');
      expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
        ['kafka', true],
        ['registry', true],
        ['postgres', true],
      ]);

      const missing = await fetch(`http://127.0.0.1:${port}/nowhere`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('stopping the hub');
  });
});
