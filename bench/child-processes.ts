import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { onInterrupt } from './interrupt';

const CLI = path.resolve(__dirname, '../bin/liandong.js');
const TAIL_LINES = 40;

interface Child {
  name: string;
  process: ChildProcess;
  output: string[];
  exited: Promise<void>;
}

/**
 * Hub services run as `node bin/liandong.js …` child processes, each the leader of a process
 * group of its own, so that stopping one reaches anything it started. Being detached, they
 * would outlive a bench stopped by Ctrl-C or dying: until `stopAll`, an 'exit' hook and an
 * interrupt step kill their groups.
 */
export class HubProcesses {
  private readonly children: Child[] = [];
  private readonly killAll = () => {
    for (const child of this.children) killGroup(child, 'SIGKILL');
  };
  private readonly forgetInterrupt = onInterrupt(this.killAll);

  constructor() {
    process.on('exit', this.killAll);
  }

  /** Starts `liandong <args>` and resolves once a line of its stdout matches `ready`. */
  async start(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 120_000): Promise<void> {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const child: Child = { name, process: proc, output: [], exited: new Promise((resolve) => proc.once('exit', () => resolve())) };
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not say it was running within ${timeoutMs} ms:\n${child.output.join('\n')}`)), timeoutMs);
      const keep = (stream: NodeJS.ReadableStream) => {
        let partial = '';
        stream.on('data', (data: Buffer) => {
          const lines = (partial + data.toString('utf8')).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            child.output.push(line);
            if (child.output.length > TAIL_LINES) child.output.shift();
            if (ready.test(line)) {
              clearTimeout(timer);
              resolve();
            }
          }
        });
      };
      keep(proc.stdout!);
      keep(proc.stderr!);
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${signal ?? code}) before it was running:\n${child.output.join('\n')}`));
      });
    });
  }

  /** Whether every child is still running; the name and output of the first that is not. */
  failed(): string | null {
    const dead = this.children.find((c) => c.process.exitCode !== null || c.process.signalCode !== null);
    return dead ? `${dead.name} exited (${dead.process.signalCode ?? dead.process.exitCode}):\n${dead.output.join('\n')}` : null;
  }

  /** SIGTERM to each process group (the services stop their consumers cleanly), SIGKILL after `graceMs`. */
  async stopAll(graceMs = 15_000): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await child.exited;
        clearTimeout(timer);
        // A service's own children, if any, outlive it in the group: end them too.
        killGroup(child, 'SIGKILL');
      }),
    );
    process.off('exit', this.killAll);
    this.forgetInterrupt();
  }
}

function killGroup(child: Child, signal: NodeJS.Signals): void {
  if (child.process.pid === undefined) return;
  try {
    process.kill(-child.process.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
