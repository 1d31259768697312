import { spawn } from 'node:child_process';
import path from 'node:path';

export const CLI = path.resolve(__dirname, '..', '..', 'bin', 'liandong.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `liandong <args>` as a user would, in a child process. With `isolated`, configuration
 * overrides inherited from this process (LIANDONG__…) are dropped, so a test's own
 * configuration file alone decides (e.g. a second stack on ports of its own).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000, isolated = false): Promise<CliResult> {
  const inherited = isolated ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIANDONG__'))) : process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`liandong ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
