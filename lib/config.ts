import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors';

/**
 * The hub's configuration: one YAML file (`liandong.yaml`), validated before any I/O,
 * with environment overrides. Secrets never live in the file: they come only from the
 * environment (see `Secrets`).
 *
 * Override any key with `LIANDONG__<PATH>` using double underscores between levels, e.g.
 * `LIANDONG__STACK__KAFKA__PORT=29092`. Values are parsed as JSON when they parse
 * (numbers, booleans, arrays), otherwise taken as strings.
 */
const port = z.number().int().min(1).max(65535);

const StackSchema = z
  .object({
    /** Where the local stack keeps data, logs and pid files. */
    dir: z.string().default('.stack'),
    /** Where downloaded jars and archives are cached; shared between stack instances. */
    cache_dir: z.string().default('.stack/cache'),
    kafka: z
      .object({
        port: port.default(19092),
        controller_port: port.default(19093),
        heap_mb: z.number().int().min(128).default(768),
        start_timeout_s: z.number().int().min(5).default(120),
      })
      .strict()
      .prefault({}),
    registry: z
      .object({
        port: port.default(18081),
        heap_mb: z.number().int().min(128).default(512),
        start_timeout_s: z.number().int().min(5).default(180),
      })
      .strict()
      .prefault({}),
    postgres: z
      .object({
        port: port.default(15432),
        /** Directory holding `postgres`, `initdb`; found automatically when absent. */
        bin_dir: z.string().optional(),
        start_timeout_s: z.number().int().min(5).default(60),
      })
      .strict()
      .prefault({}),
    /** A MariaDB standing in for an agency's database (the db-pull connector's tests and demo). */
    mariadb: z
      .object({
        enabled: z.boolean().default(true),
        port: port.default(13306),
        start_timeout_s: z.number().int().min(5).default(60),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const SUPERVISION_KINDS = [
  'PETITION_12309',
  'PIL_LEAD',
  'PIL_PRELITIGATION_SUGGESTION',
  'PROCURATORIAL_SUGGESTION',
  'TRANSFER_OPINION',
  'REVERSE_TRANSFER_OPINION',
  'FILING_SUPERVISION',
  'NON_PROSECUTION',
  'OTHER',
] as const;

/** REFERENCE §3: reply periods by kind of supervision document (the "verify" ones are settings). */
const DEFAULT_REPLY_DEADLINES: Partial<Record<(typeof SUPERVISION_KINDS)[number], { months: number; days: number }>> = {
  PROCURATORIAL_SUGGESTION: { months: 2, days: 0 },
  PIL_PRELITIGATION_SUGGESTION: { months: 2, days: 0 },
  REVERSE_TRANSFER_OPINION: { months: 2, days: 0 },
  TRANSFER_OPINION: { months: 0, days: 3 },
  FILING_SUPERVISION: { months: 0, days: 7 },
  PETITION_12309: { months: 0, days: 7 },
};

const ConfigSchema = z
  .object({
    stack: StackSchema,
    kafka: z
      .object({
        /** Defaults to the local stack's broker. */
        brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'host:port')).min(1).optional(),
        client_id: z.string().default('liandong'),
      })
      .strict()
      .prefault({}),
    registry: z
      .object({
        /** Confluent-compatible base URL; defaults to the local Apicurio's ccompat API. */
        url: z.url().optional(),
        compatibility: z.enum(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']).default('BACKWARD'),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        host: z.string().default('127.0.0.1'),
        /** Defaults to the local stack's PostgreSQL port. */
        port: port.optional(),
        database: z.string().default('liandong'),
        user: z.string().default('liandong'),
        pool_max: z.number().int().min(1).default(10),
      })
      .strict()
      .prefault({}),
    hub: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(18080),
        /** Largest request body the API reads (an ingest batch), in bytes. */
        body_limit_bytes: z.number().int().min(1024).default(5 * 1024 * 1024),
        /** Most records one ingest call may carry. */
        max_batch_records: z.number().int().min(1).default(1000),
        /** Requests per key: a token bucket refilled at `per_second`, holding at most `burst`. */
        rate_limit: z
          .object({ per_second: z.number().positive().default(100), burst: z.number().int().min(1).default(200) })
          .strict()
          .prefault({}),
        /** How long a key's row is remembered; a revoked key stops working within this time. */
        key_cache_ms: z.number().int().min(0).default(10_000),
      })
      .strict()
      .prefault({}),
    /** Folder of source definitions (one YAML file per source: id, dataset, mapping…). */
    sources_dir: z.string().default('config/sources'),
    topics: z
      .object({
        partitions: z.number().int().min(1).default(3),
        replication_factor: z.number().int().min(1).default(1),
        /** Raw topics hold personal data as received: bounded retention. */
        raw_retention_days: z.number().int().min(1).default(30),
      })
      .strict()
      .prefault({}),
    normaliser: z
      .object({
        group_id: z.string().default('liandong-normaliser'),
        transactional_id: z.string().default('liandong-normaliser-1'),
        dlq_group_id: z.string().default('liandong-dlq-table'),
        /** How long the group waits for a silent member (e.g. a crashed one) before reassigning its partitions. */
        session_timeout_ms: z.number().int().min(6000).default(30_000),
      })
      .strict()
      .prefault({}),
    warehouse: z
      .object({
        /**
         * A hotline ticket links to an enforcement case or a supervision record about the same
         * party when they are at most this many days apart (and, for cases, in the same region).
         */
        link_window_days: z.number().int().min(0).default(90),
        /**
         * Where a warehouse consumer with no stored offsets starts: `earliest` replays the
         * canonical topics (a new warehouse), `latest` applies only what arrives from now on.
         */
        initial_position: z.enum(['earliest', 'latest']).default('earliest'),
        /**
         * Partition batches a warehouse sink applies at once, each in its own transaction (and
         * pool connection, so it must stay below `database.pool_max`): one batch's records are
         * prepared while another's SQL runs. Parties and links are still written one
         * transaction at a time.
         */
        concurrent_batches: z.number().int().min(1).max(16).default(3),
      })
      .strict()
      .prefault({}),
    /** `liandong demo` / `npm start`: simulated agency systems the scheduled connectors pull from. */
    demo: z
      .object({
        seed: z.number().int().default(2025),
        enforcement_api_port: port.default(18091),
        hotline_api_port: port.default(18092),
        /** node-cron schedule of the demo's pulls (seconds field included). */
        schedule: z.string().default('*/15 * * * * *'),
        /** Every this many seconds the simulated agencies record new cases, tickets and supervision documents. */
        grow_every_s: z.number().int().min(1).default(20),
        /** Suffix for the demo's source ids and agency table, so one stack can hold several demo runs apart (tests). */
        run_id: z.string().regex(/^[a-z0-9-]*$/).default(''),
      })
      .strict()
      .prefault({}),
    domain: z
      .object({
        /**
         * Reply deadlines by supervision kind, used when a source omits `reply_due_on`
         * (REFERENCE §3; figures marked "verify" there live here, not in code).
         */
        reply_deadlines: z
          .partialRecord(
            z.enum(SUPERVISION_KINDS),
            z.object({ months: z.number().int().min(0).default(0), days: z.number().int().min(0).default(0) }).strict(),
          )
          .default({})
          // A file that sets one kind keeps the others' defaults.
          .transform((given) => ({ ...DEFAULT_REPLY_DEADLINES, ...given })),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RawConfig = z.infer<typeof ConfigSchema>;

/** Secrets, read only from the environment. */
export interface Secrets {
  databasePassword?: string;
  /** Password of the local stack's MariaDB user (LIANDONG_MARIADB_PASSWORD); a development default when unset. */
  mariadbPassword?: string;
  /** Key of the HMAC that turns ID and phone numbers into matchable hashes (LIANDONG_PII_SECRET). */
  piiSecret?: string;
}

export interface Config extends RawConfig {
  /** Absolute path of the file the configuration came from (or null for defaults). */
  file: string | null;
  /** Absolute project root: relative paths in the file are resolved against it. */
  root: string;
  kafka: RawConfig['kafka'] & { brokers: string[] };
  registry: RawConfig['registry'] & { url: string };
  database: RawConfig['database'] & { port: number };
  secrets: Secrets;
}

const ENV_PREFIX = 'LIANDONG__';
const SECRET_KEY = /(password|secret|token|api_?key)$/i;

/** Where the project lives: the folder of this package, whatever the caller's cwd. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** Loads, overrides and validates the configuration. Throws `ConfigError` naming each bad key. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.LIANDONG_CONFIG;
  const file = explicit ? path.resolve(explicit) : defaultConfigFile();
  let data: unknown = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
    }
    try {
      data = YAML.parse(text) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
    }
    rejectSecretsInFile(data, file);
  }
  data = applyEnvOverrides(data, env);
  const parsed = ConfigSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.join('.') || '(root)',
      expected: describeIssue(issue),
    }));
    const where = file ?? 'defaults';
    throw new ConfigError(
      `invalid configuration (${where}):\n` + issues.map((i) => `  - ${i.path}: ${i.expected}`).join('\n'),
      issues,
    );
  }
  rejectSharedPorts(parsed.data, file ?? 'defaults');
  rejectStarvedPool(parsed.data, file ?? 'defaults');
  return resolve(parsed.data, file, env);
}

/** Two local services on one port would fail at start-up with a confusing error: say it now. */
function rejectSharedPorts(raw: RawConfig, where: string): void {
  const ports: Array<[string, number]> = [
    ['stack.kafka.port', raw.stack.kafka.port],
    ['stack.kafka.controller_port', raw.stack.kafka.controller_port],
    ['stack.registry.port', raw.stack.registry.port],
    ['stack.postgres.port', raw.stack.postgres.port],
    ['hub.port', raw.hub.port],
  ];
  if (raw.stack.mariadb.enabled) ports.push(['stack.mariadb.port', raw.stack.mariadb.port]);
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i][1] === ports[j][1]) {
        throw new ConfigError(`invalid configuration (${where}): ${ports[j][0]} and ${ports[i][0]} are both ${ports[i][1]}; each service needs a port of its own`, [
          { path: ports[j][0], expected: `a port other than ${ports[i][0]}'s` },
        ]);
      }
    }
  }
}

/** Each batch the warehouse sink applies at once holds a pool connection; the API and the normaliser's tables need some too. */
function rejectStarvedPool(raw: RawConfig, where: string): void {
  const { concurrent_batches: batches } = raw.warehouse;
  const { pool_max: pool } = raw.database;
  if (batches >= pool) {
    throw new ConfigError(
      `invalid configuration (${where}): warehouse.concurrent_batches is ${batches} but database.pool_max is ${pool}; each batch applied at once holds a connection, so leave some for the rest of the hub`,
      [{ path: 'warehouse.concurrent_batches', expected: `a number below database.pool_max (${pool})` }],
    );
  }
}

function defaultConfigFile(): string | null {
  for (const candidate of [path.join(process.cwd(), 'liandong.yaml'), path.join(PROJECT_ROOT, 'liandong.yaml')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function resolve(raw: RawConfig, file: string | null, env: NodeJS.ProcessEnv): Config {
  const root = file ? path.dirname(file) : PROJECT_ROOT;
  const stack = {
    ...raw.stack,
    dir: path.resolve(root, raw.stack.dir),
    cache_dir: path.resolve(root, raw.stack.cache_dir),
  };
  return {
    ...raw,
    file,
    root,
    stack,
    kafka: { ...raw.kafka, brokers: raw.kafka.brokers ?? [`127.0.0.1:${stack.kafka.port}`] },
    registry: { ...raw.registry, url: raw.registry.url ?? `http://127.0.0.1:${stack.registry.port}/apis/ccompat/v7` },
    database: { ...raw.database, port: raw.database.port ?? stack.postgres.port },
    sources_dir: path.resolve(root, raw.sources_dir),
    secrets: {
      databasePassword: env.LIANDONG_DATABASE_PASSWORD || undefined,
      mariadbPassword: env.LIANDONG_MARIADB_PASSWORD || undefined,
      piiSecret: env.LIANDONG_PII_SECRET || undefined,
    },
  };
}

function rejectSecretsInFile(data: unknown, file: string, at: string[] = []): void {
  if (!data || typeof data !== 'object') return;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const here = [...at, key];
    if (SECRET_KEY.test(key)) {
      throw new ConfigError(
        `${file}: ${here.join('.')}: secrets are not allowed in the configuration file; set them in the environment (e.g. LIANDONG_DATABASE_PASSWORD)`,
        [{ path: here.join('.'), expected: 'no secret in the file' }],
      );
    }
    rejectSecretsInFile(value, file, here);
  }
}

/** Applies `LIANDONG__A__B=value` overrides onto a copy of `data`. */
export function applyEnvOverrides(data: unknown, env: NodeJS.ProcessEnv): unknown {
  const out = structuredClone((data ?? {}) as Record<string, unknown>);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const keys = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    if (keys.some((k) => k === '')) throw new ConfigError(`environment variable ${name}: empty key segment`);
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) {
        throw new ConfigError(`environment variable ${name}: ${key} is not a section`);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = parseEnvValue(value);
  }
  return out;
}

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, got ${issue.input === undefined ? 'nothing' : JSON.stringify(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_small':
      return `expected at least ${String(issue.minimum)}, got ${JSON.stringify(issue.input)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}, got ${JSON.stringify(issue.input)}`;
    default:
      return issue.message;
  }
}
