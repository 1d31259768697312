import { createHmac } from 'node:crypto';

/**
 * HMAC-SHA256 hex of a normalised identifier. Keyed, because ID and phone numbers have so few
 * possible values that a plain hash is reversed by enumerating them; the secret lives in
 * configuration and is passed in, so parsers stay pure.
 */
export function keyedHash(value: string, secret: string): string {
  // An empty key would make the hash as guessable as a plain one: a configuration bug, not data.
  if (secret.length === 0) throw new TypeError('keyedHash needs a non-empty secret');
  return createHmac('sha256', secret).update(value, 'utf8').digest('hex');
}
