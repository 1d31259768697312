import { SchemaCompatibilityError } from '../../lib/errors';
import { createRegistry, registerAvro } from '../../lib/registry-client';
import { uniqueName } from '../support/helpers';
import { testConfig } from '../support/stack';

const config = testConfig();
const registry = createRegistry(config);

const v1 = {
  type: 'record',
  name: 'Ticket',
  namespace: 'liandong.test',
  fields: [
    { name: 'ticket_id', type: 'string' },
    { name: 'title', type: ['null', 'string'], default: null },
  ],
};

describe('schema evolution under BACKWARD compatibility', () => {
  const subject = `${uniqueName('it.compat')}-value`;
  let v1Id: number;

  beforeAll(async () => {
    v1Id = await registerAvro(registry, config, subject, v1);
  });

  it('accepts a compatible change (a new field with a default) as a new version', async () => {
    const v2 = { ...v1, fields: [...v1.fields, { name: 'status', type: 'string', default: 'UNKNOWN' }] };
    const v2Id = await registerAvro(registry, config, subject, v2);
    expect(v2Id).not.toBe(v1Id);
    const versions = await fetch(`${config.registry.url}/subjects/${subject}/versions`).then((r) => r.json());
    expect(versions).toEqual([1, 2]);
  });

  it('refuses an incompatible change (a new field without a default) and registers nothing', async () => {
    const bad = { ...v1, fields: [...v1.fields, { name: 'caller_phone', type: 'string' }] };
    await expect(registerAvro(registry, config, subject, bad)).rejects.toBeInstanceOf(SchemaCompatibilityError);
    const versions = await fetch(`${config.registry.url}/subjects/${subject}/versions`).then((r) => r.json());
    expect(versions).toEqual([1, 2]);
  });

  it('refuses a changed field type', async () => {
    const bad = { ...v1, fields: [{ name: 'ticket_id', type: 'long' }, v1.fields[1]] };
    await expect(registerAvro(registry, config, subject, bad)).rejects.toThrow(/not BACKWARD-compatible/);
  });
});
