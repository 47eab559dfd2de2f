import type { DeploymentMetrics, OnlineDeployment, OnlineEndpoint } from '../contracts/endpoint.js';
import type { DeploymentMetricsSource } from '../ports/deployment-metrics.js';
import { mergeSnapshots, servingPeers } from './peers.js';
import type { EndpointDirectory } from '../ports/endpoint-directory.js';
import type { ScorerRegistry } from './registry.js';
import { LATENCY_BUCKETS_MS, type DeploymentStatsSnapshot } from './stats.js';
import type { DataCollectorSettings, ServingDeployment, ServingDirectory, ServingEndpoint } from './types.js';

/**
 * The management plane's documents seen as the data plane reads them (shared/serving/types.ts),
 * and the data plane's counters as the management plane shows them.
 */

export function servingEndpoint(endpoint: OnlineEndpoint): ServingEndpoint {
  return {
    name: endpoint.name,
    traffic: endpoint.traffic,
    mirror_traffic: endpoint.mirror_traffic,
    revision: endpoint.revision,
  };
}

export function servingDeployment(d: OnlineDeployment): ServingDeployment {
  const collections = d.data_collector?.collections ?? {};
  const collector: DataCollectorSettings | undefined =
    d.data_collector === undefined
      ? undefined
      : {
          collections: Object.fromEntries(
            Object.entries(collections).map(([k, v]) => [k, { enabled: v?.enabled ?? false }]),
          ),
          ...(d.data_collector.sampling_rate === undefined
            ? {}
            : { sampling_rate: Number(d.data_collector.sampling_rate) }),
        };
  return {
    name: d.name,
    endpoint_name: d.endpoint_name,
    workspace: d.workspace,
    revision: d.generation,
    kind: d.kind,
    ...(d.model === undefined ? {} : { model_uri: d.model.uri }),
    ...(d.code === undefined ? {} : { code_uri: d.code.uri, scoring_script: d.code.scoring_script }),
    instance_count: d.instance_count,
    request_settings: d.request_settings,
    environment_variables: d.environment_variables ?? {},
    ...(collector === undefined ? {} : { data_collector: collector }),
  };
}

/**
 * The endpoint service's directory as the router reads it. A deployment serves its last Succeeded
 * generation (`serving_generation`, which the directory gives as the deployment): one being updated,
 * or whose update Failed, keeps serving the one before; one that never succeeded takes no requests.
 */
export function servingDirectory(
  directory: EndpointDirectory,
  seen: (deployment: OnlineDeployment) => void = () => undefined,
): ServingDirectory {
  // The directory gives the same objects while an endpoint is unchanged: convert each once.
  const converted = new WeakMap<object, { endpoint: ServingEndpoint; deployments: ServingDeployment[] }>();
  return {
    async lookup(name) {
      const found = await directory.lookup(name);
      if (found === undefined) return undefined;
      let view = converted.get(found);
      if (view === undefined) {
        found.deployments.forEach(seen);
        view = {
          endpoint: servingEndpoint(found.endpoint),
          deployments: found.deployments.filter((d) => d.serving_generation !== undefined).map(servingDeployment),
        };
        converted.set(found, view);
      }
      return view;
    },
    verifyCaller: (name, authorization) => directory.verifyCaller(name, authorization ?? null),
  };
}

/**
 * One deployment's counters (stats.ts) as the API shows them; `undefined` (never served here) is
 * all zeros since `startedAt`. `loaded` is the revision this process has live (a generation).
 */
export function toDeploymentMetrics(
  snapshot: DeploymentStatsSnapshot | undefined,
  loaded: string | undefined,
  startedAt: number,
): DeploymentMetrics {
  const generation = loaded === undefined ? NaN : Number(loaded);
  const latency = snapshot?.latency;
  return {
    since: new Date(snapshot?.since ?? startedAt).toISOString(),
    ...(Number.isInteger(generation) && generation > 0 ? { loaded_generation: generation } : {}),
    requests: snapshot?.requests ?? 0,
    responses: snapshot?.responses ?? {},
    errors: snapshot?.errors ?? 0,
    latency_ms: {
      mean: latency?.meanMs ?? 0,
      p50: latency?.p50Ms ?? null,
      p90: latency?.p90Ms ?? null,
      p99: latency?.p99Ms ?? null,
      histogram:
        latency?.buckets.map((b) => ({ le_ms: b.le, count: b.count })) ??
        [...LATENCY_BUCKETS_MS, null].map((le) => ({ le_ms: le, count: 0 })),
    },
    mirrored: snapshot?.mirrored ?? { requests: 0, errors: 0 },
  };
}

/**
 * The registry as the DeploymentMetricsSource port (what `online-endpoint show` prints): this
 * process's counters and those of the host's scoring replicas (shared/serving/peers.ts), merged.
 */
export function deploymentMetricsSource(registry: ScorerRegistry): DeploymentMetricsSource {
  return {
    startedAt: registry.startedAt,
    deployment: async (endpoint, deployment) => {
      const own = registry.statsOf(endpoint, deployment);
      const peers = (await servingPeers()?.stats(endpoint, deployment)) ?? [];
      const all = own === undefined ? peers : [own, ...peers];
      const metrics = toDeploymentMetrics(
        mergeSnapshots(all),
        registry.get(endpoint, deployment)?.revision,
        registry.startedAt,
      );
      return all.length === 0 ? metrics : { ...metrics, processes: all.length };
    },
  };
}
