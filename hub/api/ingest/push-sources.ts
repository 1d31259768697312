import { push, type PushConfig } from '../../../connectors/kinds/source-push';
import { ConfigError } from '../../../lib/errors';
import type { Dataset } from '../../../pipelines/normalise/canonical-fields';
import type { SourceDefinition } from '../../../pipelines/normalise/mapping';
import { rawTopic } from '../../../schemas/catalog';

export interface PushSource {
  source: SourceDefinition;
  config: PushConfig;
  topic: string;
}

/**
 * Which source an agency's pushed records of a dataset land in: the push source naming the
 * agency's code. Built once from the source definitions; two push sources claiming the same
 * agency and dataset would make the choice arbitrary, so that is a configuration error.
 *
 * @example
 *   const routes = PushSources.from(rt.sources);
 *   routes.find('11620900MB1952208N', 'enforcement-case')?.source.id   // 'jq-sthj-cases'
 */
export class PushSources {
  private constructor(private readonly byAgency: Map<string, PushSource>, readonly all: readonly PushSource[]) {}

  static from(sources: ReadonlyMap<string, SourceDefinition>): PushSources {
    const byAgency = new Map<string, PushSource>();
    const all: PushSource[] = [];
    for (const source of sources.values()) {
      if (source.connector?.kind !== push.kind) continue;
      const entry: PushSource = { source, config: push.config.parse(source.connector.config), topic: rawTopic(source.id) };
      all.push(entry);
      for (const agency of entry.config.agencies) {
        const key = `${agency}\u0000${source.dataset}`;
        const taken = byAgency.get(key);
        if (taken) {
          throw new ConfigError(
            `${source.file}: agency ${agency} already pushes ${source.dataset} into source ${taken.source.id} (${taken.source.file}); an agency pushes each dataset into one source`,
          );
        }
        byAgency.set(key, entry);
      }
    }
    return new PushSources(byAgency, all);
  }

  find(agencyCode: string, dataset: Dataset): PushSource | undefined {
    return this.byAgency.get(`${agencyCode}\u0000${dataset}`);
  }

  get topics(): string[] {
    return this.all.map((p) => p.topic);
  }
}
