import { RECORD_ID_FIELD } from '../../../pipelines/normalise/canonical-fields';
import { CORE_TABLES, type CoreTable } from '../../../pipelines/warehouse/core-rows';
import { DATASET_TOPICS, type Dataset } from '../../../schemas/catalog';
import { enumSymbols } from './fields';

/**
 * How the exchange API reads each dataset from the warehouse: its table, the party it is
 * about, the date its records are filtered and ordered by, and which enum the `domain`
 * filter means. Symbols come from the Avro schemas, so a new status is a valid filter as
 * soon as the schema has it.
 */
export interface DatasetReading {
  dataset: Dataset;
  topic: string;
  table: CoreTable;
  idColumn: string;
  /** SQL of the record's main date, never null, and its PostgreSQL type. */
  sortSql: string;
  sortType: 'date' | 'timestamptz';
  /** The main date, for people. */
  mainDate: string;
  statuses: readonly string[];
  /** The `domain` filter: which column, and whether it is one value or a list. */
  domain: { column: string; array: boolean; symbols: readonly string[] } | null;
}

const SHANGHAI_DAY = (col: string) => `(${col} at time zone 'Asia/Shanghai')::date`;

function reading(dataset: Dataset, sortSql: string, sortType: 'date' | 'timestamptz', mainDate: string, domain: DatasetReading['domain']): DatasetReading {
  return {
    dataset,
    topic: DATASET_TOPICS[dataset],
    table: CORE_TABLES[dataset],
    idColumn: RECORD_ID_FIELD[dataset],
    sortSql,
    sortType,
    mainDate,
    statuses: enumSymbols(dataset, 'status'),
    domain,
  };
}

export const READINGS: Readonly<Record<Dataset, DatasetReading>> = Object.freeze({
  'enforcement-case': reading(
    'enforcement-case',
    `coalesce(decided_on, occurred_on, ${SHANGHAI_DAY('source_updated_at')})`,
    'date',
    'decided_on, else occurred_on, else the day of its source version (Asia/Shanghai)',
    { column: 'domain', array: false, symbols: enumSymbols('enforcement-case', 'domain') },
  ),
  'hotline-ticket': reading(
    'hotline-ticket',
    'received_at',
    'timestamptz',
    'received_at (date filters use the day in Asia/Shanghai)',
    // A ticket's domain is the linkage topics it touches (environment, wage arrears…).
    { column: 'topics', array: true, symbols: enumSymbols('hotline-ticket', 'topics') },
  ),
  'supervision-record': reading(
    'supervision-record',
    `coalesce(issued_on, ${SHANGHAI_DAY('source_updated_at')})`,
    'date',
    'issued_on, else the day of its source version (Asia/Shanghai)',
    null,
  ),
});

export const DATASETS = Object.keys(DATASET_TOPICS) as Dataset[];

/** How a source's records reach the hub: pushed through the API (a `push` connector) or pulled by a connector. */
export function deliveryOf(source: { connector?: { kind: string } | null }): 'pull' | 'push' {
  return !source.connector || source.connector.kind === 'push' ? 'push' : 'pull';
}
