import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { ConfigError } from './errors';
import { createLogger } from './log';

let warned = false;

/**
 * The PII hashing key. Production sets LIANDONG_PII_SECRET (NODE_ENV=production refuses to
 * run without it). On a development or test machine without it, a random key is generated
 * once into the local stack's folder (mode 0600, git-ignored) so that hashes stay stable
 * across runs of that machine's stack.
 */
export function piiSecret(config: Config): string {
  if (config.secrets.piiSecret) return config.secrets.piiSecret;
  if (process.env.NODE_ENV === 'production') {
    throw new ConfigError('LIANDONG_PII_SECRET is not set: the hub cannot hash ID and phone numbers without it');
  }
  const file = path.join(config.stack.dir, 'dev-pii-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.stack.dir, { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (!warned) {
    warned = true;
    createLogger({ component: 'secrets' }).warn('LIANDONG_PII_SECRET not set: using the development key of the local stack', { file });
  }
  return fs.readFileSync(file, 'utf8').trim();
}
