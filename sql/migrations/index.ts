import type { Knex } from 'knex';
import * as schemas from './20261127000100-schemas';
import * as opsDlq from './20261127000200-ops-dlq';
import * as opsConnectors from './20261127000300-ops-connectors';
import * as core from './20261127000400-core';
import * as partyLinkMart from './20261127000500-party-link-mart';
import * as apiKeysAudit from './20261127000600-api-keys-audit';
import * as ingestReceipts from './20261127000700-ingest-receipts';
import * as supervisionCaseIds from './20261127000800-supervision-case-ids-index';
import * as ginFastupdateOff from './20261127000900-gin-fastupdate-off';
import * as dropCreditCodeIndexes from './20261127001000-drop-credit-code-indexes';
import * as noStatisticsOnDocuments from './20261127001100-no-statistics-on-documents';
import * as partySeenReadFromHistory from './20261127001200-party-seen-read-from-history';

/**
 * Every migration, in order. An explicit list rather than a folder scan: the same code
 * runs from TypeScript sources, compiled JavaScript and under Jest.
 */
export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Knex.Migration]> = [
  ['20261127000100-schemas', schemas],
  ['20261127000200-ops-dlq', opsDlq],
  ['20261127000300-ops-connectors', opsConnectors],
  ['20261127000400-core', core],
  ['20261127000500-party-link-mart', partyLinkMart],
  ['20261127000600-api-keys-audit', apiKeysAudit],
  ['20261127000700-ingest-receipts', ingestReceipts],
  ['20261127000800-supervision-case-ids-index', supervisionCaseIds],
  ['20261127000900-gin-fastupdate-off', ginFastupdateOff],
  ['20261127001000-drop-credit-code-indexes', dropCreditCodeIndexes],
  ['20261127001100-no-statistics-on-documents', noStatisticsOnDocuments],
  ['20261127001200-party-seen-read-from-history', partySeenReadFromHistory],
];
