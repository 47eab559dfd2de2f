import { z } from 'zod';
import { environmentVariables, tags, yamlNumber } from './azureml/common.js';
import { dataCollector, trafficMap } from './azureml/online.js';

/**
 * Online endpoints and deployments as the API returns them, the request bodies of the routes that
 * are not a YAML spec, the credentials shapes, and the data that crosses the provisioning
 * orchestration's boundary. Field names follow Azure ML's YAML (snake_case); the credentials keep
 * the camelCase of Azure's REST answers (`primaryKey`, `accessToken`), as az ml prints them.
 */

/** Endpoints and their deployments, partitioned by workspace; the name index is in SYSTEM_PARTITION. */
export const ENDPOINTS_CONTAINER = 'endpoints';

/** Azure's rule: 3-32 characters, a letter first, then letters, digits and '-'. */
export const ENDPOINT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{2,31}$/;
/** Deployments: 1-32 letters, digits and '-', starting with a letter or digit. */
export const DEPLOYMENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

export const endpointNameSchema = z
  .string()
  .regex(ENDPOINT_NAME_PATTERN, 'an endpoint name has 3-32 letters, digits or "-", starting with a letter');
export const deploymentNameSchema = z
  .string()
  .regex(DEPLOYMENT_NAME_PATTERN, 'a deployment name has 1-32 letters, digits or "-", starting with a letter or digit');

export const AUTH_MODES = ['key', 'aml_token'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const PROVISIONING_STATES = ['Creating', 'Updating', 'Succeeded', 'Failed'] as const;
export type ProvisioningState = (typeof PROVISIONING_STATES)[number];

/** How a deployment scores: no-code ONNX, a JavaScript/TypeScript script, or a Python script. */
export const DEPLOYMENT_KINDS = ['onnx', 'script', 'python'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

/** Azure ML's defaults for `request_settings`. */
export const DEFAULT_REQUEST_SETTINGS = {
  request_timeout_ms: 5000,
  max_concurrent_requests_per_instance: 1,
  max_queue_wait_ms: 500,
} as const;

/** One bucket of a latency histogram: answers that took at most `le_ms` (null: more than the last bound). */
export const latencyBucketSchema = z.object({ le_ms: z.number().nullable(), count: z.number().int().nonnegative() });

/**
 * One deployment's counters on the host that answered: in memory, since `since` (when this host
 * first loaded the deployment, or started when it has not). Percentiles are the upper bounds of the
 * histogram buckets holding them (null before the first request).
 */
export const deploymentMetricsSchema = z.object({
  since: z.string(),
  /** The generation this host has loaded and answers with (absent: none loaded here yet). */
  loaded_generation: z.number().int().positive().optional(),
  /** How many processes of this host (the host and its scoring replicas) have loaded or served it. */
  processes: z.number().int().positive().optional(),
  requests: z.number().int().nonnegative(),
  /** Answers by status class ('2xx', '4xx', '5xx'). */
  responses: z.record(z.string(), z.number().int().nonnegative()),
  /** 5xx answers: the deployment's faults (4xx are the caller's). */
  errors: z.number().int().nonnegative(),
  latency_ms: z.object({
    mean: z.number().nonnegative(),
    p50: z.number().nullable(),
    p90: z.number().nullable(),
    p99: z.number().nullable(),
    histogram: z.array(latencyBucketSchema),
  }),
  /** Copies sent by mirror_traffic, and how many of them failed. */
  mirrored: z.object({ requests: z.number().int().nonnegative(), errors: z.number().int().nonnegative() }),
});
export type DeploymentMetrics = z.infer<typeof deploymentMetricsSchema>;

/** What `GET` of an endpoint adds: each deployment's counters on the host that answered. */
export const endpointMetricsSchema = z.object({
  scope: z.literal('host'),
  /** Says that the counts are this host's, kept in memory since it started. */
  note: z.string(),
  host_started_at: z.string(),
  deployments: z.record(z.string(), deploymentMetricsSchema),
});
export type EndpointMetrics = z.infer<typeof endpointMetricsSchema>;

export const onlineEndpointSchema = z.object({
  name: z.string(),
  workspace: z.string(),
  auth_mode: z.enum(AUTH_MODES),
  description: z.string().optional(),
  tags: tags,
  /** Deployment name → whole percent of live traffic; sums to 100, or every value is 0. */
  traffic: trafficMap,
  /** At most one deployment, at most 50%: a copy of that share of requests, its answers discarded. */
  mirror_traffic: trafficMap,
  /** `<public URL>/api/endpoints/<name>/score`. */
  scoring_uri: z.string(),
  provisioning_state: z.enum(PROVISIONING_STATES),
  /** Bumped by every change of the endpoint or any of its deployments (the data plane reloads on a new one). */
  revision: z.number().int().nonnegative(),
  created_at: z.string(),
  updated_at: z.string(),
  /** Per-deployment requests, errors and latency on this host (GET of one endpoint only). */
  metrics: endpointMetricsSchema.optional(),
});
export type OnlineEndpoint = z.infer<typeof onlineEndpointSchema>;

export const requestSettingsSchema = z.object({
  request_timeout_ms: z.number().int().positive(),
  max_concurrent_requests_per_instance: z.number().int().positive(),
  max_queue_wait_ms: z.number().int().nonnegative(),
});
export type ResolvedRequestSettings = z.infer<typeof requestSettingsSchema>;

export const deploymentErrorSchema = z.object({ reason: z.string() });

export const onlineDeploymentSchema = z.object({
  name: z.string(),
  endpoint_name: z.string(),
  workspace: z.string(),
  kind: z.enum(DEPLOYMENT_KINDS),
  /** The model: `asset` when it is a registered model, and the datastore URI of its folder or file. */
  model: z.object({ asset: z.string().optional(), uri: z.string() }).optional(),
  /** The uploaded code folder and the scoring script inside it (script and python kinds). */
  code: z.object({ uri: z.string(), scoring_script: z.string() }).optional(),
  /** As written in the spec: a reference, or the inline environment (its conda file uploaded). */
  environment: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  instance_type: z.string(),
  instance_count: z.number().int().positive(),
  request_settings: requestSettingsSchema,
  environment_variables: environmentVariables,
  data_collector: dataCollector.optional(),
  description: z.string().optional(),
  tags: tags,
  provisioning_state: z.enum(PROVISIONING_STATES),
  /** Why provisioning failed (the logs hold the details). */
  error: deploymentErrorSchema.optional(),
  /** Bumped by every create or update of this deployment: a scorer is loaded per generation. */
  generation: z.number().int().positive(),
  /**
   * The generation that answers requests: the last one that Succeeded. It differs from `generation`
   * while an update is provisioned and after an update Failed (the previous generation keeps
   * serving); absent while none has succeeded (the deployment takes no requests).
   */
  serving_generation: z.number().int().positive().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  /** This deployment's requests, errors and latency on this host (GET of one deployment only). */
  metrics: deploymentMetricsSchema.optional(),
});
export type OnlineDeployment = z.infer<typeof onlineDeploymentSchema>;

/** `az ml online-endpoint get-credentials` of a key endpoint. */
export const endpointKeysSchema = z.object({ primaryKey: z.string(), secondaryKey: z.string() });
export type EndpointKeys = z.infer<typeof endpointKeysSchema>;

/** `az ml online-endpoint get-credentials` of an aml_token endpoint; expiryTimeUtc in epoch seconds, as Azure. */
export const endpointTokenSchema = z.object({
  accessToken: z.string(),
  expiryTimeUtc: z.number().int(),
  refreshAfterTimeUtc: z.number().int(),
  tokenType: z.literal('Bearer'),
});
export type EndpointToken = z.infer<typeof endpointTokenSchema>;

export type EndpointCredentials = EndpointKeys | EndpointToken;

/** Percents as sent; the service says what is wrong with one that is not whole or out of range. */
const percentMap = z.record(z.string(), yamlNumber);

/** PATCH body of an endpoint: traffic, mirror traffic, description and tags (what `update` changes). */
export const endpointPatchBodySchema = z.strictObject({
  traffic: percentMap.optional(),
  mirror_traffic: percentMap.optional(),
  description: z.string().optional(),
  tags: tags.optional(),
});
export type EndpointPatchBody = z.infer<typeof endpointPatchBodySchema>;

/** POST .../regenerateKeys: `{ "keyType": "Primary" | "Secondary" }`, any case, as Azure's REST API. */
export const regenerateKeysBodySchema = z.strictObject({
  keyType: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['primary', 'secondary'])),
});
export type KeyType = z.infer<typeof regenerateKeysBodySchema>['keyType'];

export interface OnlineEndpointList {
  value: OnlineEndpoint[];
}
export interface OnlineDeploymentList {
  value: OnlineDeployment[];
}

/** `GET .../deployments/{d}/logs?lines=N`: only the last N lines. */
export const deploymentLogsQuerySchema = z.strictObject({
  lines: z.coerce.number().int().positive().max(100_000).optional(),
});

/** A deployment's provisioning log: what the last provisioning wrote (a failing init's output). */
export interface DeploymentLogs {
  content: string;
}

// ---------------------------------------------------------------------------------------------
// The provisioning orchestration.
// ---------------------------------------------------------------------------------------------

export const DEPLOYMENT_PROVISION_ORCHESTRATION = 'deploymentProvision';
export const DEPLOYMENT_PROVISION_ACTIVITY = 'deployment-provision';

/** Orchestration and activity input: which generation of which deployment to provision. */
export const deploymentProvisionInputSchema = z.object({
  workspace: z.string(),
  endpoint: z.string(),
  deployment: z.string(),
  generation: z.number().int().positive(),
});
export type DeploymentProvisionInput = z.infer<typeof deploymentProvisionInputSchema>;

/** Activity output: how provisioning ended; `Superseded` when a newer generation (or a delete) came first. */
export const deploymentProvisionResultSchema = z.object({
  state: z.enum(['Succeeded', 'Failed', 'Superseded']),
});
export type DeploymentProvisionResult = z.infer<typeof deploymentProvisionResultSchema>;

/** Orchestration instance id of one provisioning: one per generation, so an update never reuses a finished instance. */
export function deploymentProvisionInstanceId(input: DeploymentProvisionInput): string {
  return `deployment:${input.workspace}:${input.endpoint}:${input.deployment}:${input.generation}`;
}
