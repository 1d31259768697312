import { isProgrammingError, isRetriableSqlState, SinkError, StackError } from '../../lib/errors';
import { javaMajor } from '../../hub/stack/system';

describe('errors', () => {
  it.each([
    ['08006', true], // connection failure
    ['40001', true], // serialization failure
    ['40P01', true], // deadlock
    ['53300', true], // too many connections
    ['57P01', true], // admin shutdown
    ['23505', false], // unique violation
    ['42P01', false], // undefined table
    ['22P02', false], // invalid text representation
    [undefined, false],
  ])('treats SQLSTATE %s as retriable: %s', (code, retriable) => {
    expect(isRetriableSqlState(code)).toBe(retriable);
    expect(new SinkError('write failed', code).retriable).toBe(retriable);
  });

  it('never retries programming errors', () => {
    expect(isProgrammingError(new TypeError('x is undefined'))).toBe(true);
    expect(isProgrammingError(new Error('broker down'))).toBe(false);
  });

  it('names the service and the reason of a stack failure', () => {
    const err = new StackError('kafka', 'PORT_TAKEN', 'port 19092 is in use');
    expect(err.code).toBe('STACK_PORT_TAKEN');
    expect(err.message).toBe('kafka: port 19092 is in use');
  });
});

describe('java version parsing', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_392"', 8],
    ['no java here', null],
  ])('reads %s as %s', (text, major) => {
    expect(javaMajor(text)).toBe(major);
  });
});
