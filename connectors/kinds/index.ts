import type { ConnectorKind } from '../contract';
import { dbPull } from './source-db-pull';
import { fileDrop } from './source-file-drop';
import { httpPull } from './source-http-pull';
import { push } from './source-push';

/** Every connector kind, by name: an explicit map, never a dynamic require. */
export const CONNECTOR_KINDS: Record<string, ConnectorKind<any>> = {
  [httpPull.kind]: httpPull,
  [dbPull.kind]: dbPull,
  [fileDrop.kind]: fileDrop,
  [push.kind]: push,
};
