import { Draws, mix } from './draws';

/**
 * The simulated history behind the agency API simulators: records arrive in bursts (every
 * record of a burst shares one timestamp, like a nightly batch export), and a record may
 * get later versions (a correction, a ticket moving to its next status) in a later burst.
 *
 * Nothing here holds a record's content. Record r's later versions, a burst's size and the
 * gap before it are each derived from (seed, r) or (seed, burst), so the API builds a
 * record's payload only when a request asks for it. The index costs a few numbers per burst
 * plus two per later version (three while it is still due): a million penalty cases take
 * about 10 MB, a million tickets with their status changes about 40 MB.
 */

export interface TimelineShape {
  /** Seconds since the epoch of the first burst. */
  startSeconds: number;
  /** New records in a burst (the last burst of a `grow` may be smaller). */
  burstSize(draws: Draws): number;
  /** Seconds between a burst and the previous one (≥ 1, so every burst has its own timestamp). */
  gapSeconds(draws: Draws): number;
  /**
   * Bursts after its first arrival at which a record's later versions arrive, ascending and
   * ≥ 1 apart, so two versions of one record never share a timestamp. [] = never changes.
   */
  laterVersions(draws: Draws): number[];
}

/** One version of one record, as it arrived in a burst. */
export interface Arrival {
  record: number;
  version: number;
}

const SALT_SIZE = 1;
const SALT_GAP = 2;
const SALT_VERSIONS = 3;

export class Timeline {
  private readonly starts: number[] = [];
  private readonly times: number[] = [];
  /** Versions of a record that are its latest, per burst: what an API serving only the latest sees. */
  private readonly latest: number[] = [];
  /**
   * Later versions by the burst they arrive in: [record, version…] for bursts that exist,
   * [record, version, burst of the version before…] for future ones.
   */
  private readonly later = new Map<number, number[] | Int32Array>();
  private records = 0;

  constructor(
    private readonly seed: number,
    private readonly shape: TimelineShape,
  ) {}

  get count(): number {
    return this.records;
  }

  get burstCount(): number {
    return this.starts.length;
  }

  /** Seconds since the epoch shared by every arrival of burst b. */
  time(b: number): number {
    return this.times[b];
  }

  /** Arrivals in burst b that are still their record's latest version. */
  latestIn(b: number): number {
    return this.latest[b];
  }

  /** All arrivals in burst b, latest or not. */
  arrivalsIn(b: number): number {
    const newRecords = (b + 1 < this.starts.length ? this.starts[b + 1] : this.records) - this.starts[b];
    return newRecords + (this.later.get(b)?.length ?? 0) / 2;
  }

  /**
   * Appends n new records in new bursts, with later timestamps than anything before. Later
   * versions of earlier records that fall due in those bursts arrive with them.
   */
  grow(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`grow: n must be a non-negative integer, got ${n}`);
    while (n > 0) {
      const b = this.starts.length;
      const size = Math.min(n, Math.max(1, this.shape.burstSize(new Draws(mix(this.seed, b, SALT_SIZE)))));
      const previous = b === 0 ? this.shape.startSeconds : this.times[b - 1] + Math.max(1, this.shape.gapSeconds(new Draws(mix(this.seed, b, SALT_GAP))));
      this.starts.push(this.records);
      this.times.push(previous);
      const due = this.later.get(b) ?? [];
      this.latest.push(size + due.length / 3);
      const arrived = new Int32Array((due.length / 3) * 2);
      for (let i = 0, j = 0; i < due.length; i += 3, j += 2) {
        // A later version arriving now retires the version before it from the latest view.
        this.latest[due[i + 2]]--;
        arrived[j] = due[i];
        arrived[j + 1] = due[i + 1];
      }
      // Once its burst exists a list never changes again: keep it compact.
      this.later.set(b, arrived);
      for (let r = this.records; r < this.records + size; r++) {
        const offsets = this.offsets(r);
        for (let v = 1; v < offsets.length; v++) {
          const at = b + offsets[v];
          const list = this.later.get(at);
          // Records are scheduled in ascending order, so each burst's list stays sorted by record.
          if (Array.isArray(list)) list.push(r, v, b + offsets[v - 1]);
          else this.later.set(at, [r, v, b + offsets[v - 1]]);
        }
      }
      this.records += size;
      n -= size;
    }
  }

  /** Burst offsets of record r's versions: [0, …later]. */
  offsets(r: number): number[] {
    return [0, ...this.shape.laterVersions(new Draws(mix(this.seed, r, SALT_VERSIONS)))];
  }

  /** The burst record r first arrived in. */
  recordBurst(r: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= r) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Bursts of record r's versions that have arrived so far, oldest first. */
  arrivedBursts(r: number): number[] {
    const first = this.recordBurst(r);
    return this.offsets(r)
      .map((offset) => first + offset)
      .filter((b) => b < this.starts.length);
  }

  isLatest(record: number, version: number): boolean {
    return this.arrivedBursts(record).length === version + 1;
  }

  /**
   * Everything that arrived in burst b, in the order the APIs serve it: by record number,
   * which is also id order, since ids are zero-padded record numbers. Corrections come
   * from earlier records, so they sort before the burst's new records.
   */
  arrivals(b: number): Arrival[] {
    const out: Arrival[] = [];
    const due = this.later.get(b) ?? [];
    for (let i = 0; i < due.length; i += 2) out.push({ record: due[i], version: due[i + 1] });
    const end = b + 1 < this.starts.length ? this.starts[b + 1] : this.records;
    for (let r = this.starts[b]; r < end; r++) out.push({ record: r, version: 0 });
    return out;
  }

  /** The first burst whose timestamp is at or after `seconds` (burstCount when there is none). */
  firstBurstFrom(seconds: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid] >= seconds) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Latest versions from burst `from` on, in serving order: a ground truth lazily walked. */
  *latestFrom(from = 0): Generator<Arrival & { burst: number }> {
    for (let b = from; b < this.starts.length; b++) {
      if (this.latest[b] === 0) continue;
      for (const a of this.arrivals(b)) if (this.isLatest(a.record, a.version)) yield { ...a, burst: b };
    }
  }
}
