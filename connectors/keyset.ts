import { parseTimestamp } from '../pipelines/normalise/parsers/parse-date';

/**
 * The incremental cursor of pulled sources: the (updated_at, id) of the last record delivered.
 * Records are read in that order, so anything at or below the watermark was delivered before —
 * even when many records share one updated_at and a page boundary falls among them.
 */
export interface Watermark {
  /** As the source wrote it (e.g. '2025-06-04 10:00:00'); used in requests. */
  updated_at: string;
  /** UTC epoch ms of `updated_at`, for comparing. */
  at: number;
  id: string;
}

export function watermarkOf(updatedAt: unknown, id: unknown): Watermark | null {
  if (updatedAt === null || updatedAt === undefined || id === null || id === undefined) return null;
  const parsed = parseTimestamp(typeof updatedAt === 'number' ? updatedAt : String(updatedAt));
  if (!parsed.ok) return null;
  return { updated_at: String(updatedAt), at: parsed.value.millis, id: String(id) };
}

/** Compares ids as the sources order them: numbers numerically, text by code points. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareWatermarks(a: Watermark, b: Watermark): number {
  return a.at !== b.at ? a.at - b.at : compareIds(a.id, b.id);
}

/** Whether a record at `w` comes after the watermark (and so has not been delivered yet). */
export function isAfter(w: Watermark, watermark: Watermark | null): boolean {
  return watermark === null || compareWatermarks(w, watermark) > 0;
}
