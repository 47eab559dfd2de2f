import type { OnlineDeployment, OnlineEndpoint } from '../contracts/endpoint.js';

/**
 * Makes a stored deployment ready to score (the data plane implements it: it fetches the model and
 * code, loads the scorer and runs its init). It answers `ok: false` with the reason and the logs
 * for a deployment that cannot serve (a missing model, an init that throws); it throws only for
 * platform faults, which the caller retries. It may be called again for the same generation.
 *
 * A provisioner that sets up something outside the data plane (Azure: a Container Apps revision
 * per Python deployment) also hears of traffic changes and deletions, after the endpoint document
 * has been written; doing the same change again repairs a call that failed.
 */
export interface DeploymentProvisioner {
  provision(deployment: OnlineDeployment): Promise<{ ok: true } | { ok: false; reason: string; logs: string }>;
  /** The endpoint's live traffic was written (its deployments as they now are). */
  trafficChanged?(endpoint: OnlineEndpoint, deployments: readonly OnlineDeployment[]): Promise<void>;
  /** The deployment was deleted, on its own or with its endpoint. */
  removed?(deployment: OnlineDeployment): Promise<void>;
}
