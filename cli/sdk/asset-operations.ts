import { resolve } from 'node:path';
import type { ArchiveResult, Asset, AssetList } from '../../shared/contracts/assets.js';
import { parseDataUri } from '../../shared/domain/data-uri.js';
import { downloadDatastoreUri } from './datastore-download.js';
import type { RawRequester, Requester } from './requester.js';

export type { RawRequester, Requester } from './requester.js';

export interface AssetListOptions {
  /** Only this name. */
  name?: string;
  /** `key` (tag is set) or `key=value`. */
  tag?: string;
  /** Active only (default), archived only, or both. */
  archived?: 'false' | 'true' | 'all';
  limit?: number;
  continuation?: string;
}

export interface VersionSelector {
  version?: string;
  /** A label such as `latest` (the default when no version is given). */
  label?: string;
}

export interface SpecWithName {
  name: string;
  version?: string | number;
  [key: string]: unknown;
}

function listQuery(options: AssetListOptions): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

const enc = encodeURIComponent;

/**
 * Operations on a versioned kind (data, models, environments, components), shaped like the
 * Python SDK v2 (`ml_client.data.create_or_update(...)`, `ml_client.models.get(name, version=)`).
 */
export class VersionedAssetOperations {
  constructor(
    private readonly request: Requester,
    private readonly workspace: () => string,
    /** The route segment: data, models, environments or components. */
    readonly segment: 'data' | 'models' | 'environments' | 'components',
  ) {}

  protected requestData<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.request(method, path, body);
  }

  protected versionPath(name: string, version: string): string {
    return `${this.base(name)}/versions/${enc(version)}`;
  }

  private base(name?: string): string {
    return `workspaces/${enc(this.workspace())}/${this.segment}${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /**
   * Registers a version: the spec's `version` when it has one (idempotent for identical content,
   * 409 otherwise), else the next version number.
   */
  createOrUpdate(spec: SpecWithName): Promise<Asset> {
    const { version } = spec;
    if (version === undefined || version === null || version === '') {
      return this.request('POST', `${this.base(spec.name)}/versions`, spec);
    }
    return this.request('PUT', `${this.base(spec.name)}/versions/${enc(String(version))}`, {
      ...spec,
      version: String(version),
    });
  }

  /** One version, by number or label (default: the `latest` label). */
  get(name: string, selector: VersionSelector = {}): Promise<Asset> {
    if (selector.version !== undefined && selector.label !== undefined) {
      return Promise.reject(new TypeError('get: give either version or label, not both'));
    }
    if (selector.version !== undefined)
      return this.request('GET', `${this.base(name)}/versions/${enc(selector.version)}`);
    return this.request(
      'GET',
      `${this.base(name)}${selector.label === undefined ? '' : `?label=${enc(selector.label)}`}`,
    );
  }

  /** Latest version of each name (or of `options.name`). */
  list(options: AssetListOptions = {}): Promise<AssetList> {
    return this.request('GET', `${this.base()}${listQuery(options)}`);
  }

  listVersions(name: string, options: Omit<AssetListOptions, 'name'> = {}): Promise<AssetList> {
    return this.request('GET', `${this.base(name)}/versions${listQuery(options)}`);
  }

  /** Changes the description and tags of a version (everything else is immutable). */
  update(
    name: string,
    version: string,
    changes: { description?: string; tags?: Record<string, string> },
  ): Promise<Asset> {
    return this.request('PATCH', `${this.base(name)}/versions/${enc(version)}`, changes);
  }

  archive(name: string, selector: { version?: string } = {}): Promise<Asset | ArchiveResult> {
    return this.setArchived(name, selector.version, 'archive');
  }

  restore(name: string, selector: { version?: string } = {}): Promise<Asset | ArchiveResult> {
    return this.setArchived(name, selector.version, 'restore');
  }

  /** Points a user label at a version. */
  setLabel(name: string, label: string, version: string): Promise<Asset> {
    return this.request('PUT', `${this.base(name)}/labels/${enc(label)}`, { version });
  }

  private setArchived(
    name: string,
    version: string | undefined,
    action: 'archive' | 'restore',
  ): Promise<Asset | ArchiveResult> {
    const path =
      version === undefined ? `${this.base(name)}/${action}` : `${this.base(name)}/versions/${enc(version)}/${action}`;
    return this.request('POST', path);
  }
}

/** The first rows of a data asset and the column types inferred from them. */
export interface DataPreview {
  name: string;
  version: string;
  type: string;
  path: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

/** Data assets: the versioned operations plus `preview`. */
export class DataOperations extends VersionedAssetOperations {
  constructor(request: Requester, workspace: () => string) {
    super(request, workspace, 'data');
  }

  /** Reads the first `rows` rows (default 10) of a version, or of the version a label names. */
  async preview(name: string, selector: VersionSelector & { rows?: number } = {}): Promise<DataPreview> {
    const version =
      selector.version ?? (await this.get(name, selector.label === undefined ? {} : { label: selector.label })).version;
    if (version === undefined) throw new TypeError(`preview: data asset '${name}' has no version`);
    const rows = selector.rows === undefined ? '' : `?rows=${selector.rows}`;
    return this.requestData('GET', `${this.versionPath(name, version)}/preview${rows}`);
  }
}

export interface ModelDownload {
  /** Where the files were written: <downloadPath>/<model name>. */
  directory: string;
  files: string[];
}

/** Models: the versioned operations plus `download`. */
export class ModelOperations extends VersionedAssetOperations {
  constructor(
    request: Requester,
    private readonly raw: RawRequester,
    private readonly ws: () => string,
  ) {
    super(request, ws, 'models');
  }

  /**
   * Downloads a model version's files into `<downloadPath>/<name>/`, keeping the name of the
   * model's file or folder, as `az ml model download` does.
   */
  async download(name: string, selector: VersionSelector & { downloadPath?: string } = {}): Promise<ModelDownload> {
    const model = await this.get(name, {
      ...(selector.version === undefined ? {} : { version: selector.version }),
      ...(selector.label === undefined ? {} : { label: selector.label }),
    });
    const path = typeof model.spec.path === 'string' ? model.spec.path : '';
    const uri = parseDataUri(path);
    if (uri.scheme !== 'azureml-datastore') {
      throw new TypeError(
        `download: model ${name}:${model.version ?? ''} lives at ${path}; only models in a workspace datastore are downloaded.`,
      );
    }
    const directory = resolve(selector.downloadPath ?? '.', name);
    const files = await downloadDatastoreUri(
      { request: (method, p, body) => this.requestData(method, p, body), raw: this.raw, workspace: this.ws() },
      uri,
      directory,
      { keepFolderName: true },
    );
    return { directory, files };
  }
}

/** Operations on datastores and computes: one mutable definition per name. */
export class ResourceOperations {
  constructor(
    protected readonly request: Requester,
    private readonly workspace: () => string,
    readonly segment: 'datastores' | 'computes',
  ) {}

  private base(name?: string): string {
    return `workspaces/${enc(this.workspace())}/${this.segment}${name === undefined ? '' : `/${enc(name)}`}`;
  }

  createOrUpdate(spec: SpecWithName): Promise<Asset> {
    return this.request('PUT', this.base(spec.name), spec);
  }

  get(name: string): Promise<Asset> {
    return this.request('GET', this.base(name));
  }

  list(options: AssetListOptions = {}): Promise<AssetList> {
    return this.request('GET', `${this.base()}${listQuery(options)}`);
  }

  /** Hides it from lists (it stays readable and usable); built-in datastores cannot be archived. */
  archive(name: string): Promise<Asset> {
    return this.request('POST', `${this.base(name)}/archive`);
  }

  restore(name: string): Promise<Asset> {
    return this.request('POST', `${this.base(name)}/restore`);
  }

  delete(name: string): Promise<void> {
    return this.request('DELETE', this.base(name));
  }
}

/** Datastores: the resource operations plus `download` of a file or folder inside one. */
export class DatastoreOperations extends ResourceOperations {
  constructor(
    request: Requester,
    private readonly raw: RawRequester,
    private readonly ws: () => string,
  ) {
    super(request, ws, 'datastores');
  }

  /**
   * Downloads `path` of a datastore (a file, or a folder when it ends in '/') into `downloadPath`
   * (default '.'), keeping the folder's name, as `model download` does; e.g. the data an online
   * deployment's data_collector wrote under `modelDataCollector/<endpoint>/<deployment>/`.
   */
  async download(name: string, path: string, options: { downloadPath?: string } = {}): Promise<ModelDownload> {
    const directory = resolve(options.downloadPath ?? '.');
    const files = await downloadDatastoreUri(
      { request: this.request, raw: this.raw, workspace: this.ws() },
      { scheme: 'azureml-datastore', datastore: name, path: path.replace(/^\/+/, '') },
      directory,
      { keepFolderName: true },
    );
    return { directory, files };
  }
}
