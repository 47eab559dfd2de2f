import { z } from 'zod';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../errors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Clock } from '../ports/clock.js';
import type { ResolvedDatastore, StorageLocation } from '../ports/datastore-resolver.js';
import type { DocumentContainer, Filter, MetadataStore, StoredDocument, WithMeta } from '../ports/metadata-store.js';
import type { SecretStore } from '../ports/secret-store.js';
import type { StorageAccountConnector, StorageAccountTarget } from '../ports/storage-account-connector.js';
import { parseOrThrow } from '../contracts/validation.js';
import type { Workspace } from '../contracts/workspace.js';
import type { AssetKind } from '../contracts/azureml/index.js';
import {
  ASSETS_CONTAINER,
  BUILTIN_DATASTORES,
  DEFAULT_DATASTORE,
  KIND_SEGMENTS,
  LATEST_LABEL,
  SECRET_MASK,
  assetNameSchema,
  assetPatchBodySchema,
  assetVersionSchema,
  describeKind,
  isBuiltinDatastore,
  isVersionedKind,
  labelNameSchema,
  labelPutBodySchema,
} from '../contracts/assets.js';
import type {
  ArchiveResult,
  Asset,
  AssetContainerDocument,
  AssetList,
  AssetListQuery,
  AssetResourceDocument,
  AssetVersionDocument,
  BuiltinDatastore,
  UnversionedKind,
  VersionedKind,
} from '../contracts/assets.js';
import { workspaceContainerName } from '../domain/workspace-container.js';
import {
  archivedFilters,
  builtinDatastoreView,
  canonical,
  capitalize,
  containerId,
  decodeResourceCursor,
  encodeResourceCursor,
  firstDifference,
  isRecord,
  newVersionDoc,
  numericVersion,
  parseContainerDoc,
  parseResourceDoc,
  parseVersionDoc,
  prepareSpec,
  requireUnversioned,
  requireVersioned,
  resourceFilters,
  tagFilters,
  tagIndex,
  tagsOf,
  toResourceView,
  toVersionView,
  versionId,
} from './asset-documents.js';
import type { WriteContext } from './asset-documents.js';
import { credentialsOf, extractSecrets, secretNameOf } from './asset-secrets.js';
import {
  DEFAULT_STORAGE_ENDPOINT,
  IDENTITY_STORAGE_ENDPOINTS,
  datastoreFieldsFor,
  datastoreLocationSchema,
  describeStorageLocation,
  storageKindServing,
} from './asset-storage-location.js';
import type { WorkspaceService } from './workspace-service.js';

export interface AssetServiceDeps {
  store: MetadataStore;
  clock: Clock;
  secrets: SecretStore;
  workspaces: Pick<WorkspaceService, 'find'>;
  /** The app's own artifact store: it holds the built-in datastores of every workspace. */
  artifacts: ArtifactStore;
  /** Reaches user-registered storage accounts; absent where none can be reached (the embedded store). */
  storageAccounts?: StorageAccountConnector;
  /** Shown as `account_name` of the built-in datastores (default 'embedded'). */
  storageAccountName?: string;
}

export type { WriteContext } from './asset-documents.js';

export interface PutResult {
  asset: Asset;
  /** False when the version or resource existed already. */
  created: boolean;
}

/** The list query without `name` (the version list names its asset in the path). */
export type VersionListQuery = Omit<AssetListQuery, 'name'>;

/**
 * Assets of a workspace, stored in the 'assets' container partitioned by workspace.
 *
 * Data, models, environments and components have immutable versions (`<kind>:<name>:<version>`)
 * and a per-name document (`<kind>:<name>`) that holds the version counter, the user labels and a
 * copy of the latest version's tags for list filters. Every new version is first reserved in that
 * document with an etag-conditioned write, so concurrent creates never get the same automatic
 * version. `latest` is the most recently created version that is not archived.
 *
 * Datastores and computes have one mutable document per name. Their secrets (a datastore's
 * `credentials`, a compute's `ssh_settings.admin_password`) never reach the metadata store: they go
 * to the SecretStore under `<kind>--<ws>--<name>` and every response shows them masked. The four built-in datastores exist in every workspace without a
 * document. Every call checks that the workspace exists.
 */
export interface AssetService {
  /** Creates `version` (created: true), or returns it unchanged when the spec is the same (created: false). ConflictError when it differs. */
  putVersion(
    workspace: string,
    kind: AssetKind,
    name: string,
    version: string,
    body: unknown,
    context?: WriteContext,
  ): Promise<PutResult>;
  /** Creates the next version: the largest all-digits version + 1, or "1". */
  createVersion(
    workspace: string,
    kind: AssetKind,
    name: string,
    body: unknown,
    context?: WriteContext,
  ): Promise<Asset>;
  getVersion(workspace: string, kind: AssetKind, name: string, version: string): Promise<Asset>;
  /** The version a label points at; `latest` by default. */
  resolveLabel(workspace: string, kind: AssetKind, name: string, label?: string): Promise<Asset>;
  /** Versions of one name, newest first. */
  listVersions(workspace: string, kind: AssetKind, name: string, query?: VersionListQuery): Promise<AssetList>;
  /** Versioned kinds: the latest version of each name, by name. Datastores and computes: each one, built-ins first. */
  list(workspace: string, kind: AssetKind, query?: AssetListQuery): Promise<AssetList>;
  /** Changes description and/or tags; any other field is a ValidationError (versions are immutable). */
  updateVersion(workspace: string, kind: AssetKind, name: string, version: string, body: unknown): Promise<Asset>;
  setVersionArchived(
    workspace: string,
    kind: AssetKind,
    name: string,
    version: string,
    archived: boolean,
  ): Promise<Asset>;
  /** Archives or restores every version of a name. */
  setArchived(workspace: string, kind: AssetKind, name: string, archived: boolean): Promise<ArchiveResult>;
  /**
   * Archives or restores a datastore or compute (idempotent): hidden from lists while archived,
   * still readable and usable. A built-in datastore is a ValidationError; an unknown name NotFound.
   */
  setResourceArchived(workspace: string, kind: AssetKind, name: string, archived: boolean): Promise<Asset>;
  /** Points a user label at a version (body `{ version }`). */
  setLabel(workspace: string, kind: AssetKind, name: string, label: string, body: unknown): Promise<Asset>;
  /** Creates or replaces a datastore or compute. */
  putResource(
    workspace: string,
    kind: AssetKind,
    name: string,
    body: unknown,
    context?: WriteContext,
  ): Promise<PutResult>;
  getResource(workspace: string, kind: AssetKind, name: string): Promise<Asset>;
  /** NotFoundError when absent; a built-in datastore cannot be deleted. */
  deleteResource(workspace: string, kind: AssetKind, name: string): Promise<void>;
  /** Where a datastore's data lives (see DatastoreResolver). */
  resolveDatastore(workspace: string, datastore: string): Promise<ResolvedDatastore>;
  /**
   * Where a container named by a wasb(s)/abfs(s) URI is read from (see DatastoreResolver): this
   * workspace's own container of the platform's account; else a datastore of the workspace
   * registered for that account, container and endpoint (one of the URI's kind first, then by
   * name), with its credentials; else, where storage accounts can be reached, the app's identity.
   */
  resolveStorageLocation(workspace: string, location: StorageLocation): Promise<ResolvedDatastore>;
}

const MAX_ATTEMPTS = 32;
const DEFAULT_PAGE = 100;
/** Versions named in a not-found message. */
const VERSIONS_IN_MESSAGES = 20;
/** External stores kept open (per datastore definition). */
const EXTERNAL_STORE_CACHE = 64;

type Stored<T> = { doc: T; etag: string };

export function createAssetService(deps: AssetServiceDeps): AssetService {
  const { store, clock, secrets, workspaces } = deps;
  const accountName = deps.storageAccountName ?? 'embedded';
  let containerPromise: Promise<DocumentContainer> | undefined;
  const documents = (): Promise<DocumentContainer> => {
    containerPromise ??= store.container(ASSETS_CONTAINER).catch((err: unknown) => {
      containerPromise = undefined;
      throw err;
    });
    return containerPromise;
  };
  const externalStores = new Map<string, Promise<ArtifactStore>>();

  // -------------------------------------------------------------------------------------------
  // Reading and checking
  // -------------------------------------------------------------------------------------------

  const requireWorkspace = async (workspace: string): Promise<Workspace> => {
    const found = await workspaces.find(workspace);
    if (found === undefined) {
      throw new NotFoundError(
        `Workspace '${workspace}' does not exist. Create it with PUT /api/workspaces/${workspace} (tessera workspace create --name ${workspace}).`,
        { target: 'workspace' },
      );
    }
    return found;
  };

  /** One stored document, parsed again on the way out, with the etag its next write must match. */
  const readDoc = async <T extends StoredDocument>(
    workspace: string,
    id: string,
    parse: (stored: WithMeta<T>) => T,
  ): Promise<Stored<T> | undefined> => {
    const stored = await (await documents()).read<T>(workspace, id);
    return stored && { doc: parse(stored), etag: stored._etag };
  };
  const readVersion = (workspace: string, kind: VersionedKind, name: string, version: string) =>
    readDoc<AssetVersionDocument>(workspace, versionId(kind, name, version), parseVersionDoc);
  const readContainer = (workspace: string, kind: VersionedKind, name: string) =>
    readDoc<AssetContainerDocument>(workspace, containerId(kind, name), parseContainerDoc);
  const readResource = (workspace: string, kind: UnversionedKind, name: string) =>
    readDoc<AssetResourceDocument>(workspace, containerId(kind, name), parseResourceDoc);

  /** Versions of a name, newest first (one page). */
  const queryVersions = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    filters: readonly Filter[],
    limit: number,
    continuation?: string,
  ): Promise<{ items: AssetVersionDocument[]; continuation?: string }> => {
    const page = await (
      await documents()
    ).query<AssetVersionDocument>({
      partitionKey: workspace,
      filters: [
        { path: 'kind', op: '=', value: 'assetVersion' },
        { path: 'assetKind', op: '=', value: kind },
        { path: 'name', op: '=', value: name },
        ...filters,
      ],
      orderBy: [{ path: 'seq', direction: 'desc' }],
      limit,
      ...(continuation === undefined ? {} : { continuation }),
    });
    const items = page.items.map(parseVersionDoc);
    return page.continuation === undefined ? { items } : { items, continuation: page.continuation };
  };

  const newestVersion = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    activeOnly: boolean,
  ): Promise<AssetVersionDocument | undefined> => {
    const filters: Filter[] = activeOnly ? [{ path: 'archived', op: '=', value: false }] : [];
    return (await queryVersions(workspace, kind, name, filters, 1)).items[0];
  };

  /** NotFoundError naming the asset and the versions that exist. */
  const versionNotFound = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    version: string | undefined,
  ): Promise<NotFoundError> => {
    const existing = (await queryVersions(workspace, kind, name, [], VERSIONS_IN_MESSAGES)).items;
    const what = `${describeKind(kind)} '${name}'`;
    if (existing.length === 0) {
      return new NotFoundError(
        `${capitalize(what)} does not exist in workspace '${workspace}'. Create it with PUT or POST /api/workspaces/${workspace}/${KIND_SEGMENTS[kind]}/${name}/versions.`,
        { target: 'name' },
      );
    }
    const active = existing.find((v) => !v.archived);
    const listed = existing.map((v) => v.version + (v.archived ? ' (archived)' : '')).join(', ');
    const more = existing.length === VERSIONS_IN_MESSAGES ? ', ...' : '';
    return new NotFoundError(
      `Version '${version}' of ${what} does not exist in workspace '${workspace}'. ` +
        `Versions (newest first): ${listed}${more}${active ? `; latest is ${active.version}` : ''}.`,
      { target: 'version' },
    );
  };

  const getVersionDoc = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    version: string,
  ): Promise<Stored<AssetVersionDocument>> => {
    const found = await readVersion(workspace, kind, name, version);
    if (found === undefined) throw await versionNotFound(workspace, kind, name, version);
    return found;
  };

  const labelsOf = (container: AssetContainerDocument | undefined, version: string): string[] => {
    if (container === undefined) return [];
    const labels = Object.entries(container.labels)
      .filter(([, v]) => v === version)
      .map(([label]) => label)
      .sort();
    return container.latest?.version === version && !container.archived ? [LATEST_LABEL, ...labels] : labels;
  };

  const viewVersion = async (workspace: string, doc: AssetVersionDocument): Promise<Asset> => {
    const container = await readContainer(workspace, doc.assetKind, doc.name);
    return toVersionView(doc, labelsOf(container?.doc, doc.version));
  };

  // -------------------------------------------------------------------------------------------
  // The per-name document: reservations, labels, latest
  // -------------------------------------------------------------------------------------------

  /** Reserves a version number and a creation sequence in the name's document (etag-conditioned). */
  const reserve = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    explicit: string | undefined,
  ): Promise<{ version: string; seq: number }> => {
    const c = await documents();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const existing = await readContainer(workspace, kind, name);
      const now = clock.now();
      const base: AssetContainerDocument = existing?.doc ?? {
        id: containerId(kind, name),
        pk: workspace,
        kind: 'assetContainer',
        schemaVersion: 1,
        assetKind: kind,
        name,
        seq: 0,
        maxNumericVersion: 0,
        labels: {},
        tagKeys: [],
        tagPairs: [],
        archived: false,
        createdAt: now,
        updatedAt: now,
      };
      const version = explicit ?? String(base.maxNumericVersion + 1);
      const next: AssetContainerDocument = {
        ...base,
        seq: base.seq + 1,
        maxNumericVersion: Math.max(base.maxNumericVersion, numericVersion(version) ?? 0),
        updatedAt: Math.max(now, base.updatedAt),
      };
      const write = existing === undefined ? c.create(next) : c.replace(next, { ifMatch: existing.etag });
      if (await wonWrite(write)) return { version, seq: next.seq };
    }
    throw busy(kind, name);
  };

  /** Applies `change` to the name's document with etag-conditioned retries. */
  const updateContainer = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    change: (doc: AssetContainerDocument) => Promise<AssetContainerDocument> | AssetContainerDocument,
  ): Promise<AssetContainerDocument | undefined> => {
    const c = await documents();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const existing = await readContainer(workspace, kind, name);
      if (existing === undefined) return undefined;
      const next = { ...(await change(existing.doc)), updatedAt: Math.max(clock.now(), existing.doc.updatedAt) };
      if (await wonWrite(c.replace(next, { ifMatch: existing.etag }))) return next;
    }
    throw busy(kind, name);
  };

  /**
   * Recomputes `latest`, its tags and `archived` from the versions. The query runs after the read of
   * the name's document, so a write based on an older query fails its etag check and is redone.
   */
  const refreshContainer = (workspace: string, kind: VersionedKind, name: string): Promise<unknown> =>
    updateContainer(workspace, kind, name, async (doc) => {
      const active = await newestVersion(workspace, kind, name, true);
      const newest = active ?? (await newestVersion(workspace, kind, name, false));
      const tags = newest?.tags ?? {};
      return {
        ...doc,
        ...(newest === undefined
          ? {}
          : {
              latest: {
                version: newest.version,
                seq: newest.seq,
                ...(newest.description === undefined ? {} : { description: newest.description }),
              },
            }),
        ...tagIndex(tags),
        archived: newest !== undefined && active === undefined,
      };
    });

  // -------------------------------------------------------------------------------------------
  // Versioned kinds
  // -------------------------------------------------------------------------------------------

  const putVersion = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    versionIn: string,
    body: unknown,
    context: WriteContext = {},
  ): Promise<PutResult> => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const version = parseOrThrow(assetVersionSchema, versionIn, 'version');
    await requireWorkspace(workspace);
    const spec = prepareSpec(kind, name, body, version);

    const existing = await readVersion(workspace, kind, name, version);
    if (existing !== undefined) return { asset: await sameOrConflict(workspace, existing, spec), created: false };

    const { seq } = await reserve(workspace, kind, name, version);
    const doc = newVersionDoc(workspace, kind, name, version, seq, spec, context, clock.now());
    try {
      await (await documents()).create(doc);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Created concurrently: the same content is fine, other content is a conflict.
      const raced = await getVersionDoc(workspace, kind, name, version);
      return { asset: await sameOrConflict(workspace, raced, spec), created: false };
    }
    await refreshContainer(workspace, kind, name);
    return { asset: await viewVersion(workspace, doc), created: true };
  };

  /** An existing version met by a PUT: unchanged (or description/tags updated) when the spec is the same. */
  const sameOrConflict = async (
    workspace: string,
    existing: Stored<AssetVersionDocument>,
    spec: Record<string, unknown>,
  ): Promise<Asset> => {
    const { doc } = existing;
    const differing = firstDifference(doc.spec, spec);
    if (differing !== undefined) {
      throw new ConflictError(
        `Version '${doc.version}' of ${describeKind(doc.assetKind)} '${doc.name}' already exists with different ` +
          `content (${differing} differs). Versions are immutable: create a new version with POST ` +
          `/api/workspaces/${workspace}/${KIND_SEGMENTS[doc.assetKind]}/${doc.name}/versions, or PUT another version.`,
        { target: differing },
      );
    }
    // Description and tags the body sets (and that differ) are updated, as PATCH would.
    const patch = Object.fromEntries(
      (['description', 'tags'] as const)
        .filter((key) => key in spec && canonical(spec[key]) !== canonical(doc.spec[key]))
        .map((key) => [key, spec[key]]),
    );
    if (Object.keys(patch).length === 0) return viewVersion(workspace, doc);
    return updateVersion(workspace, doc.assetKind, doc.name, doc.version, patch);
  };

  const createVersion = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    body: unknown,
    context: WriteContext = {},
  ): Promise<Asset> => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    if (isRecord(body) && body.version !== undefined && body.version !== null) {
      throw new ValidationError(
        `The body sets version '${String(body.version)}', but POST .../versions picks the next version itself. ` +
          `To create a given version, PUT /api/workspaces/${workspace}/${KIND_SEGMENTS[kind]}/${name}/versions/${String(body.version)}.`,
        { target: 'version' },
      );
    }
    await requireWorkspace(workspace);
    const spec = prepareSpec(kind, name, body, undefined);
    const c = await documents();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { version, seq } = await reserve(workspace, kind, name, undefined);
      const doc = newVersionDoc(workspace, kind, name, version, seq, { ...spec, version }, context, clock.now());
      try {
        await c.create(doc);
      } catch (err) {
        // Someone created that exact version with PUT after our reservation: take the next one.
        if (err instanceof ConflictError) continue;
        throw err;
      }
      await refreshContainer(workspace, kind, name);
      return viewVersion(workspace, doc);
    }
    throw busy(kind, name);
  };

  const getVersion = async (workspace: string, kindIn: AssetKind, nameIn: string, versionIn: string) => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const version = parseOrThrow(assetVersionSchema, versionIn, 'version');
    await requireWorkspace(workspace);
    return viewVersion(workspace, (await getVersionDoc(workspace, kind, name, version)).doc);
  };

  const resolveLabel = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    labelIn: string = LATEST_LABEL,
  ): Promise<Asset> => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const label = parseOrThrow(labelNameSchema, labelIn, 'label');
    await requireWorkspace(workspace);
    if (label === LATEST_LABEL) {
      const latest = await newestVersion(workspace, kind, name, true);
      if (latest !== undefined) return viewVersion(workspace, latest);
      const any = await newestVersion(workspace, kind, name, false);
      if (any === undefined) throw await versionNotFound(workspace, kind, name, undefined);
      throw new NotFoundError(
        `Every version of ${describeKind(kind)} '${name}' is archived, so it has no latest version. Ask for a ` +
          `version explicitly (newest: ${any.version}), or restore one with POST /api/workspaces/${workspace}/` +
          `${KIND_SEGMENTS[kind]}/${name}/versions/${any.version}/restore.`,
        { target: 'label' },
      );
    }
    const container = await readContainer(workspace, kind, name);
    if (container === undefined) throw await versionNotFound(workspace, kind, name, undefined);
    const version = container.doc.labels[label];
    if (version === undefined) {
      const labels = [LATEST_LABEL, ...Object.keys(container.doc.labels).sort()].join(', ');
      throw new NotFoundError(
        `Label '${label}' is not set on ${describeKind(kind)} '${name}'. Labels: ${labels}. Set it with PUT ` +
          `/api/workspaces/${workspace}/${KIND_SEGMENTS[kind]}/${name}/labels/${label} {"version": "..."}.`,
        { target: 'label' },
      );
    }
    const doc = (await getVersionDoc(workspace, kind, name, version)).doc;
    return toVersionView(doc, labelsOf(container.doc, doc.version));
  };

  const listVersions = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    query: VersionListQuery = {},
  ): Promise<AssetList> => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    await requireWorkspace(workspace);
    const container = await readContainer(workspace, kind, name);
    if (container === undefined) throw await versionNotFound(workspace, kind, name, undefined);
    const page = await queryVersions(
      workspace,
      kind,
      name,
      [...archivedFilters(query.archived), ...tagFilters(query.tag)],
      query.limit ?? DEFAULT_PAGE,
      query.continuation,
    );
    const value = page.items.map((doc) => toVersionView(doc, labelsOf(container.doc, doc.version)));
    return page.continuation === undefined ? { value } : { value, continuation: page.continuation };
  };

  const listLatest = async (workspace: string, kind: VersionedKind, query: AssetListQuery): Promise<AssetList> => {
    const page = await (
      await documents()
    ).query<AssetContainerDocument>({
      partitionKey: workspace,
      filters: [
        { path: 'kind', op: '=', value: 'assetContainer' },
        { path: 'assetKind', op: '=', value: kind },
        { path: 'latest', op: 'exists' },
        ...(query.name === undefined ? [] : [{ path: 'name', op: '=' as const, value: query.name }]),
        ...archivedFilters(query.archived),
        ...tagFilters(query.tag),
      ],
      orderBy: [{ path: 'name' }],
      limit: query.limit ?? DEFAULT_PAGE,
      ...(query.continuation === undefined ? {} : { continuation: query.continuation }),
    });
    const containers = page.items.map(parseContainerDoc);
    const views = await Promise.all(
      containers.map(async (container) => {
        const latest = container.latest;
        if (latest === undefined) return undefined;
        const found = await readVersion(workspace, kind, container.name, latest.version);
        return found && toVersionView(found.doc, labelsOf(container, latest.version));
      }),
    );
    const value = views.filter((v): v is Asset => v !== undefined);
    return page.continuation === undefined ? { value } : { value, continuation: page.continuation };
  };

  const updateVersion = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    versionIn: string,
    body: unknown,
  ): Promise<Asset> => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const version = parseOrThrow(assetVersionSchema, versionIn, 'version');
    if (!isRecord(body)) {
      throw new ValidationError('The body must be a JSON object with description and/or tags.', { target: 'body' });
    }
    const immutable = Object.keys(body).filter((key) => key !== 'description' && key !== 'tags');
    const first = immutable[0];
    if (first !== undefined) {
      throw new ValidationError(
        `${first}: versions are immutable; only description and tags can be changed. To change ` +
          `${immutable.join(', ')}, create a new version with POST /api/workspaces/${workspace}/` +
          `${KIND_SEGMENTS[kind]}/${name}/versions.`,
        { target: first },
      );
    }
    const patch = parseOrThrow(assetPatchBodySchema, body, 'body');
    await requireWorkspace(workspace);
    const doc = await writeVersion(workspace, kind, name, version, (current) => {
      const description = patch.description ?? current.description;
      const tags = patch.tags ?? current.tags;
      const spec: Record<string, unknown> = { ...current.spec, tags };
      if (description === undefined) delete spec.description;
      else spec.description = description;
      return {
        ...current,
        spec,
        ...(description === undefined ? {} : { description }),
        tags,
        ...tagIndex(tags),
      };
    });
    await refreshContainer(workspace, kind, name);
    return viewVersion(workspace, doc);
  };

  /** Applies `change` to one version document with etag-conditioned retries. */
  const writeVersion = async (
    workspace: string,
    kind: VersionedKind,
    name: string,
    version: string,
    change: (doc: AssetVersionDocument) => AssetVersionDocument,
  ): Promise<AssetVersionDocument> => {
    const c = await documents();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const existing = await getVersionDoc(workspace, kind, name, version);
      const next = { ...change(existing.doc), updatedAt: Math.max(clock.now(), existing.doc.updatedAt) };
      if (await wonWrite(c.replace(next, { ifMatch: existing.etag }))) return next;
    }
    throw busy(kind, name);
  };

  const setVersionArchived = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    versionIn: string,
    archived: boolean,
  ): Promise<Asset> => {
    const kind = requireVersioned(kindIn, workspace, archived ? 'archive' : 'restore');
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const version = parseOrThrow(assetVersionSchema, versionIn, 'version');
    await requireWorkspace(workspace);
    const doc = await writeVersion(workspace, kind, name, version, (current) => ({ ...current, archived }));
    await refreshContainer(workspace, kind, name);
    return viewVersion(workspace, doc);
  };

  const setArchived = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    archived: boolean,
  ): Promise<ArchiveResult> => {
    const kind = requireVersioned(kindIn, workspace, archived ? 'archive' : 'restore');
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    await requireWorkspace(workspace);
    if ((await readContainer(workspace, kind, name)) === undefined) {
      throw await versionNotFound(workspace, kind, name, undefined);
    }
    let changed = 0;
    // Changed versions leave the filter, so each round starts from the top; a version that keeps
    // failing its write ends the loop through writeVersion's own retry limit.
    for (;;) {
      const page = await queryVersions(workspace, kind, name, [{ path: 'archived', op: '=', value: !archived }], 100);
      if (page.items.length === 0) break;
      for (const item of page.items) {
        await writeVersion(workspace, kind, name, item.version, (current) => ({ ...current, archived }));
        changed++;
      }
    }
    await refreshContainer(workspace, kind, name);
    return { kind, name, archived, changed };
  };

  const setLabel = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    labelIn: string,
    body: unknown,
  ): Promise<Asset> => {
    const kind = requireVersioned(kindIn, workspace);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const label = parseOrThrow(labelNameSchema, labelIn, 'label');
    if (label === LATEST_LABEL) {
      throw new ValidationError(
        "'latest' is kept by Tessera (the newest version that is not archived) and cannot be set; choose another label.",
        { target: 'label' },
      );
    }
    const { version } = parseOrThrow(labelPutBodySchema, body, 'body');
    await requireWorkspace(workspace);
    const target = (await getVersionDoc(workspace, kind, name, version)).doc;
    if (target.archived) {
      throw new ValidationError(
        `Version '${version}' of ${describeKind(kind)} '${name}' is archived; restore it before labelling it.`,
        { target: 'version' },
      );
    }
    const container = await updateContainer(workspace, kind, name, (doc) => ({
      ...doc,
      labels: { ...doc.labels, [label]: version },
    }));
    return toVersionView(target, labelsOf(container, version));
  };

  // -------------------------------------------------------------------------------------------
  // Datastores and computes
  // -------------------------------------------------------------------------------------------

  const putResource = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    body: unknown,
    context: WriteContext = {},
  ): Promise<PutResult> => {
    const kind = requireUnversioned(kindIn);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    if (kind === 'datastore' && isBuiltinDatastore(name)) {
      throw new ValidationError(
        `'${name}' is a built-in datastore of every workspace and cannot be replaced; register your storage under another name.`,
        { target: 'name' },
      );
    }
    await requireWorkspace(workspace);
    const { spec, secrets: secretValues } = extractSecrets(kind, prepareSpec(kind, name, body, undefined));
    const secretName = secretNameOf(kind, workspace, name);
    const c = await documents();

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const existing = await readResource(workspace, kind, name);
      // Secrets first: a stored document never points at secrets that are not there.
      const secretPaths = await storeSecrets(secretName, secretValues, existing?.doc);
      const now = clock.now();
      const by = context.principal ?? 'anonymous';
      const tags = tagsOf(spec);
      const description = typeof spec.description === 'string' ? spec.description : undefined;
      const doc: AssetResourceDocument = {
        id: containerId(kind, name),
        pk: workspace,
        kind: 'assetResource',
        schemaVersion: 1,
        assetKind: kind,
        name,
        spec,
        secretPaths,
        ...(description === undefined ? {} : { description }),
        tags,
        ...tagIndex(tags),
        // Defining it again does not restore it.
        ...(existing?.doc.archived === true ? { archived: true as const } : {}),
        createdAt: existing?.doc.createdAt ?? now,
        updatedAt: Math.max(now, existing?.doc.updatedAt ?? now),
        createdBy: existing?.doc.createdBy ?? by,
        updatedBy: by,
      };
      const write = existing === undefined ? c.create(doc) : c.replace(doc, { ifMatch: existing.etag });
      if (!(await wonWrite(write))) continue;
      // Registered again without secrets (an identity-based datastore): drop the old ones.
      if (secretPaths.length === 0 && (existing?.doc.secretPaths.length ?? 0) > 0) await secrets.delete(secretName);
      return { asset: toResourceView(doc), created: existing === undefined };
    }
    throw busy(kind, name);
  };

  /**
   * Stores a resource's secret values and returns their paths. A value sent as the mask (a GET
   * response sent back) keeps the stored value at that path.
   */
  const storeSecrets = async (
    secretName: string,
    values: Readonly<Record<string, string>>,
    existing: AssetResourceDocument | undefined,
  ): Promise<string[]> => {
    const paths = Object.keys(values).sort();
    if (paths.length === 0) return [];
    const masked = paths.filter((path) => values[path] === SECRET_MASK);
    let merged: Record<string, string> = { ...values };
    if (masked.length > 0) {
      const stored = existing !== undefined && existing.secretPaths.length > 0 ? await readSecrets(secretName) : {};
      const missing = masked.filter((path) => stored[path] === undefined);
      if (missing.length > 0) {
        throw new ValidationError(
          `${missing[0]}: '${SECRET_MASK}' stands for a stored secret, and none is stored at ${missing.join(', ')}. ` +
            'Send the real value.',
          { target: missing[0] },
        );
      }
      merged = { ...values, ...Object.fromEntries(masked.map((path) => [path, stored[path] ?? ''])) };
      if (paths.every((path) => merged[path] === stored[path]) && sameKeys(Object.keys(stored), paths)) return paths;
    }
    await secrets.put(secretName, JSON.stringify(merged));
    return paths;
  };

  const readSecrets = async (secretName: string): Promise<Record<string, string>> => {
    const raw = await secrets.get(secretName);
    return raw === undefined ? {} : storedSecretsSchema.parse(JSON.parse(raw));
  };

  const getResource = async (workspace: string, kindIn: AssetKind, nameIn: string): Promise<Asset> => {
    const kind = requireUnversioned(kindIn);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    const ws = await requireWorkspace(workspace);
    if (kind === 'datastore' && isBuiltinDatastore(name)) return builtinDatastoreView(ws, name, accountName);
    const found = await readResource(workspace, kind, name);
    if (found === undefined) throw await resourceNotFound(ws, kind, name);
    return toResourceView(found.doc);
  };

  const setResourceArchived = async (
    workspace: string,
    kindIn: AssetKind,
    nameIn: string,
    archived: boolean,
  ): Promise<Asset> => {
    const kind = requireUnversioned(kindIn);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    if (kind === 'datastore' && isBuiltinDatastore(name)) {
      throw new ValidationError(
        `'${name}' is a built-in datastore of workspace '${workspace}' and cannot be ${archived ? 'archived' : 'restored'}: ` +
          'built-in datastores always exist.',
        { target: 'name' },
      );
    }
    const ws = await requireWorkspace(workspace);
    const c = await documents();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const existing = await readResource(workspace, kind, name);
      if (existing === undefined) throw await resourceNotFound(ws, kind, name);
      if ((existing.doc.archived === true) === archived) return toResourceView(existing.doc);
      const { archived: _previous, ...rest } = existing.doc;
      const next: AssetResourceDocument = {
        ...rest,
        ...(archived ? { archived: true as const } : {}),
        updatedAt: Math.max(clock.now(), existing.doc.updatedAt),
      };
      if (await wonWrite(c.replace(next, { ifMatch: existing.etag }))) return toResourceView(next);
    }
    throw busy(kind, name);
  };

  const resourceNotFound = async (ws: Workspace, kind: UnversionedKind, name: string): Promise<NotFoundError> => {
    const page = await listResources(ws, kind, { limit: VERSIONS_IN_MESSAGES });
    const names = page.value.map((a) => a.name);
    const listed = names.length === 0 ? 'none' : names.join(', ') + (page.continuation === undefined ? '' : ', ...');
    return new NotFoundError(
      `${capitalize(describeKind(kind))} '${name}' does not exist in workspace '${ws.name}'. ` +
        `${capitalize(KIND_SEGMENTS[kind])}: ${listed}.`,
      { target: 'name' },
    );
  };

  const deleteResource = async (workspace: string, kindIn: AssetKind, nameIn: string): Promise<void> => {
    const kind = requireUnversioned(kindIn);
    const name = parseOrThrow(assetNameSchema, nameIn, 'name');
    if (kind === 'datastore' && isBuiltinDatastore(name)) {
      throw new ValidationError(`'${name}' is a built-in datastore of every workspace and cannot be deleted.`, {
        target: 'name',
      });
    }
    const ws = await requireWorkspace(workspace);
    const found = await readResource(workspace, kind, name);
    if (found === undefined) throw await resourceNotFound(ws, kind, name);
    await (await documents()).delete(workspace, found.doc.id);
    if (found.doc.secretPaths.length > 0) await secrets.delete(secretNameOf(kind, workspace, name));
  };

  const listResources = async (ws: Workspace, kind: UnversionedKind, query: AssetListQuery): Promise<AssetList> => {
    const workspace = ws.name;
    const limit = query.limit ?? DEFAULT_PAGE;
    const cursor = decodeResourceCursor(query.continuation);
    const value: Asset[] = [];

    // Built-in datastores come first; they have no tags, so a tag filter leaves them out, and they
    // are never archived, so archived=true does.
    const builtins =
      kind === 'datastore' && query.tag === undefined && query.archived !== 'true'
        ? BUILTIN_DATASTORES.filter((n) => query.name === undefined || query.name === n)
        : [];
    let offset = cursor.b;
    if (offset < builtins.length) {
      for (; offset < builtins.length && value.length < limit; offset++) {
        value.push(builtinDatastoreView(ws, builtins[offset] as BuiltinDatastore, accountName));
      }
      if (value.length === limit) {
        return offset < builtins.length || (await hasStoredResources(workspace, kind, query))
          ? { value, continuation: encodeResourceCursor({ b: offset }) }
          : { value };
      }
    }
    const page = await (
      await documents()
    ).query<AssetResourceDocument>({
      partitionKey: workspace,
      filters: resourceFilters(kind, query),
      orderBy: [{ path: 'name' }],
      limit: limit - value.length,
      ...(cursor.s === undefined ? {} : { continuation: cursor.s }),
    });
    value.push(...page.items.map((item) => toResourceView(parseResourceDoc(item))));
    return page.continuation === undefined
      ? { value }
      : { value, continuation: encodeResourceCursor({ b: offset, s: page.continuation }) };
  };

  const hasStoredResources = async (
    workspace: string,
    kind: UnversionedKind,
    query: AssetListQuery,
  ): Promise<boolean> => {
    const page = await (
      await documents()
    ).query({ partitionKey: workspace, filters: resourceFilters(kind, query), orderBy: [{ path: 'name' }], limit: 1 });
    return page.items.length > 0;
  };

  const list = async (workspace: string, kind: AssetKind, query: AssetListQuery = {}): Promise<AssetList> => {
    const ws = await requireWorkspace(workspace);
    if (isVersionedKind(kind)) return listLatest(workspace, kind, query);
    return listResources(ws, requireUnversioned(kind), query);
  };

  // -------------------------------------------------------------------------------------------
  // Datastore resolution
  // -------------------------------------------------------------------------------------------

  const resolveDatastore = async (workspace: string, datastoreIn: string): Promise<ResolvedDatastore> => {
    const name = parseOrThrow(assetNameSchema, datastoreIn, 'datastore');
    const ws = await requireWorkspace(workspace);
    if (isBuiltinDatastore(name)) {
      return { store: deps.artifacts, container: workspaceContainerName(workspace), prefix: `${name}/` };
    }
    const found = await readResource(workspace, 'datastore', name);
    if (found === undefined) throw await resourceNotFound(ws, 'datastore', name);
    return openRegistered(workspace, found);
  };

  /** Opens the account of a user-registered datastore through the connector, once per definition. */
  const openRegistered = async (
    workspace: string,
    { doc, etag }: Stored<AssetResourceDocument>,
  ): Promise<ResolvedDatastore> => {
    const name = doc.name;
    const target = parseOrThrow(datastoreLocationSchema, doc.spec, 'spec');
    const account = target.account_name ?? target.store_name ?? '?';
    const connector = deps.storageAccounts;
    if (connector === undefined) {
      throw new ValidationError(
        `Datastore '${name}' points at the external storage account '${account}' (${target.type}), and external ` +
          'storage accounts are not reachable from the embedded store. Use a built-in datastore ' +
          `(azureml://datastores/${DEFAULT_DATASTORE}/paths/...), or run Tessera on Azure (TESSERA_STORE=azure).`,
        { target: 'datastore' },
      );
    }
    if (target.type !== 'azure_blob' && target.type !== 'azure_data_lake_gen2') {
      throw new AppError(
        'Unsupported',
        `Datastore '${name}' is of type ${target.type}; Tessera reads only azure_blob and azure_data_lake_gen2 ` +
          'datastores so far.',
        { target: 'datastore' },
      );
    }
    const container = target.type === 'azure_blob' ? target.container_name : target.filesystem;
    if (target.account_name === undefined || container === undefined) {
      throw new ValidationError(`Datastore '${name}' names no storage account or container.`, { target: 'datastore' });
    }
    const storageAccount = target.account_name;
    const endpoint = target.endpoint ?? DEFAULT_STORAGE_ENDPOINT;
    // A datastore registered without credentials is read with the app's identity.
    if (doc.secretPaths.length === 0) {
      checkOwnAccountReach(workspace, storageAccount, container, name);
      checkIdentityEndpoint(storageAccount, endpoint, name);
    }
    const type = target.type;
    const store = await openCached(connector, `${workspace}\u0000${name}\u0000${etag}`, async () => ({
      type,
      accountName: storageAccount,
      endpoint,
      protocol: target.protocol === 'http' ? 'http' : 'https',
      credentials: await loadCredentials(workspace, name, doc),
    }));
    return { store, container, prefix: '' };
  };

  /** The connector's store for `key`, opened once (a failed open is tried again next time). */
  const openCached = async (
    connector: StorageAccountConnector,
    key: string,
    target: () => Promise<StorageAccountTarget>,
  ): Promise<ArtifactStore> => {
    let opened = externalStores.get(key);
    if (opened === undefined) {
      opened = target().then((t) => connector.open(t));
      externalStores.set(key, opened);
      opened.catch(() => externalStores.delete(key));
      for (const stale of externalStores.keys()) {
        if (externalStores.size <= EXTERNAL_STORE_CACHE) break;
        externalStores.delete(stale);
      }
    }
    return opened;
  };

  /**
   * The app's identity reaches every container of the platform's own account: other workspaces'
   * data, the Functions host's state and its package. A workspace gets only its own container there.
   * `datastore` names the registered datastore being opened, if any.
   */
  const checkOwnAccountReach = (
    workspace: string,
    account: string,
    container: string,
    datastore: string | undefined,
  ): void => {
    const own = workspaceContainerName(workspace);
    if (account.toLowerCase() !== accountName.toLowerCase() || container === own) return;
    throw new ForbiddenError(
      `${datastore === undefined ? '' : `Datastore '${datastore}': `}container '${container}' of '${account}', ` +
        `the platform's own storage account, is not open to workspace '${workspace}'; only its container ` +
        `'${own}' is (its built-in datastores, e.g. azureml://datastores/${DEFAULT_DATASTORE}/paths/...).`,
      { target: datastore === undefined ? 'path' : 'datastore' },
    );
  };

  /** A host outside Azure Storage would receive the app's token and could replay it on any account the app reads. */
  const checkIdentityEndpoint = (account: string, endpoint: string, datastore: string | undefined): void => {
    if (IDENTITY_STORAGE_ENDPOINTS.includes(endpoint.toLowerCase())) return;
    throw new ValidationError(
      `${datastore === undefined ? '' : `Datastore '${datastore}': `}'${account}.blob.${endpoint}' would be read ` +
        "with the app's identity, and the app sends its identity only to Azure Storage endpoints " +
        `(${IDENTITY_STORAGE_ENDPOINTS.join(', ')}). ` +
        (datastore === undefined
          ? 'Register a datastore for it with credentials'
          : 'Register the datastore again with credentials') +
        ' (account_key, sas_token, or tenant_id/client_id/client_secret).',
      { target: datastore === undefined ? 'path' : 'endpoint' },
    );
  };

  const resolveStorageLocation = async (workspace: string, location: StorageLocation): Promise<ResolvedDatastore> => {
    await requireWorkspace(workspace);
    const { account, container, endpointSuffix } = location;
    if (account.toLowerCase() === accountName.toLowerCase() && container === workspaceContainerName(workspace)) {
      return { store: deps.artifacts, container, prefix: '' };
    }
    const registered = await findDatastoreFor(workspace, location);
    if (registered !== undefined) return openRegistered(workspace, registered);
    checkOwnAccountReach(workspace, account, container, undefined);
    const connector = deps.storageAccounts;
    if (connector === undefined) {
      throw new ValidationError(
        `No datastore of workspace '${workspace}' is registered for ${describeStorageLocation(location)}. ` +
          'Storage accounts are read through a datastore registered for them: write a datastore YAML ' +
          `(${datastoreFieldsFor(location)}, and its credentials) and register it with ` +
          '`tessera datastore create --file <datastore.yml>` ' +
          `(PUT /api/workspaces/${workspace}/datastores/<name>). This deployment runs on the embedded store, ` +
          'which reaches no external storage account even then: here, copy the data to a built-in datastore ' +
          `(azureml://datastores/${DEFAULT_DATASTORE}/paths/...) or run Tessera on Azure (TESSERA_STORE=azure).`,
        { target: 'path' },
      );
    }
    checkIdentityEndpoint(account, endpointSuffix, undefined);
    const key = `\u0000identity\u0000${account.toLowerCase()}\u0000${endpointSuffix.toLowerCase()}`;
    const store = await openCached(connector, key, () =>
      Promise.resolve({
        type: location.kind === 'blob' ? 'azure_blob' : 'azure_data_lake_gen2',
        accountName: account,
        endpoint: endpointSuffix,
        protocol: 'https',
        credentials: undefined,
      }),
    );
    return { store, container, prefix: '' };
  };

  /** The datastore of the workspace registered for `location`: one of its kind first, then by name. */
  const findDatastoreFor = async (
    workspace: string,
    location: StorageLocation,
  ): Promise<Stored<AssetResourceDocument> | undefined> => {
    const c = await documents();
    let otherKind: Stored<AssetResourceDocument> | undefined;
    let continuation: string | undefined;
    do {
      const page = await c.query<AssetResourceDocument>({
        partitionKey: workspace,
        filters: resourceFilters('datastore', {}),
        orderBy: [{ path: 'name' }],
        limit: DEFAULT_PAGE,
        ...(continuation === undefined ? {} : { continuation }),
      });
      for (const item of page.items) {
        const doc = parseResourceDoc(item);
        const kind = storageKindServing(doc.spec, location);
        if (kind === location.kind) return { doc, etag: item._etag };
        if (kind !== undefined) otherKind ??= { doc, etag: item._etag };
      }
      continuation = page.continuation;
    } while (continuation !== undefined);
    return otherKind;
  };

  const loadCredentials = async (
    workspace: string,
    name: string,
    doc: AssetResourceDocument,
  ): Promise<Record<string, string> | undefined> => {
    if (doc.secretPaths.length === 0) return undefined;
    const stored = await readSecrets(secretNameOf('datastore', workspace, name));
    if (doc.secretPaths.some((path) => stored[path] === undefined)) {
      throw new ValidationError(
        `The credentials of datastore '${name}' are missing from the secret store; register the datastore again ` +
          `with its credentials (PUT /api/workspaces/${workspace}/datastores/${name}).`,
        { target: 'credentials' },
      );
    }
    return credentialsOf(stored);
  };

  return {
    putVersion,
    createVersion,
    getVersion,
    resolveLabel,
    listVersions,
    list,
    updateVersion,
    setVersionArchived,
    setArchived,
    setResourceArchived,
    setLabel,
    putResource,
    getResource,
    deleteResource,
    resolveDatastore,
    resolveStorageLocation,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers of the stateful half
// ---------------------------------------------------------------------------------------------

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((key, i) => key === [...b].sort()[i]);
}

function isWriteRace(err: unknown): boolean {
  return err instanceof PreconditionFailedError || err instanceof ConflictError || err instanceof NotFoundError;
}

/**
 * Runs one etag-conditioned write; false when it lost a race to another writer (the document
 * changed, appeared or vanished meanwhile), so the caller reads again and retries.
 */
async function wonWrite(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isWriteRace(err)) return false;
    throw err;
  }
}

function busy(kind: AssetKind, name: string): ConflictError {
  return new ConflictError(
    `${capitalize(describeKind(kind))} '${name}' is being changed concurrently; retry the request.`,
    {
      retryable: true,
    },
  );
}

/** A short random pause after a lost etag race, growing with the attempt, so racers spread out. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(100, 2 ** Math.min(attempt, 7));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The SecretStore value of a resource: secret leaves by dotted spec path. */
const storedSecretsSchema = z.record(z.string(), z.string());
