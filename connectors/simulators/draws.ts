/**
 * Random draws keyed by integers — (seed, record), (seed, request number) — so record r or
 * request n is drawn without drawing everything before it, which is what lets the API
 * simulators serve record 900,000 without building the first 899,999.
 *
 * Math's functions are held in module constants on purpose: under Jest each global lookup
 * crosses the test sandbox, which made a million-record timeline 20 times slower.
 */
const imul = Math.imul;
const floor = Math.floor;

/** A well-mixed 32-bit hash of integers. */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < parts.length; i++) {
    h = imul(h ^ (parts[i] >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** The draws of one key: the k-th draw is mix(key, k), so it needs no generator state carried over. */
export class Draws {
  private k = 0;

  constructor(private readonly key: number) {}

  /** A float in [0, 1). */
  next(): number {
    return mix(this.key, this.k++) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[floor(this.next() * items.length)];
  }
}
