import { z } from 'zod';
import {
  assetVersion,
  byShape,
  byType,
  ciEnum,
  computeTarget,
  environmentVariables,
  isRecord,
  MODEL_TYPES,
  properties,
  reference,
  resourceIdentity,
  resourceName,
  tags,
  yamlBoolean,
  yamlCount,
  yamlNumber,
  yamlString,
} from './common.js';
import { deploymentEnvironmentField } from './environment.js';

/**
 * Online endpoint and deployment specs (`az ml online-endpoint create`, `az ml online-deployment
 * create`). Managed and Kubernetes kinds both load; the service refuses Kubernetes ones, which
 * Tessera does not serve. Names are checked against Azure's rules by the service, not here, so a
 * file whose name is still a template such as `<ENDPOINT_NAME>` (as in Azure's samples) loads, and
 * the CLI's `--name` or `--set name=...` gives the real one.
 */

/** `traffic:` / `mirror_traffic:` — deployment name to a whole percent. */
export const trafficMap = z.record(z.string(), yamlCount);

const endpointFields = {
  name: resourceName,
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
  /** az ml's default is key. */
  auth_mode: ciEnum(['key', 'aml_token', 'aad_token']).default('key'),
  traffic: trafficMap.optional(),
  mirror_traffic: trafficMap.optional(),
  identity: resourceIdentity.optional(),
  public_network_access: ciEnum(['enabled', 'disabled']).optional(),
  location: z.string().optional(),
  kind: z.string().optional(),
};

export const managedOnlineEndpointSchema = z.strictObject(endpointFields);
export type ManagedOnlineEndpointSpec = z.output<typeof managedOnlineEndpointSchema>;

/** A Kubernetes online endpoint: served by an attached Kubernetes compute (`compute:`). */
export const kubernetesOnlineEndpointSchema = z.strictObject({ ...endpointFields, compute: computeTarget });
export type KubernetesOnlineEndpointSpec = z.output<typeof kubernetesOnlineEndpointSchema>;

/** An online endpoint: Kubernetes when it names a `compute`, managed otherwise (as az ml decides). */
export const onlineEndpointSpecSchema = byShape([managedOnlineEndpointSchema, kubernetesOnlineEndpointSchema], (v) =>
  isRecord(v) && v['compute'] !== undefined && v['compute'] !== null
    ? kubernetesOnlineEndpointSchema
    : managedOnlineEndpointSchema,
);
export type OnlineEndpointSpec = z.output<typeof onlineEndpointSpecSchema>;

/** Whether a parsed endpoint spec is a Kubernetes one. */
export function isKubernetesEndpointSpec(spec: OnlineEndpointSpec): spec is KubernetesOnlineEndpointSpec {
  return 'compute' in spec && spec.compute !== undefined;
}

/** A model written inline in a deployment: a local path (uploaded by the CLI) or a reference. */
export const deploymentInlineModel = z.strictObject({
  id: z.string().min(1).optional(),
  name: resourceName.optional(),
  version: assetVersion.optional(),
  path: reference.optional(),
  type: ciEnum(MODEL_TYPES).optional(),
  description: z.string().optional(),
  tags: tags.optional(),
  /** Free-form: prompt flow writes `{insert random GUID}` here, a mapping. */
  properties: z.record(z.string(), z.unknown()).optional(),
  flavors: z.record(z.string(), z.unknown()).optional(),
  datastore: z.string().optional(),
  stage: z.string().optional(),
  job_name: z.string().optional(),
});
export type DeploymentInlineModel = z.output<typeof deploymentInlineModel>;

/** `model:` — `azureml:name:version`, `azureml:name@label`, an `azureml://` URI, or inline. */
export const deploymentModelField = byShape([reference, deploymentInlineModel], (v) =>
  typeof v === 'string' ? reference : deploymentInlineModel,
);

/** `code_configuration:` — the folder holding the scoring script, and the script within it. */
export const codeConfiguration = z.strictObject({
  code: reference,
  scoring_script: z.string().min(1),
});

/** `request_settings:` — per-request limits; Azure's defaults are applied by the service. */
export const requestSettings = z.strictObject({
  request_timeout_ms: yamlCount.optional(),
  max_concurrent_requests_per_instance: yamlCount.optional(),
  max_queue_wait_ms: yamlCount.optional(),
});
export type RequestSettings = z.output<typeof requestSettings>;

/** `liveness_probe:` / `readiness_probe:` — seconds and counts. */
export const probeSettings = z.strictObject({
  initial_delay: yamlCount.optional(),
  period: yamlCount.optional(),
  timeout: yamlCount.optional(),
  success_threshold: yamlCount.optional(),
  failure_threshold: yamlCount.optional(),
});

/** `scale_settings:` — `default` (a fixed instance_count) or Kubernetes target utilisation. */
export const scaleSettings = z.strictObject({
  type: ciEnum(['default', 'target_utilization']),
  min_instances: yamlCount.optional(),
  max_instances: yamlCount.optional(),
  polling_interval: yamlCount.optional(),
  target_utilization_percentage: yamlCount.optional(),
});

/** One `data_collector.collections` entry: whether it is collected and, optionally, into which data asset. */
const collection = z.strictObject({
  enabled: yamlBoolean.optional(),
  client_id: z.string().optional(),
  data: z
    .strictObject({
      name: resourceName.optional(),
      path: reference.optional(),
      version: assetVersion.optional(),
    })
    .optional(),
});

/** `data_collector:` — which payloads of the scoring requests are kept. */
export const dataCollector = z.strictObject({
  collections: z.record(z.string(), collection).optional(),
  sampling_rate: yamlNumber.optional(),
  rolling_rate: ciEnum(['minute', 'hour', 'day']).optional(),
  request_logging: z.strictObject({ capture_headers: z.array(z.string()).optional() }).optional(),
});
export type DataCollector = z.output<typeof dataCollector>;

const deploymentFields = {
  /** Optional in the file, as both names may come from the command line (`--name`, `--endpoint-name`). */
  name: resourceName.optional(),
  endpoint_name: resourceName.optional(),
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
  model: deploymentModelField.optional(),
  model_mount_path: z.string().optional(),
  code_configuration: codeConfiguration.optional(),
  environment: deploymentEnvironmentField.optional(),
  environment_variables: environmentVariables.optional(),
  instance_type: z.string().min(1).optional(),
  instance_count: yamlCount.optional(),
  app_insights_enabled: yamlBoolean.optional(),
  request_settings: requestSettings.optional(),
  liveness_probe: probeSettings.optional(),
  readiness_probe: probeSettings.optional(),
  scale_settings: scaleSettings.optional(),
  data_collector: dataCollector.optional(),
};

export const managedOnlineDeploymentSchema = z.strictObject({
  type: z.literal('managed'),
  ...deploymentFields,
  egress_public_network_access: ciEnum(['enabled', 'disabled']).optional(),
});
export type ManagedOnlineDeploymentSpec = z.output<typeof managedOnlineDeploymentSchema>;

/** Container resource requests and limits of a Kubernetes deployment (`cpu: "0.1"`, `memory: 200Mi`). */
const containerResources = z.record(z.string(), yamlString);

export const kubernetesOnlineDeploymentSchema = z.strictObject({
  type: z.literal('kubernetes'),
  ...deploymentFields,
  resources: z
    .strictObject({ requests: containerResources.optional(), limits: containerResources.optional() })
    .optional(),
});
export type KubernetesOnlineDeploymentSpec = z.output<typeof kubernetesOnlineDeploymentSchema>;

/** An online deployment, chosen by `type` (managed when absent, as in az ml). */
export const onlineDeploymentSpecSchema = byType(
  { managed: managedOnlineDeploymentSchema, kubernetes: kubernetesOnlineDeploymentSchema },
  { default: 'managed' },
);
export type OnlineDeploymentSpec = z.output<typeof onlineDeploymentSpecSchema>;
