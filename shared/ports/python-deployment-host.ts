import type { OnlineDeployment } from '../contracts/endpoint.js';

/**
 * Where Python online deployments run when the Function app cannot run them itself (Azure: it has
 * no python3 to spawn). ONNX and JavaScript deployments are always scored in the app; a Python
 * deployment is hosted here and the app forwards its requests to `scoringUrl`.
 *
 * Container Apps (shared/adapters/container-apps-deployments.ts): one Container App per online
 * endpoint, in multiple-revision mode; each generation of a deployment is one revision, and the
 * deployment's name is the label of its current revision, so `scoringUrl` (the label's address)
 * follows the newest generation without the app having to know revision names.
 *
 * Tessera's router chooses the deployment of each request (header, else the endpoint's traffic)
 * and calls that deployment's `scoringUrl`; the weights given to `setTraffic` only apply to calls
 * made to the host's own address, outside Tessera.
 */
export interface PythonDeploymentHost {
  /**
   * Starts the deployment's generation and makes its name point at it; the previous generation
   * is retired once the new one serves. Answers `ok: false` with the reason and the logs when the
   * generation cannot serve (the host refused it, or it failed to start); throws only for faults
   * of the platform or its configuration (ConfigError, TransientError). Calling it again for the
   * same generation does no harm.
   */
  provision(deployment: OnlineDeployment): Promise<{ ok: true } | { ok: false; reason: string; logs: string }>;
  /**
   * Sets the endpoint's weights among its Python deployments: `traffic` is the endpoint's whole
   * traffic (deployment → percent); entries of deployments this host does not serve are ignored
   * and the rest are scaled to sum to 100 (see the adapter for the rule when they are all 0).
   */
  setTraffic(endpoint: string, traffic: Readonly<Record<string, number>>): Promise<void>;
  /** Stops serving a deployment: its revisions are deactivated and its name is released. Absent: nothing to do. */
  remove(endpoint: string, deployment: string): Promise<void>;
  /** The URL that scores with one deployment (POST, the request body as the client sent it). */
  scoringUrl(endpoint: string, deployment: string): Promise<string>;
  /** The headers a request to `scoringUrl` must carry (the host's own caller check). */
  scoringHeaders(endpoint: string): Promise<Record<string, string>>;
}
