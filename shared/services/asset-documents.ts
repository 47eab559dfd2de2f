import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { Filter, WithMeta } from '../ports/metadata-store.js';
import { parseOrThrow } from '../contracts/validation.js';
import type { Workspace } from '../contracts/workspace.js';
import { assetSpecSchemas, parseAssetSpec } from '../contracts/azureml/index.js';
import type { AssetKind } from '../contracts/azureml/index.js';
import {
  DEFAULT_DATASTORE,
  KIND_SEGMENTS,
  UNVERSIONED_KINDS,
  assetContainerDocumentSchema,
  assetResourceDocumentSchema,
  assetVersionDocumentSchema,
  describeKind,
  isVersionedKind,
} from '../contracts/assets.js';
import type {
  Asset,
  AssetContainerDocument,
  AssetListQuery,
  AssetResourceDocument,
  AssetVersionDocument,
  BuiltinDatastore,
  TagFilter,
  UnversionedKind,
  VersionedKind,
} from '../contracts/assets.js';
import { workspaceContainerName } from '../domain/workspace-container.js';
import { maskSecrets } from './asset-secrets.js';

/**
 * The pure half of the asset service: document ids, request specs made ready to store, tag
 * indexes and list filters, stored documents parsed again and turned into API views, the built-in
 * datastores, and the continuation of the datastore list.
 */

/** Who makes a change (recorded as createdBy/updatedBy). */
export interface WriteContext {
  /** The principal id; 'anonymous' when absent. */
  principal?: string;
}

/** Spec keys that PUT may change on an existing version without making it a different version. */
const MUTABLE_SPEC_KEYS = new Set(['description', 'tags', '$schema']);

export function containerId(kind: AssetKind, name: string): string {
  return `${kind}:${name}`;
}

export function versionId(kind: AssetKind, name: string, version: string): string {
  return `${kind}:${name}:${version}`;
}

export function requireVersioned(kind: AssetKind, workspace: string, action?: 'archive' | 'restore'): VersionedKind {
  if (isVersionedKind(kind)) return kind;
  const segment = KIND_SEGMENTS[kind];
  if (action !== undefined) {
    throw new ValidationError(
      `${capitalize(segment)} have no versions; ${action} the whole ${kind} with ` +
        `POST /api/workspaces/${workspace}/${segment}/{name}/${action}.`,
      { target: 'kind' },
    );
  }
  throw new ValidationError(
    `${capitalize(segment)} are not versioned: use PUT, GET or DELETE /api/workspaces/${workspace}/${segment}/{name}.`,
    { target: 'kind' },
  );
}

export function requireUnversioned(kind: AssetKind): UnversionedKind {
  const found = UNVERSIONED_KINDS.find((k) => k === kind);
  if (found !== undefined) return found;
  throw new ValidationError(
    `${capitalize(KIND_SEGMENTS[kind])} are versioned: use .../${KIND_SEGMENTS[kind]}/{name}/versions/{version}.`,
    { target: 'kind' },
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Validates a request body as the spec of `kind`, with `name` (and `version`) from the URL, and
 * returns it as plain JSON. A body that names another name or version is a ValidationError.
 */
export function prepareSpec(
  kind: AssetKind,
  name: string,
  body: unknown,
  version: string | undefined,
): Record<string, unknown> {
  if (!isRecord(body)) {
    throw new ValidationError(
      `The request body must be a JSON object: the ${describeKind(kind)} spec, with the keys of its Azure ML YAML.`,
      { target: 'body' },
    );
  }
  const input: Record<string, unknown> = { ...body };
  const mismatch = (key: 'name' | 'version', expected: string): void => {
    const given = input[key];
    if (given !== undefined && given !== null && String(given) !== expected) {
      throw new ValidationError(
        `The body sets ${key} '${String(given)}' but the URL names '${expected}'; they must match (or leave ${key} out of the body).`,
        { target: key },
      );
    }
    input[key] = expected;
  };
  mismatch('name', name);
  if (version !== undefined) mismatch('version', version);
  const spec = parseAssetSpec(kind, input);
  const json: unknown = JSON.parse(JSON.stringify(spec));
  if (!isRecord(json)) throw new ValidationError('The spec must be an object.', { target: 'body' });
  return json;
}

const tagsValueSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export function tagsOf(spec: Record<string, unknown>): Record<string, string> {
  if (spec.tags === undefined || spec.tags === null) return {};
  return parseOrThrow(tagsValueSchema, spec.tags, 'tags');
}

export function tagIndex(tags: Record<string, string>): { tagKeys: string[]; tagPairs: string[] } {
  return {
    tagKeys: Object.keys(tags).sort(),
    tagPairs: Object.entries(tags)
      .map(([k, v]) => JSON.stringify([k, v]))
      .sort(),
  };
}

export function tagFilters(tag: TagFilter | undefined): Filter[] {
  if (tag === undefined) return [];
  return tag.value === undefined
    ? [{ path: 'tagKeys', op: 'contains', value: tag.key }]
    : [{ path: 'tagPairs', op: 'contains', value: JSON.stringify([tag.key, tag.value]) }];
}

export function archivedFilters(archived: AssetListQuery['archived']): Filter[] {
  if (archived === 'all') return [];
  return [{ path: 'archived', op: '=', value: archived === 'true' }];
}

export function resourceFilters(kind: UnversionedKind, query: AssetListQuery): Filter[] {
  return [
    { path: 'kind', op: '=', value: 'assetResource' },
    { path: 'assetKind', op: '=', value: kind },
    ...(query.name === undefined ? [] : [{ path: 'name', op: '=' as const, value: query.name }]),
    ...tagFilters(query.tag),
    // A resource stores `archived` only while archived (see assetResourceDocumentSchema).
    ...(query.archived === 'all'
      ? []
      : [{ path: 'archived', op: 'exists' as const, value: query.archived === 'true' }]),
  ];
}

/** An all-digits version as a number (for the automatic counter); undefined otherwise. */
export function numericVersion(version: string): number | undefined {
  return /^\d{1,15}$/.test(version) ? Number(version) : undefined;
}

/** A new version document: the spec with `name` and `version` filled in, its tags indexed for filters. */
export function newVersionDoc(
  workspace: string,
  kind: VersionedKind,
  name: string,
  version: string,
  seq: number,
  spec: Record<string, unknown>,
  context: WriteContext,
  now: number,
): AssetVersionDocument {
  const tags = tagsOf(spec);
  const description = typeof spec.description === 'string' ? spec.description : undefined;
  return {
    id: versionId(kind, name, version),
    pk: workspace,
    kind: 'assetVersion',
    schemaVersion: 1,
    assetKind: kind,
    name,
    version,
    seq,
    spec: { ...spec, name, version },
    ...(description === undefined ? {} : { description }),
    tags,
    ...tagIndex(tags),
    archived: false,
    createdAt: now,
    updatedAt: now,
    createdBy: context.principal ?? 'anonymous',
  };
}

/** The first top-level spec key whose value differs, ignoring the mutable ones; undefined when equal. */
export function firstDifference(
  stored: Record<string, unknown>,
  incoming: Record<string, unknown>,
): string | undefined {
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(incoming)])].sort();
  return keys.find((key) => !MUTABLE_SPEC_KEYS.has(key) && canonical(stored[key]) !== canonical(incoming[key]));
}

/** JSON with sorted object keys, for comparing specs by content. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const entries = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toVersionView(doc: AssetVersionDocument, labels: string[]): Asset {
  return {
    id: `azureml:${doc.name}:${doc.version}`,
    kind: doc.assetKind,
    name: doc.name,
    version: doc.version,
    spec: doc.spec,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    tags: doc.tags,
    archived: doc.archived,
    labels,
    createdAt: iso(doc.createdAt),
    updatedAt: iso(doc.updatedAt),
    createdBy: doc.createdBy,
  };
}

export function toResourceView(doc: AssetResourceDocument): Asset {
  const spec = maskSecrets(doc.spec, doc.secretPaths);
  return {
    id: `azureml:${doc.name}`,
    kind: doc.assetKind,
    name: doc.name,
    spec,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    tags: doc.tags,
    archived: doc.archived === true,
    createdAt: iso(doc.createdAt),
    updatedAt: iso(doc.updatedAt),
    createdBy: doc.createdBy,
  };
}

/** A built-in datastore: a prefix of the workspace's container on the app's own storage. */
export function builtinDatastoreView(workspace: Workspace, name: BuiltinDatastore, accountName: string): Asset {
  const container = workspaceContainerName(workspace.name);
  const isBlob = name === 'workspaceblobstore' || name === 'workspaceartifactstore';
  const description =
    `Built-in datastore of workspace '${workspace.name}': objects under '${name}/' in container ` +
    `'${container}' of the platform's storage.`;
  const spec: Record<string, unknown> = isBlob
    ? { name, type: 'azure_blob', account_name: accountName, container_name: container }
    : { name, type: 'azure_file', account_name: accountName, file_share_name: container };
  spec.description = description;
  if (name === DEFAULT_DATASTORE) spec.is_default = true;
  return {
    id: `azureml:${name}`,
    kind: 'datastore',
    name,
    spec,
    description,
    tags: {},
    archived: false,
    builtin: true,
    createdAt: workspace.createdAt,
    updatedAt: workspace.createdAt,
  };
}

// Stored documents are parsed again on the way out, envelope and spec alike.

function parseSpec(kind: AssetKind, id: string, spec: Record<string, unknown>): void {
  const result = assetSpecSchemas[kind].safeParse(spec);
  if (!result.success) {
    throw new Error(
      `Stored ${kind} '${id}' no longer matches the ${kind} spec contract: ${result.error.issues[0]?.message ?? 'invalid'}`,
      { cause: result.error },
    );
  }
}

export function parseVersionDoc(stored: WithMeta<AssetVersionDocument>): AssetVersionDocument {
  const doc = assetVersionDocumentSchema.parse(stored);
  parseSpec(doc.assetKind, doc.id, doc.spec);
  return doc;
}

export function parseContainerDoc(stored: WithMeta<AssetContainerDocument>): AssetContainerDocument {
  return assetContainerDocumentSchema.parse(stored);
}

export function parseResourceDoc(stored: WithMeta<AssetResourceDocument>): AssetResourceDocument {
  const doc = assetResourceDocumentSchema.parse(stored);
  parseSpec(doc.assetKind, doc.id, doc.spec);
  return doc;
}

// The datastore list mixes the built-ins and a store query; its continuation carries both positions.

const resourceCursorSchema = z.object({ b: z.number().int().min(0), s: z.string().optional() });
type ResourceCursor = z.infer<typeof resourceCursorSchema>;

export function encodeResourceCursor(cursor: ResourceCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeResourceCursor(token: string | undefined): ResourceCursor {
  if (token === undefined) return { b: 0 };
  try {
    return resourceCursorSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch (err) {
    throw new ValidationError('The continuation token is not one this list returned; start again without it.', {
      target: 'continuation',
      cause: err,
    });
  }
}
