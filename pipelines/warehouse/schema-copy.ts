import type { Knex } from 'knex';
import { LiandongError } from '../../lib/errors';
import { CORE_TABLES } from './core-rows';
import { sendStatements, textLiteral } from './statement-batch';
import { ident, qualified, WarehouseTarget } from './warehouse-target';

/**
 * The DDL side of a warehouse rebuild: an empty copy of the live `core`/`link` tables in other
 * schemas (same columns, generated columns, defaults, constraints and indexes, under the same
 * names), the live privileges carried over at the switch, and the views outside those schemas
 * that read them, captured so they can be pointed at the new tables.
 *
 * Everything is read from the catalog, not from the migrations, so a rebuild copies whatever
 * the live tables are after every migration applied so far.
 */

/** The tables the warehouse sink fills, per schema role: the only ones a rebuild can reproduce. */
export const SINK_TABLES: Readonly<Record<keyof WarehouseTarget, readonly string[]>> = Object.freeze({
  core: [...Object.values(CORE_TABLES).flatMap((t) => [t.table, `${t.table}_history`]), 'party'],
  link: ['case_supervision', 'ticket_case', 'ticket_supervision'],
});

const ROLES = ['core', 'link'] as const;

/**
 * Refuses a rebuild that would lose something: a table, view, sequence, function or type in
 * the live schemas that the sink does not fill (it would be empty after the switch, or dropped
 * with the old schema), a trigger or foreign key on the sink's tables (not copied), default
 * privileges on the schemas, or a materialized view reading them (it cannot be re-pointed in place).
 */
export async function checkRebuildable(db: Knex, live: WarehouseTarget): Promise<void> {
  const problems: string[] = [];
  for (const role of ROLES) {
    const schema = live[role];
    const known = new Set(SINK_TABLES[role]);
    const { rows: relations } = await db.raw<{ rows: Array<{ name: string; kind: string }> }>(
      `select c.relname as name, c.relkind::text as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ? and c.relkind not in ('i', 'I', 't')`,
      [schema],
    );
    if (relations.length === 0) problems.push(`schema ${schema} has no tables (run the migrations first)`);
    for (const r of relations) if (r.kind !== 'r' || !known.has(r.name)) problems.push(`${schema}.${r.name} (relkind ${r.kind}) is not filled by the warehouse sink`);
    for (const table of known) if (!relations.some((r) => r.name === table)) problems.push(`${schema}.${table} is missing`);
    const { rows: others } = await db.raw<{ rows: Array<{ what: string }> }>(
      `select 'function ' || p.oid::regprocedure::text as what from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = :schema
       union all
       select 'type ' || t.oid::regtype::text from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = :schema and t.typrelid = 0 and t.typcategory <> 'A'
       union all
       select 'trigger ' || g.tgname || ' on ' || g.tgrelid::regclass::text from pg_trigger g join pg_class c on c.oid = g.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = :schema and not g.tgisinternal
       union all
       select 'foreign key ' || k.conname || ' on ' || k.conrelid::regclass::text from pg_constraint k join pg_namespace n on n.oid = k.connamespace
        where n.nspname = :schema and k.contype = 'f'
       union all
       select 'default privileges in schema ' || n.nspname from pg_default_acl d join pg_namespace n on n.oid = d.defaclnamespace where n.nspname = :schema`,
      { schema },
    );
    for (const o of others) problems.push(`${o.what} would not be carried over`);
  }
  for (const v of await dependentViews(db, live)) if (v.kind !== 'v') problems.push(`materialized view ${v.schema}.${v.name} reads the warehouse and cannot be re-pointed in place`);
  if (problems.length > 0) throw new LiandongError('REBUILD_UNSUPPORTED', `the live warehouse cannot be rebuilt safely:\n  ${problems.join('\n  ')}`);
}

/**
 * `CREATE INDEX name ON schema.table USING …` of a live index, retargeted at the copy. The
 * definition comes from pg_get_indexdef, which always qualifies the table; anything other than
 * exactly one occurrence of it is refused rather than guessed at.
 */
export function retargetIndexDef(definition: string, from: { schema: string; table: string }, toSchema: string): string {
  const on = ` ON ${quoteIdent(from.schema)}.${quoteIdent(from.table)} `;
  const at = definition.indexOf(on);
  if (at < 0 || definition.indexOf(on, at + 1) >= 0) throw new LiandongError('REBUILD_UNSUPPORTED', `cannot retarget index definition: ${definition}`);
  return `${definition.slice(0, at)} ON ${quoteIdent(toSchema)}.${quoteIdent(from.table)} ${definition.slice(at + on.length)}`;
}

/** PostgreSQL's quote_ident: bare when the name is a plain lower-case identifier (keywords aside, which our names never are). */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : ident(name);
}

/**
 * Creates `next` as an empty copy of `live`, dropping a leftover `next` from an interrupted
 * rebuild first. `LIKE … INCLUDING ALL` copies columns, defaults, generated columns, NOT NULL
 * and CHECK constraints and comments; its indexes would get generated names, so they are
 * excluded and made here under the live names (constraints by pg_get_constraintdef, the rest
 * by pg_get_indexdef), and table options, columns' statistics targets and comments are copied too.
 */
export async function createCopy(db: Knex, live: WarehouseTarget, next: WarehouseTarget): Promise<void> {
  await db.transaction(async (trx) => {
    for (const role of ROLES) {
      const from = live[role];
      const to = next[role];
      await trx.raw(`drop schema if exists ${ident(to)} cascade`);
      await trx.raw(`create schema ${ident(to)}`);
      const { rows: comment } = await trx.raw<{ rows: Array<{ text: string | null }> }>(`select obj_description(oid, 'pg_namespace') as text from pg_namespace where nspname = ?`, [from]);
      // Sent as it is, not through knex, which would read a `?` in the comment as a placeholder.
      if (comment[0]?.text) await sendStatements(trx, [`comment on schema ${ident(to)} is ${textLiteral(comment[0].text)}`]);
      for (const table of SINK_TABLES[role]) {
        const source = qualified(from, table);
        const target = qualified(to, table);
        await trx.raw(`create table ${target} (like ${source} including all excluding indexes)`);
        const { rows: meta } = await trx.raw<{ rows: Array<{ options: string[] | null; comment: string | null }> }>(
          `select c.reloptions as options, obj_description(c.oid, 'pg_class') as comment from pg_class c where c.oid = ?::regclass`,
          [source],
        );
        if (meta[0].options?.length) await trx.raw(`alter table ${target} set (${meta[0].options.join(', ')})`);
        if (meta[0].comment) await sendStatements(trx, [`comment on table ${target} is ${textLiteral(meta[0].comment)}`]);
        const { rows: targets } = await trx.raw<{ rows: Array<{ column: string; target: number }> }>(
          `select attname as column, attstattarget as target from pg_attribute where attrelid = ?::regclass and attnum > 0 and not attisdropped and attstattarget >= 0`,
          [source],
        );
        for (const t of targets) await trx.raw(`alter table ${target} alter column ${ident(t.column)} set statistics ${Number(t.target)}`);
        const { rows: constraints } = await trx.raw<{ rows: Array<{ name: string; definition: string }> }>(
          `select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint where conrelid = ?::regclass and contype in ('p', 'u', 'x') order by conname`,
          [source],
        );
        // Definitions go as they are, not through knex, which would read a `?` in one as a placeholder.
        for (const c of constraints) await sendStatements(trx, [`alter table ${target} add constraint ${ident(c.name)} ${c.definition}`]);
        const { rows: indexes } = await trx.raw<{ rows: Array<{ definition: string }> }>(
          `select pg_get_indexdef(i.indexrelid) as definition from pg_index i
            where i.indrelid = ?::regclass and not exists (select from pg_constraint k where k.conindid = i.indexrelid and k.conrelid = i.indrelid)
            order by i.indexrelid`,
          [source],
        );
        for (const i of indexes) await sendStatements(trx, [retargetIndexDef(i.definition, { schema: from, table }, to)]);
      }
    }
  });
}

interface AclEntry {
  grantee: string;
  privilege: string;
  grantable: boolean;
}

async function aclOf(trx: Knex.Transaction, kind: 'schema' | 'table', name: string): Promise<AclEntry[]> {
  const source = kind === 'schema' ? `select nspacl as acl, nspowner as owner from pg_namespace where nspname = ?` : `select relacl as acl, relowner as owner from pg_class where oid = ?::regclass`;
  const { rows } = await trx.raw<{ rows: AclEntry[] }>(
    `select coalesce(r.rolname, 'public') as grantee, a.privilege_type as privilege, a.is_grantable as grantable
       from (${source}) o cross join aclexplode(o.acl) a left join pg_roles r on r.oid = a.grantee
      where a.grantee <> o.owner`,
    [name],
  );
  return rows;
}

/**
 * Makes the privileges of `to` those of `from` (schema, or table), owners' own rights aside:
 * the hub's role keeps what the migrations granted it, and a role refused the live tables
 * (the analyst) is refused the new ones too.
 */
async function syncAcl(trx: Knex.Transaction, kind: 'schema' | 'table', from: string, to: string): Promise<void> {
  const want = await aclOf(trx, kind, from);
  const have = await aclOf(trx, kind, to);
  const key = (e: AclEntry) => `${e.grantee}\u0000${e.privilege}\u0000${e.grantable}`;
  const wanted = new Set(want.map(key));
  const had = new Set(have.map(key));
  const object = kind === 'schema' ? `schema ${ident(to)}` : `table ${to}`;
  const role = (grantee: string) => (grantee === 'public' ? 'public' : ident(grantee));
  for (const e of have) if (!wanted.has(key(e))) await trx.raw(`revoke ${e.grantable ? 'grant option for ' : ''}${e.privilege} on ${object} from ${role(e.grantee)}`);
  for (const e of want) if (!had.has(key(e))) await trx.raw(`grant ${e.privilege} on ${object} to ${role(e.grantee)}${e.grantable ? ' with grant option' : ''}`);
}

/** Carries the live schemas' and tables' privileges over to the copy (at the switch, so they are current). */
export async function copyPrivileges(trx: Knex.Transaction, live: WarehouseTarget, next: WarehouseTarget): Promise<void> {
  for (const role of ROLES) {
    await syncAcl(trx, 'schema', live[role], next[role]);
    for (const table of SINK_TABLES[role]) await syncAcl(trx, 'table', qualified(live[role], table), qualified(next[role], table));
  }
}

export interface DependentView {
  schema: string;
  name: string;
  /** 'v' view, 'm' materialized view. */
  kind: string;
  /** reloptions (security_barrier, check_option…), which CREATE OR REPLACE would otherwise reset. */
  options: string[];
  /** The SELECT, every relation schema-qualified when read with search_path = pg_catalog. */
  definition: string;
}

/**
 * Views outside the warehouse schemas that read a relation inside them (the analysts' `mart`
 * views). A view binds to tables by identity, not name: after the schemas are renamed it would
 * still read the old tables, so the switch recreates it from this definition.
 */
export async function dependentViews(db: Knex | Knex.Transaction, schemas: WarehouseTarget): Promise<DependentView[]> {
  const { rows } = await db.raw<{ rows: DependentView[] }>(
    `select distinct vn.nspname as schema, v.relname as name, v.relkind::text as kind, coalesce(v.reloptions, '{}') as options,
            pg_get_viewdef(v.oid, true) as definition, v.oid::bigint as oid
       from pg_depend d
       join pg_rewrite w on w.oid = d.objid and d.classid = 'pg_rewrite'::regclass
       join pg_class v on v.oid = w.ev_class
       join pg_namespace vn on vn.oid = v.relnamespace
       join pg_class t on t.oid = d.refobjid and d.refclassid = 'pg_class'::regclass
       join pg_namespace tn on tn.oid = t.relnamespace
      where tn.nspname in (?, ?) and vn.nspname not in (?, ?) and v.oid <> t.oid
      order by oid`,
    [schemas.core, schemas.link, schemas.core, schemas.link],
  );
  return rows.map(({ schema, name, kind, options, definition }) => ({ schema, name, kind, options, definition }));
}

/** CREATE OR REPLACE VIEW keeps the view's identity, owner, privileges and comments; only what it reads changes. */
export function replaceViewStatement(view: DependentView): string {
  const body = view.definition.trim().replace(/;$/, '');
  const options = view.options.length > 0 ? ` with (${view.options.join(', ')})` : '';
  return `create or replace view ${qualified(view.schema, view.name)}${options} as ${body}`;
}
