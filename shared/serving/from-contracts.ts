import type { OnlineDeployment, OnlineEndpoint } from '../contracts/endpoint.js';
import type { EndpointDirectory } from '../ports/endpoint-directory.js';
import type { DataCollectorSettings, ServingDeployment, ServingDirectory, ServingEndpoint } from './types.js';

/** The management plane's documents seen as the data plane reads them (shared/serving/types.ts). */

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
 * The endpoint service's directory as the router reads it. Succeeded deployments serve, and so do
 * deployments being updated (the registry keeps the previous generation's scorer until the new one
 * is loaded); Creating and Failed ones do not.
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
          deployments: found.deployments
            .filter((d) => d.provisioning_state === 'Succeeded' || d.provisioning_state === 'Updating')
            .map(servingDeployment),
        };
        converted.set(found, view);
      }
      return view;
    },
    verifyCaller: (name, authorization) => directory.verifyCaller(name, authorization ?? null),
  };
}
