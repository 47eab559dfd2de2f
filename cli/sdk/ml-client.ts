import type { CreatedToken, TokenCreateBody, TokenInfo, TokenList } from '../../shared/contracts/token.js';
import type { WorkspacePutBody, WorkspaceView, WorkspaceViewList } from '../../shared/contracts/workspace.js';
import {
  DataOperations,
  DatastoreOperations,
  ModelOperations,
  ResourceOperations,
  VersionedAssetOperations,
} from './asset-operations.js';
import { resolveCredentials } from './credentials.js';
import { JobOperations } from './job-operations.js';
import { OnlineDeploymentOperations, OnlineEndpointOperations } from './online-operations.js';
import type { RawRequester, Requester } from './requester.js';

/** The server's error body, kept whole so callers can act on code and target. */
export class MLClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly body: unknown;

  constructor(status: number, code: string, message: string, target?: string, body?: unknown) {
    super(message);
    this.name = 'MLClientError';
    this.status = status;
    this.code = code;
    this.target = target;
    this.body = body;
  }
}

export interface MLClientOptions {
  /** Base URL of the host, e.g. http://127.0.0.1:7071 (a trailing /api is accepted). */
  endpoint: string;
  token?: string;
  /** The workspace used by workspace-scoped calls when none is given. */
  workspace?: string;
  fetch?: typeof fetch;
}

export interface Health {
  status: string;
  version: string;
  stores: { metadata: string; artifacts: string; queue: string };
  functions: number;
}

export interface PageOptions {
  limit?: number;
  continuation?: string;
}

/** TypeScript SDK over the Tessera REST API (the same API the CLI uses). */
export class MLClient {
  readonly endpoint: string;
  readonly workspace: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  readonly workspaces = {
    list: (options: PageOptions = {}): Promise<WorkspaceViewList> =>
      this.#request('GET', `workspaces${query(options)}`),
    /** The workspace, with the `mlflow_tracking_uri` MLflow clients use for it. */
    get: (name: string = this.workspace): Promise<WorkspaceView> =>
      this.#request('GET', `workspaces/${encodeURIComponent(name)}`),
    put: (name: string, body: WorkspacePutBody = {}): Promise<WorkspaceView> =>
      this.#request('PUT', `workspaces/${encodeURIComponent(name)}`, body),
  };

  readonly tokens = {
    create: (body: TokenCreateBody): Promise<CreatedToken> => this.#request('POST', 'tokens', body),
    list: (options: PageOptions = {}): Promise<TokenList> => this.#request('GET', `tokens${query(options)}`),
    revoke: (id: string): Promise<TokenInfo> => this.#request('DELETE', `tokens/${encodeURIComponent(id)}`),
  };

  /** Data assets (uri_file, uri_folder, mltable) of the client's workspace. */
  readonly data: DataOperations;
  readonly models: ModelOperations;
  readonly environments: VersionedAssetOperations;
  readonly components: VersionedAssetOperations;
  readonly datastores: DatastoreOperations;
  readonly computes: ResourceOperations;
  /** Command jobs: submit, follow, cancel, download outputs. */
  readonly jobs: JobOperations;
  /** Online endpoints: create, traffic, keys and tokens, invoke. */
  readonly onlineEndpoints: OnlineEndpointOperations;
  /** Deployments of online endpoints: create (provisioned in the background), logs, delete. */
  readonly onlineDeployments: OnlineDeploymentOperations;

  constructor(options: MLClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '').replace(/\/api$/, '');
    this.workspace = options.workspace ?? 'default';
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
    const request: Requester = (method, path, body) => this.#request(method, path, body);
    const raw: RawRequester = (path, init) => this.#raw(path, init);
    const ws = () => this.workspace;
    this.data = new DataOperations(request, ws);
    this.models = new ModelOperations(request, raw, ws);
    this.environments = new VersionedAssetOperations(request, ws, 'environments');
    this.components = new VersionedAssetOperations(request, ws, 'components');
    this.datastores = new DatastoreOperations(request, raw, ws);
    this.computes = new ResourceOperations(request, ws, 'computes');
    this.jobs = new JobOperations(request, raw, ws);
    this.onlineEndpoints = new OnlineEndpointOperations(request, ws, (input, init) => this.#fetch(input, init));
    this.onlineDeployments = new OnlineDeploymentOperations(request, raw, ws);
  }

  /** Sends a request to the REST API (path relative to /api/), with the client's credentials. */
  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.#request(method, path, body);
  }

  /** The bearer token, for helpers that talk to the API themselves (uploads). */
  get token(): string | undefined {
    return this.#token;
  }

  /**
   * A client for the endpoint and token found the way the CLI finds them: explicit options, then
   * TESSERA_ENDPOINT / TESSERA_TOKEN / TESSERA_WORKSPACE, then <TESSERA_DATA_DIR or .tessera>/credentials.json
   * (like the Python SDK's MLClient.from_config()).
   */
  static async fromEnvironment(options: Partial<MLClientOptions> & { dataDir?: string } = {}): Promise<MLClient> {
    const credentials = await resolveCredentials({
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.workspace === undefined ? {} : { workspace: options.workspace }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
    return new MLClient({
      endpoint: credentials.endpoint,
      workspace: credentials.workspace,
      ...(credentials.token === undefined ? {} : { token: credentials.token }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  health(): Promise<Health> {
    return this.#request('GET', 'health');
  }

  /** GET with the client's credentials, returning the raw response when it is a success. */
  async #raw(path: string, init: { signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    const url = `${this.endpoint}/api/${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, { headers, ...(init.signal === undefined ? {} : { signal: init.signal }) });
    } catch (err) {
      if (init.signal?.aborted === true) throw init.signal.reason;
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new MLClientError(
        0,
        'ConnectionFailed',
        `Cannot reach ${this.endpoint} (${reason}). Is the host running (npm start)?`,
      );
    }
    if (!response.ok) {
      const text = await response.text();
      let message = `GET ${url} failed with HTTP ${response.status}`;
      let code = `Http${response.status}`;
      try {
        const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (error?.message) message = error.message;
        if (error?.code) code = error.code;
      } catch {
        // not JSON: keep the generic message
      }
      throw new MLClientError(response.status, code, message);
    }
    return response;
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = `${this.endpoint}/api/${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new MLClientError(
        0,
        'ConnectionFailed',
        `Cannot reach ${this.endpoint} (${reason}). Is the host running (npm start)?`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown; target?: unknown } } | undefined)?.error;
      const code = typeof error?.code === 'string' ? error.code : `Http${response.status}`;
      const message =
        typeof error?.message === 'string'
          ? error.message
          : `${method} ${url} failed with HTTP ${response.status}: ${text.slice(0, 500)}`;
      throw new MLClientError(
        response.status,
        code,
        message,
        typeof error?.target === 'string' ? error.target : undefined,
        parsed,
      );
    }
    return parsed as T;
  }
}

function query(options: PageOptions): string {
  const params = new URLSearchParams();
  if (options.limit !== undefined) params.set('limit', String(options.limit));
  if (options.continuation !== undefined) params.set('continuation', options.continuation);
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}
