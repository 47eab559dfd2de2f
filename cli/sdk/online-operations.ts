import { setTimeout as sleep } from 'node:timers/promises';
import type {
  EndpointKeys,
  EndpointToken,
  OnlineDeployment,
  OnlineDeploymentList,
  OnlineEndpoint,
  OnlineEndpointList,
} from '../../shared/contracts/endpoint.js';
import type { RawRequester, Requester } from './requester.js';

/**
 * Online endpoints and deployments of the client's workspace, shaped like the Python SDK v2's
 * `ml_client.online_endpoints` and `ml_client.online_deployments` (`begin_create_or_update`,
 * `get`, `list`, `begin_delete`, `get_keys`, `begin_regenerate_keys`, `invoke`, `get_logs`).
 */

const enc = encodeURIComponent;

/** Spec bodies as the YAML reads (local paths already uploaded). */
export interface OnlineSpecInput {
  name?: string;
  [key: string]: unknown;
}

export interface InvokeOptions {
  /** The request body (JSON text or bytes). */
  body: string | Uint8Array;
  /** Sends `azureml-model-deployment` so this deployment answers, whatever the traffic. */
  deploymentName?: string;
  contentType?: string;
}

export interface InvokeResult {
  status: number;
  contentType: string | null;
  body: string;
}

export interface WaitOptions {
  /** Milliseconds between polls (default 1000). */
  pollMs?: number;
  signal?: AbortSignal;
}

export class OnlineEndpointOperations {
  constructor(
    private readonly request: Requester,
    private readonly workspace: () => string,
    private readonly fetchFn: typeof fetch,
  ) {}

  private base(name?: string): string {
    return `workspaces/${enc(this.workspace())}/onlineEndpoints${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /** Creates or updates an endpoint from its spec (`name`, `auth_mode`, ...). */
  createOrUpdate(spec: OnlineSpecInput & { name: string }): Promise<OnlineEndpoint> {
    return this.request('PUT', this.base(spec.name), spec);
  }

  get(name: string): Promise<OnlineEndpoint> {
    return this.request('GET', this.base(name));
  }

  list(): Promise<OnlineEndpointList> {
    return this.request('GET', this.base());
  }

  /** Live and/or mirror traffic in one atomic change, and description or tags. */
  update(
    name: string,
    patch: {
      traffic?: Record<string, number>;
      mirror_traffic?: Record<string, number>;
      description?: string;
      tags?: Record<string, string>;
    },
  ): Promise<OnlineEndpoint> {
    return this.request('PATCH', this.base(name), patch);
  }

  /** Deletes the endpoint and all its deployments. */
  async delete(name: string): Promise<void> {
    await this.request('DELETE', this.base(name));
  }

  /** Key endpoints: both keys. */
  getKeys(name: string): Promise<EndpointKeys> {
    return this.request('POST', `${this.base(name)}/listKeys`);
  }

  /** aml_token endpoints: a new token, valid for an hour. */
  getToken(name: string): Promise<EndpointToken> {
    return this.request('POST', `${this.base(name)}/token`);
  }

  /** What `az ml online-endpoint get-credentials` prints: the keys, or a token. */
  async getCredentials(name: string): Promise<EndpointKeys | EndpointToken> {
    const endpoint = await this.get(name);
    return endpoint.auth_mode === 'key' ? this.getKeys(name) : this.getToken(name);
  }

  /** Replaces the primary or secondary key; the old one stops working at once. */
  regenerateKeys(name: string, keyType: 'primary' | 'secondary'): Promise<EndpointKeys> {
    return this.request('POST', `${this.base(name)}/regenerateKeys`, { keyType });
  }

  /**
   * Scores a request: POST to the endpoint's scoring URI with its primary key, or a fresh token.
   * Any HTTP answer is returned (a 4xx from the scorer is the user's to read), not thrown.
   */
  async invoke(name: string, options: InvokeOptions): Promise<InvokeResult> {
    const endpoint = await this.get(name);
    const credentials = await this.getCredentials(name);
    const secret = 'primaryKey' in credentials ? credentials.primaryKey : credentials.accessToken;
    const headers: Record<string, string> = {
      authorization: `Bearer ${secret}`,
      'content-type': options.contentType ?? 'application/json',
    };
    if (options.deploymentName !== undefined) headers['azureml-model-deployment'] = options.deploymentName;
    const response = await this.fetchFn(endpoint.scoring_uri, {
      method: 'POST',
      headers,
      body: typeof options.body === 'string' ? options.body : Buffer.from(options.body),
    });
    return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
  }
}

export class OnlineDeploymentOperations {
  constructor(
    private readonly request: Requester,
    private readonly raw: RawRequester,
    private readonly workspace: () => string,
  ) {}

  private base(endpoint: string, name?: string): string {
    return `workspaces/${enc(this.workspace())}/onlineEndpoints/${enc(endpoint)}/deployments${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /** Stores the deployment (Creating or Updating) and starts its provisioning; see `waitForProvisioning`. */
  createOrUpdate(spec: OnlineSpecInput & { name: string; endpoint_name: string }): Promise<OnlineDeployment> {
    return this.request('PUT', this.base(spec.endpoint_name, spec.name), spec);
  }

  get(endpoint: string, name: string): Promise<OnlineDeployment> {
    return this.request('GET', this.base(endpoint, name));
  }

  list(endpoint: string): Promise<OnlineDeploymentList> {
    return this.request('GET', this.base(endpoint));
  }

  /** Refused (409) while the deployment has traffic. */
  async delete(endpoint: string, name: string): Promise<void> {
    await this.request('DELETE', this.base(endpoint, name));
  }

  /** The provisioning log; `lines` keeps the last lines only. */
  async getLogs(endpoint: string, name: string, options: { lines?: number } = {}): Promise<string> {
    const query = options.lines === undefined ? '' : `?lines=${options.lines}`;
    return (await this.raw(`${this.base(endpoint, name)}/logs${query}`)).text();
  }

  /** Polls until the deployment is Succeeded or Failed, and returns it. */
  async waitForProvisioning(endpoint: string, name: string, options: WaitOptions = {}): Promise<OnlineDeployment> {
    const pollMs = options.pollMs ?? 1000;
    for (;;) {
      options.signal?.throwIfAborted();
      const deployment = await this.get(endpoint, name);
      if (deployment.provisioning_state === 'Succeeded' || deployment.provisioning_state === 'Failed') {
        return deployment;
      }
      await sleep(pollMs, undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
  }
}
