import type { DeploymentMetrics } from '../contracts/endpoint.js';

/**
 * The data plane's counters as the management plane shows them (the scorer registry implements it
 * through shared/serving/from-contracts.ts). They are this host's, kept in memory: another Function
 * app instance, or this one after a restart, counts on its own.
 */
export interface DeploymentMetricsSource {
  /** When this host started (the `since` of a deployment it has not served). */
  readonly startedAt: number;
  /** One deployment's counters on this host, all its processes together (zeros when it has served none). */
  deployment(endpoint: string, deployment: string): DeploymentMetrics | Promise<DeploymentMetrics>;
}
