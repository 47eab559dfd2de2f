import type { OnlineDeployment } from '../contracts/endpoint.js';

/**
 * Makes a stored deployment ready to score (the data plane implements it: it fetches the model and
 * code, loads the scorer and runs its init). It answers `ok: false` with the reason and the logs
 * for a deployment that cannot serve (a missing model, an init that throws); it throws only for
 * platform faults, which the caller retries. It may be called again for the same generation.
 */
export interface DeploymentProvisioner {
  provision(deployment: OnlineDeployment): Promise<{ ok: true } | { ok: false; reason: string; logs: string }>;
}
