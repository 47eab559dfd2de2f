/**
 * The data plane's own view of an online endpoint and its deployments: only the fields scoring
 * reads. The management plane's documents (shared/contracts/endpoint.ts) carry more; the composition
 * root maps one onto the other (see ARCHITECTURE.md, "Ports and local types"), so this folder does
 * not depend on the management plane's schemas while both are being written.
 */

/** What the endpoint says about routing. Weights are whole percents. */
export interface ServingEndpoint {
  name: string;
  /** deployment → percent of live traffic; all values sum to 100, or all are 0. */
  traffic: Readonly<Record<string, number>>;
  /** At most one deployment, at most 50: the share of requests also copied to it. */
  mirror_traffic: Readonly<Record<string, number>>;
  /** Bumped on every change of the endpoint: routing tables are rebuilt when it moves. */
  revision: number;
}

export type DeploymentKind = 'onnx' | 'script' | 'python';

/** Azure ML's request_settings, in milliseconds (its YAML spells request_timeout_ms). */
export interface RequestSettings {
  request_timeout_ms: number;
  max_concurrent_requests_per_instance: number;
  max_queue_wait_ms: number;
}

/** Azure ML's data_collector block: which collections are on, and the share of requests sampled. */
export interface DataCollectorSettings {
  collections: Readonly<Record<string, { enabled: boolean | string }>>;
  /** 0..1, default 1. */
  sampling_rate?: number;
}

export interface ServingDeployment {
  name: string;
  endpoint_name: string;
  /** The workspace it belongs to: where its data collector writes. */
  workspace?: string;
  /**
   * Changes whenever the deployment changes (a counter or updated_at): the registry keeps one
   * scorer per (endpoint, deployment, revision).
   */
  revision: string | number;
  kind: DeploymentKind;
  /** The model's files: a folder (model.onnx + manifest.json, or anything a script reads) or one file. */
  model_uri?: string;
  /** The scoring code's folder and the script in it (script and python kinds). */
  code_uri?: string;
  scoring_script?: string;
  instance_count: number;
  request_settings: RequestSettings;
  environment_variables: Readonly<Record<string, string>>;
  data_collector?: DataCollectorSettings;
}

/** Azure ML's defaults for request_settings. */
export const DEFAULT_REQUEST_SETTINGS: Readonly<RequestSettings> = Object.freeze({
  request_timeout_ms: 5000,
  max_concurrent_requests_per_instance: 1,
  max_queue_wait_ms: 500,
});

/** What the data plane asks of the management plane (shared/ports/endpoint-directory.ts). */
export interface ServingDirectory {
  /** The endpoint and its deployments, or undefined when there is no such endpoint. */
  lookup(
    endpointName: string,
  ):
    | { endpoint: ServingEndpoint; deployments: readonly ServingDeployment[] }
    | undefined
    | Promise<{ endpoint: ServingEndpoint; deployments: readonly ServingDeployment[] } | undefined>;
  /** Returns when the caller may score; throws an AppError (401) when not. */
  verifyCaller(endpointName: string, authorization: string | undefined): void | Promise<void>;
}

/** What the registry answers the management plane (shared/ports/deployment-provisioner.ts). */
export type ProvisionResult = { ok: true } | { ok: false; reason: string; logs: string };

export interface ServingLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const SILENT_LOGGER: ServingLogger = { warn: () => undefined, error: () => undefined };
