import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

function writeConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-config-'));
  const file = path.join(dir, 'liandong.yaml');
  fs.writeFileSync(file, text);
  return file;
}

function loadError(file: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig({ file, env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('fills every key with its default and derives client addresses from the local stack', () => {
    const config = loadConfig({ file: writeConfig('{}'), env: {} });
    expect(config.stack.kafka.port).toBe(19092);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.registry.url).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
    expect(config.database.port).toBe(15432);
    expect(config.registry.compatibility).toBe('BACKWARD');
    expect(config.stack.mariadb).toEqual({ enabled: true, port: 13306, start_timeout_s: 60 });
  });

  it('resolves the stack folders against the folder of the configuration file', () => {
    const file = writeConfig('stack:\n  dir: state\n');
    const config = loadConfig({ file, env: {} });
    expect(config.stack.dir).toBe(path.join(path.dirname(file), 'state'));
  });

  it('lets the environment override any key with LIANDONG__SECTION__KEY', () => {
    const config = loadConfig({
      file: writeConfig('stack:\n  kafka:\n    port: 19092\n'),
      env: { LIANDONG__STACK__KAFKA__PORT: '29092', LIANDONG__KAFKA__BROKERS: '["k1:9092","k2:9092"]', LIANDONG__DATABASE__HOST: 'db.internal' },
    });
    expect(config.stack.kafka.port).toBe(29092);
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.database.host).toBe('db.internal');
  });

  it('names the key and what was expected when a value has the wrong type', () => {
    const err = loadError(writeConfig('stack:\n  kafka:\n    port: nineteen\n'));
    expect(err.issues).toContainEqual({ path: 'stack.kafka.port', expected: 'expected number, got "nineteen"' });
    expect(err.message).toContain('stack.kafka.port');
  });

  it('names an out-of-range port', () => {
    const err = loadError(writeConfig('hub:\n  port: 70000\n'));
    expect(err.issues[0].path).toBe('hub.port');
    expect(err.issues[0].expected).toMatch(/at most 65535/);
  });

  it('rejects unknown keys, so a typo never passes silently', () => {
    const err = loadError(writeConfig('stack:\n  kafak:\n    port: 1\n'));
    expect(err.issues).toContainEqual({ path: 'stack', expected: 'unknown key(s) "kafak"' });
  });

  it('rejects a bad value that comes from the environment, naming the key', () => {
    const err = loadError(writeConfig('{}'), { LIANDONG__REGISTRY__COMPATIBILITY: 'SOMETIMES' });
    expect(err.issues[0].path).toBe('registry.compatibility');
  });

  it('refuses secrets in the configuration file and reads them only from the environment', () => {
    const err = loadError(writeConfig('database:\n  password: hunter2\n'));
    expect(err.message).toMatch(/database\.password: secrets are not allowed/);
    const config = loadConfig({ file: writeConfig('{}'), env: { LIANDONG_DATABASE_PASSWORD: 's3cret' } });
    expect(config.secrets.databasePassword).toBe('s3cret');
  });

  it('reports YAML syntax errors with the file name', () => {
    const file = writeConfig('stack: [unclosed\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML`));
  });

  it('loads the configuration shipped with the project', () => {
    const config = loadConfig({ file: path.resolve(__dirname, '../../liandong.yaml'), env: {} });
    expect(config.hub.port).toBe(18080);
  });
});

describe('configuration: cross-checks', () => {
  it('refuses two services on one port, naming both keys', () => {
    const err = loadError(writeConfig('stack:\n  registry:\n    port: 15432\n'));
    expect(err.message).toMatch(/stack.postgres.port and stack.registry.port are both 15432/);
  });

  it('refuses more warehouse batches at once than the pool leaves room for', () => {
    const err = loadError(writeConfig('database:\n  pool_max: 3\nwarehouse:\n  concurrent_batches: 3\n'));
    expect(err.message).toMatch(/warehouse.concurrent_batches is 3 but database.pool_max is 3/);
    expect(loadConfig({ file: writeConfig('database:\n  pool_max: 4\nwarehouse:\n  concurrent_batches: 3\n'), env: {} }).warehouse.concurrent_batches).toBe(3);
  });

  it("checks MariaDB's port against the others only while MariaDB is enabled", () => {
    expect(loadError(writeConfig('stack:\n  mariadb:\n    port: 19092\n')).message).toMatch(/stack.mariadb.port and stack.kafka.port are both 19092/);
    const config = loadConfig({ file: writeConfig('stack:\n  mariadb:\n    port: 19092\n    enabled: false\n'), env: {} });
    expect(config.stack.mariadb.enabled).toBe(false);
  });

  it("reads MariaDB's password only from the environment", () => {
    expect(loadError(writeConfig('stack:\n  mariadb:\n    password: x\n')).message).toMatch(/stack\.mariadb\.password: secrets are not allowed/);
    const config = loadConfig({ file: writeConfig('{}'), env: { LIANDONG_MARIADB_PASSWORD: 's3cret' } });
    expect(config.secrets.mariadbPassword).toBe('s3cret');
  });

  it('merges reply deadlines over the defaults and refuses an unknown kind', () => {
    const config = loadConfig({ file: writeConfig('domain:\n  reply_deadlines:\n    PROCURATORIAL_SUGGESTION: { months: 1 }\n'), env: {} });
    expect(config.domain.reply_deadlines.PROCURATORIAL_SUGGESTION).toEqual({ months: 1, days: 0 });
    expect(config.domain.reply_deadlines.PETITION_12309).toEqual({ months: 0, days: 7 });
    expect(loadError(writeConfig('domain:\n  reply_deadlines:\n    SUGESTION: { months: 1 }\n')).issues[0].path).toMatch(/^domain\.reply_deadlines/);
  });
});
