/**
 * Where the warehouse sink writes: the schema of the core tables (current state, history,
 * parties) and the schema of the cross-source links. The live warehouse is `core`/`link`; a
 * rebuild writes a second copy beside it (`core_next`/`link_next`) and renames it into place.
 *
 * @example
 *   const sink = new WarehouseSink({ ...deps, target: { core: 'core_next', link: 'link_next' } });
 *   qualified(target.core, 'enforcement_case');   // "core_next"."enforcement_case"
 */
export interface WarehouseTarget {
  core: string;
  link: string;
}

export const LIVE_TARGET: Readonly<WarehouseTarget> = Object.freeze({ core: 'core', link: 'link' });

/** A double-quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `"schema"."name"`: statements name their tables by schema, so a renamed schema is followed by name. */
export const qualified = (schema: string, name: string): string => `${ident(schema)}.${ident(name)}`;
