import { spawn, spawnSync, SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** Process helpers for services that run as plain, detached processes with pid files. */

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers signal 0; it is not running.
  const stat = readProc(pid, 'stat');
  return stat === null || !/^\d+ \(.*\) Z /.test(stat);
}

function readProc(pid: number, file: string): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** The command line of a process, arguments joined by spaces ('' when it is gone). */
export function commandLine(pid: number): string {
  return (readProc(pid, 'cmdline') ?? '').split('\0').join(' ').trim();
}

/** Pids of every live process whose process group is `pgid` (the service and its children). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), 'stat');
    if (!stat) continue;
    // Fields after the parenthesised command: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** Pids of every live process whose program name (/proc/<pid>/comm) is one of `names`. */
export function pidsNamed(names: readonly string[]): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = readProc(Number(entry), 'comm')?.trim();
    if (comm && names.includes(comm) && isAlive(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}

/** Resident memory of a process group in KiB. */
export function groupRssKb(pgid: number): number {
  let total = 0;
  for (const pid of processGroupMembers(pgid)) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status') ?? '');
    if (match) total += Number(match[1]);
  }
  return total;
}

export interface DetachedSpec {
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/**
 * Starts a process in a new process group, its stdout and stderr appended to `logFile`,
 * and lets it outlive this one. Returns its pid, which is also its process group id.
 */
export function spawnDetached(spec: DetachedSpec): number {
  const log = fs.openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
      uid: spec.uid,
      gid: spec.gid,
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Signals a whole process group and waits for every member to exit; escalates to
 * SIGKILL after `timeoutMs`. Resolves with true when the group had to be killed.
 */
export async function stopGroup(pgid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  signalGroup(pgid, signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processGroupMembers(pgid).length === 0 && !isAlive(pgid)) return false;
    await sleep(200);
  }
  signalGroup(pgid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (Date.now() < killDeadline && (processGroupMembers(pgid).length > 0 || isAlive(pgid))) await sleep(100);
  return true;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Whether something already listens on 127.0.0.1:port (or the port cannot be bound). */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** Whether a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The last `lines` lines of a file ('' when it does not exist). */
export function tailFile(file: string, lines = 30): string {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
  return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).slice(-lines).join('\n');
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** Runs a command to completion and captures its output (never through a shell). */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): RunResult {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return {
    status: result.status,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    error: result.error,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it answers true or `timeoutMs` passes. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, isDead?: () => boolean): Promise<'ready' | 'timeout' | 'died'> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return 'ready';
    if (isDead?.()) return 'died';
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
  return 'timeout';
}

/** Like `run`, without blocking the event loop, so downloads can proceed side by side. */
export function runAsync(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    const finish = (status: number | null, error?: Error) => {
      if (timer) clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), error });
    };
    child.once('error', (error) => finish(null, error));
    child.once('close', (status) => finish(status));
  });
}
