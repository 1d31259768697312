import type { Knex } from 'knex';
import pg from 'pg';
import { arrayLiteral } from './copy-text';

/**
 * Several statements sent as one simple query on a transaction's connection: one round trip
 * for a batch's merge, parties, link turn, links and offset, so the transaction does not wait
 * on the sink's event loop between statements (it may be busy decoding another batch). Each
 * statement still runs on its own, in order, with a snapshot of its own: a statement after
 * the link turn sees every transaction that committed while the turn was awaited.
 *
 * A simple query takes no parameters, so values are written into the text as literals, escaped
 * by pg's `escapeLiteral`. It goes to the connection itself, not through knex, which would read
 * every `?` in the text (an id may contain one) as a placeholder.
 *
 * @example
 *   const [merged, , turn] = await sendStatements(trx, [statementFor(table), partiesSql(table, ids), linkTurnSql()]);
 */

/** The pg client under a knex transaction. */
export async function connectionOf(trx: Knex.Transaction): Promise<pg.ClientBase> {
  return (await trx.client.acquireConnection()) as pg.ClientBase;
}

/** The statements' results, one per statement, in order. */
export async function sendStatements(trx: Knex.Transaction, statements: readonly string[]): Promise<pg.QueryResult[]> {
  if (statements.length === 0) return [];
  const connection = await connectionOf(trx);
  const result = (await connection.query(statements.join(';\n'))) as pg.QueryResult | pg.QueryResult[];
  return Array.isArray(result) ? result : [result];
}

/** A string as an SQL literal. */
export const textLiteral = (value: string): string => pg.escapeLiteral(value);

/** Strings as an SQL `text[]` literal. */
export const textArrayLiteral = (values: readonly string[]): string => `${pg.escapeLiteral(arrayLiteral(values))}::text[]`;
