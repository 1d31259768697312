import { z } from 'zod';
import { SourceError } from '../../lib/errors';
import type { ConnectorKind } from '../contract';

/**
 * `push`: a source whose agency sends its records to the exchange API
 * (`POST /v1/ingest/<dataset>`) instead of being pulled. The hub never reads from it, so it has
 * no schedule; its configuration says who may push into it and which field identifies a record.
 *
 * @example
 *   connector:
 *     kind: push
 *     config:
 *       agencies: [11620900MB1952208N]   # the agency_code of the pushing agency's API keys
 *       id_field: case_no                # becomes the raw record key; a record without it is rejected
 */
const PushConfig = z
  .object({
    /** Agency codes (an API key's `agency_code`) allowed to push into this source. */
    agencies: z
      .array(z.string().min(1).max(64))
      .min(1)
      .refine((codes) => new Set(codes).size === codes.length, 'each agency code once')
      .meta({ description: "agency codes (the agency_code of their API keys) allowed to push into this source" }),
    /** The field of a pushed record that identifies it (a dotted path reaches into nested objects). */
    id_field: z.string().min(1).meta({ description: 'field of a pushed record that identifies it; it becomes the raw record key' }),
  })
  .strict();
export type PushConfig = z.infer<typeof PushConfig>;

export const push: ConnectorKind<PushConfig> = {
  kind: 'push',
  description: 'records pushed by the agencies named in the configuration to POST /v1/ingest/<dataset>; never pulled or scheduled',
  config: PushConfig,
  pulled: false,

  async check(config) {
    return `push source: agencies ${config.agencies.join(', ')} post records to the exchange API; there is nothing to reach`;
  },

  // The runner never gets here for a push source from the scheduler (a schedule is refused at
  // load), but `connector run` on one must fail with the reason rather than succeed empty.
  async *read(config) {
    throw new SourceError(`a push source is not pulled: agencies ${config.agencies.join(', ')} post its records to POST /v1/ingest/<dataset>`, undefined, {
      retriable: false,
    });
  },
};
