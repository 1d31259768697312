import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StackError } from '../../lib/errors';
import { run } from './process';
import { isRoot } from './system';

/**
 * The database servers of the stack (PostgreSQL, MariaDB) refuse to run as root: when we are
 * root they run as an unprivileged user, in a data directory that user owns and can reach.
 */
export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/**
 * The first of `candidates` that exists (a package's own account, e.g. `postgres` or `mysql`),
 * else a `liandong` system user, created when missing.
 */
export function serviceUser(service: string, candidates: string[]): RunAs {
  for (const name of [...candidates, 'liandong']) {
    const id = lookupUser(name);
    if (id) return id;
  }
  const created = run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'liandong']);
  const id = lookupUser('liandong');
  if (!id) throw new StackError(service, 'NO_SERVICE_USER', `cannot run as root and could not create a user: ${created.stderr.trim()}`);
  return id;
}

/** An existing data directory is run by the user that owns it (the servers insist). */
export function dataDirOwner(dataDir: string): RunAs | null {
  try {
    const st = fs.statSync(dataDir);
    if (st.uid === 0) return null;
    const name = run('id', ['-nu', String(st.uid)]).stdout.trim() || String(st.uid);
    return { name, uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

/** Who runs a server whose data lives in `dataDir`: its owner, else a service user; null when we are not root. */
export function runAsFor(service: string, dataDir: string, candidates: string[]): RunAs | null {
  if (!isRoot()) return null;
  return dataDirOwner(dataDir) ?? serviceUser(service, candidates);
}

function lookupUser(name: string): RunAs | null {
  const uid = run('id', ['-u', name]);
  const gid = run('id', ['-g', name]);
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * A server's data directory: `<stack>/<name>` when the service user can reach the stack
 * folder; a checkout under a private home (e.g. /root) cannot be reached, so the data then
 * goes to a folder under /var/lib/liandong named after the stack folder.
 */
export function serviceDataDir(stackDir: string, name: string): string {
  const preferred = path.join(stackDir, name);
  // Any unprivileged user must be able to reach it: test with a uid and gid nobody shares.
  if (!isRoot() || canTraverse(stackDir, { name: 'other', uid: -1, gid: -1 })) return preferred;
  const tag = crypto.createHash('sha256').update(stackDir).digest('hex').slice(0, 12);
  return path.join('/var/lib/liandong', tag, name);
}

/** Creates an empty data directory (mode 0700) owned by the user that will run the server. */
export function createDataDir(dataDir: string, runAs: RunAs | null): void {
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) fs.chownSync(dataDir, runAs.uid, runAs.gid);
}

function canTraverse(dir: string, user: RunAs): boolean {
  let current = path.resolve(dir);
  const chain: string[] = [];
  while (true) {
    chain.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of chain) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch {
      continue; // not created yet; its parent decides
    }
    const mode = st.mode;
    const ok = st.uid === user.uid ? mode & 0o100 : st.gid === user.gid ? mode & 0o010 : mode & 0o001;
    if (!ok) return false;
  }
  return true;
}
