import { z } from 'zod';
import { pageQuerySchema } from './paging.js';
import type { AssetKind } from './azureml/index.js';

/**
 * Assets of a workspace (datastores, data, models, environments, components, computes): the REST
 * query strings and bodies around the Azure ML specs, the stored documents, and the views the API
 * returns. The specs themselves are the Azure ML YAML contracts of ./azureml.
 */

export const ASSETS_CONTAINER = 'assets';

/** Kinds with immutable `name:version` versions and labels (archived version by version or by name). */
export const VERSIONED_KINDS = ['data', 'model', 'environment', 'component'] as const satisfies readonly AssetKind[];
export type VersionedKind = (typeof VERSIONED_KINDS)[number];

/** Kinds with one mutable definition per name (archived as a whole; the built-in datastores never). */
export const UNVERSIONED_KINDS = ['datastore', 'compute'] as const satisfies readonly AssetKind[];
export type UnversionedKind = (typeof UNVERSIONED_KINDS)[number];

/** The plural route segment of each kind: /api/workspaces/{ws}/<segment>/... */
export const KIND_SEGMENTS = {
  datastore: 'datastores',
  data: 'data',
  model: 'models',
  environment: 'environments',
  component: 'components',
  compute: 'computes',
} as const satisfies Record<AssetKind, string>;
export type KindSegment = (typeof KIND_SEGMENTS)[AssetKind];

/** Route constraint of a `{kind}` parameter that names a versioned kind. */
export const VERSIONED_SEGMENT_CONSTRAINT = `regex(^(${VERSIONED_KINDS.map((k) => KIND_SEGMENTS[k]).join('|')})$)`;
/** Route constraint of a `{kind}` parameter that names any kind. */
export const ANY_SEGMENT_CONSTRAINT = `regex(^(${Object.values(KIND_SEGMENTS).join('|')})$)`;

export function isVersionedKind(kind: AssetKind): kind is VersionedKind {
  return (VERSIONED_KINDS as readonly string[]).includes(kind);
}

/** 'models' → 'model'; undefined for a segment that names no kind. */
export function kindFromSegment(segment: string): AssetKind | undefined {
  const entry = Object.entries(KIND_SEGMENTS).find(([, s]) => s === segment);
  return entry?.[0] as AssetKind | undefined;
}

/** How a kind is named in messages: 'data asset', 'model', 'datastore'. */
export function describeKind(kind: AssetKind): string {
  return kind === 'data' ? 'data asset' : kind;
}

/** The four datastores Azure ML gives every workspace; they exist without being created. */
export const BUILTIN_DATASTORES = [
  'workspaceblobstore',
  'workspaceartifactstore',
  'workspacefilestore',
  'workspaceworkingdirectory',
] as const;
export type BuiltinDatastore = (typeof BUILTIN_DATASTORES)[number];
export const DEFAULT_DATASTORE: BuiltinDatastore = 'workspaceblobstore';

export function isBuiltinDatastore(name: string): name is BuiltinDatastore {
  return (BUILTIN_DATASTORES as readonly string[]).includes(name);
}

/** The label every versioned asset has: its most recently created version that is not archived. */
export const LATEST_LABEL = 'latest';

/** Asset names as Azure ML allows them (letters, digits, '-', '_', '.'; starting with a letter or digit). */
export const assetNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, {
  error: "A name has 1-200 letters, digits, '-', '_' or '.', and starts with a letter or digit",
});

export const assetVersionSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, {
  error: "A version has 1-50 letters, digits, '-', '_' or '.', and starts with a letter or digit",
});

export const labelNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: "A label has 1-64 letters, digits, '-', '_' or '.', and starts with a letter or digit",
});

const tagsSchema = z.record(z.string().min(1).max(256), z.string().max(256));

/** `?archived=`: active only (default), archived only, or both. */
export const archivedFilterSchema = z.enum(['false', 'true', 'all']);
export type ArchivedFilter = z.infer<typeof archivedFilterSchema>;

/** `tag=key` (the tag is set) or `tag=key=value` (it has that value). */
export interface TagFilter {
  key: string;
  value?: string;
}

export const tagFilterSchema = z
  .string()
  .min(1)
  .max(520)
  .transform((raw, ctx): TagFilter => {
    const at = raw.indexOf('=');
    const key = at < 0 ? raw : raw.slice(0, at);
    if (key === '') {
      ctx.addIssue({ code: 'custom', message: 'Expected tag=key or tag=key=value; the key is empty' });
      return z.NEVER;
    }
    return at < 0 ? { key } : { key, value: raw.slice(at + 1) };
  });

/** A `{kind}` route segment ('models') as its kind ('model'). */
export const kindSegmentSchema = z.string().transform((segment, ctx): AssetKind => {
  const kind = kindFromSegment(segment);
  if (kind === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `Expected one of ${Object.values(KIND_SEGMENTS).join(', ')}; got '${segment}'`,
    });
    return z.NEVER;
  }
  return kind;
});

/** `{action}` of the archive endpoints: true to archive, false to restore. */
export const archiveActionSchema = z.enum(['archive', 'restore']).transform((action) => action === 'archive');

/** Body of the PUT/POST endpoints that take a spec: a JSON object, validated by the kind's contract. */
export const assetSpecBodySchema = z.record(z.string(), z.unknown(), {
  error: 'Expected a JSON object: the spec, with the keys of its Azure ML YAML',
});

/** Query string of the list endpoints. */
export const assetListQuerySchema = pageQuerySchema.extend({
  name: assetNameSchema.optional(),
  tag: tagFilterSchema.optional(),
  archived: archivedFilterSchema.optional(),
});
export type AssetListQuery = z.infer<typeof assetListQuerySchema>;

/** Query string of GET .../{name}: which label to resolve (default `latest`). */
export const assetLabelQuerySchema = z.object({ label: labelNameSchema.optional() });

/** Body of PATCH .../versions/{version}: the only mutable fields of a version. */
export const assetPatchBodySchema = z.strictObject({
  description: z.string().max(4096).optional(),
  tags: tagsSchema.optional(),
});
export type AssetPatchBody = z.infer<typeof assetPatchBodySchema>;

/** Body of PUT .../{name}/labels/{label}. */
export const labelPutBodySchema = z.strictObject({ version: assetVersionSchema });
export type LabelPutBody = z.infer<typeof labelPutBodySchema>;

// ---------------------------------------------------------------------------------------------
// Stored documents (container 'assets', partition key = workspace name)
// ---------------------------------------------------------------------------------------------

const storedSpecSchema = z.record(z.string(), z.unknown());
const epochMs = z.number().int();

/** Tags in a form the metadata store can filter with 'contains': keys, and JSON [key, value] pairs. */
const tagIndexShape = {
  tagKeys: z.array(z.string()),
  tagPairs: z.array(z.string()),
};

/** One immutable version: id `<kind>:<name>:<version>`. */
export const assetVersionDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('assetVersion'),
  schemaVersion: z.literal(1),
  assetKind: z.enum(VERSIONED_KINDS),
  name: z.string(),
  version: z.string(),
  /** Creation order within the name (from the name's counter document). */
  seq: z.number().int().min(1),
  /** The validated spec, `name` and `version` filled in. */
  spec: storedSpecSchema,
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  ...tagIndexShape,
  archived: z.boolean(),
  createdAt: epochMs,
  updatedAt: epochMs,
  createdBy: z.string(),
});
export type AssetVersionDocument = z.infer<typeof assetVersionDocumentSchema>;

/** The name of a versioned asset, id `<kind>:<name>`: version counter, user labels, and its latest version. */
export const assetContainerDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('assetContainer'),
  schemaVersion: z.literal(1),
  assetKind: z.enum(VERSIONED_KINDS),
  name: z.string(),
  /** Versions reserved so far (the next version created gets seq + 1). */
  seq: z.number().int().min(0),
  /** Largest all-digits version reserved so far; the next automatic version is this + 1. */
  maxNumericVersion: z.number().int().min(0),
  labels: z.record(z.string(), z.string()),
  /** The version `latest` resolves to (or, when every version is archived, the newest one). */
  latest: z.object({ version: z.string(), seq: z.number().int(), description: z.string().optional() }).optional(),
  /** Tags of `latest`, for list filters. */
  ...tagIndexShape,
  /** True when every version is archived. */
  archived: z.boolean(),
  createdAt: epochMs,
  updatedAt: epochMs,
});
export type AssetContainerDocument = z.infer<typeof assetContainerDocumentSchema>;

/** A datastore or compute: id `<kind>:<name>`. Its secrets are never in it (they are in the SecretStore). */
export const assetResourceDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('assetResource'),
  schemaVersion: z.literal(1),
  assetKind: z.enum(UNVERSIONED_KINDS),
  name: z.string(),
  spec: storedSpecSchema,
  /** Dotted spec paths of the secret values kept in the SecretStore (shown masked), e.g. credentials.account_key. */
  secretPaths: z.array(z.string()),
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  ...tagIndexShape,
  /**
   * Present (true) only while archived: hidden from lists, still readable and usable. Never stored
   * as false, so documents written before archiving existed (no flag) read as active and list
   * filters need only test whether the flag exists.
   */
  archived: z.literal(true).optional(),
  createdAt: epochMs,
  updatedAt: epochMs,
  createdBy: z.string(),
  updatedBy: z.string(),
});
export type AssetResourceDocument = z.infer<typeof assetResourceDocumentSchema>;

// ---------------------------------------------------------------------------------------------
// What the API returns
// ---------------------------------------------------------------------------------------------

/** The mask that replaces every credential value in responses. */
export const SECRET_MASK = '***';

export const assetSchema = z.object({
  /** `azureml:<name>:<version>`, or `azureml:<name>` for datastores and computes. */
  id: z.string(),
  kind: z.enum(['datastore', 'data', 'model', 'environment', 'component', 'compute']),
  name: z.string(),
  /** Absent for datastores and computes. */
  version: z.string().optional(),
  /** The spec as registered (snake_case Azure ML fields); secrets (datastore credentials) masked. */
  spec: z.record(z.string(), z.unknown()),
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  archived: z.boolean(),
  /** Labels that resolve to this version, `latest` included. */
  labels: z.array(z.string()).optional(),
  /** True for the built-in datastores. */
  builtin: z.boolean().optional(),
  /** ISO 8601. */
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string().optional(),
});
export type Asset = z.infer<typeof assetSchema>;

export const assetListSchema = z.object({
  value: z.array(assetSchema),
  /** Pass back as `continuation` to get the next page. */
  continuation: z.string().optional(),
});
export type AssetList = z.infer<typeof assetListSchema>;

/** Result of archiving or restoring every version of a name. */
export const archiveResultSchema = z.object({
  kind: z.enum(VERSIONED_KINDS),
  name: z.string(),
  archived: z.boolean(),
  /** Versions whose state changed. */
  changed: z.number().int(),
});
export type ArchiveResult = z.infer<typeof archiveResultSchema>;
