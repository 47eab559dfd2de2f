import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SCORING_ENV } from './contracts/scoring-image.js';
import { TRAINER_ENV_KEYS, parseTrainerExecutionHint } from './contracts/trainer-launch.js';
import { ConfigError } from './errors.js';
import type { ErrorDetail } from './errors.js';

/**
 * The one place that reads the environment. Keys are the app-setting names (the same names the
 * Bicep templates set), validated by one zod schema and turned into a frozen, typed `Config`.
 */

export type StoreMode = 'embedded' | 'azure';
export type AuthMode = 'on' | 'off';

export interface CosmosConfig {
  endpoint: string;
  /** Account key; absent means Microsoft Entra ID (DefaultAzureCredential). */
  key?: string;
  database: string;
}

export type BlobConfig = { accountUrl: string } | { connectionString: string };
export type ServiceBusConfig = { namespace: string } | { connectionString: string };

/** The pre-provisioned Container Apps jobs that run trainers (the Azure compute). */
export interface ContainerAppsConfig {
  subscriptionId: string;
  resourceGroup: string;
  /** The manual-trigger job for CPU trainers. */
  trainerJobName: string;
  /** The manual-trigger job on the GPU workload profile; absent: GPU computes are refused. */
  gpuTrainerJobName?: string;
  /** Azure Resource Manager endpoint, no trailing slash (https://management.azure.com by default). */
  armEndpoint: string;
}

/** Python online deployments on Container Apps: one app per endpoint in a pre-provisioned environment. */
export interface PythonScoringConfig {
  subscriptionId: string;
  resourceGroup: string;
  /** The Container Apps environment's resource id. */
  environmentId: string;
  /** The image each revision runs. */
  image: string;
  /** A user-assigned identity (resource id) the apps run as. */
  identityId?: string;
  /** That identity's client id, given to the image as AZURE_CLIENT_ID. */
  identityClientId?: string;
  /** The image's registry server, pulled from with `identityId`. */
  registry?: string;
  armEndpoint: string;
}

export interface AzureConfig {
  cosmos: CosmosConfig;
  blob: BlobConfig;
  serviceBus: ServiceBusConfig;
  keyVaultUrl?: string;
  /** Present when CONTAINER_APPS_SUBSCRIPTION_ID, CONTAINER_APPS_RESOURCE_GROUP and TRAINER_JOB_NAME are set. */
  containerApps?: ContainerAppsConfig;
  /** Present when CONTAINER_APPS_ENVIRONMENT_ID and PYTHON_SCORING_IMAGE are set (with the subscription and group). */
  pythonScoring?: PythonScoringConfig;
}

export interface EntraConfig {
  tenantId: string;
  audience: string;
  /** Overrides the tenant's discovery keys URL. */
  jwksUrl?: string;
  /** Overrides the accepted issuers (otherwise the tenant's v1 and v2 issuers). */
  issuer?: string;
}

export interface Config {
  store: StoreMode;
  /** Absolute path of the embedded data folder. */
  dataDir: string;
  port: number;
  bindAddress: string;
  /** Base URL clients use to reach this host (no trailing slash); signed URLs start with it. */
  publicUrl: string;
  auth: AuthMode;
  /**
   * TESSERA_DIRECT_HTTP: whether the local host takes HTTP functions' direct lanes (the scoring URI
   * without the Functions invocation pipeline; shared/http/direct-lane.ts). 'off' runs every route
   * through the pipeline, as the Function app does on Azure.
   */
  directHttp: boolean;
  /**
   * TESSERA_SCORING_REPLICAS: processes the local host runs beside its own to serve the scoring URI
   * (local/replicas.ts). 'auto' (the default) is one fewer than the CPUs, at most 3; 0 serves
   * everything in the host's process.
   */
  scoringReplicas: number;
  tokenTtlDays: number;
  durableHistoryRetentionDays: number;
  /** Present when TESSERA_STORE=azure. */
  azure?: AzureConfig;
  /** Present when ENTRA_TENANT_ID and ENTRA_AUDIENCE are set. */
  entra?: EntraConfig;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * TESSERA_* variables read by the CLI and SDK, given to the trainer by its compute (see
 * shared/contracts/trainer-launch.ts), or to the Python scoring image by its revision
 * (shared/contracts/scoring-image.ts), not by the host; accepted so they are not reported as typos.
 */
const CLIENT_KEYS = [
  'TESSERA_ENDPOINT',
  'TESSERA_TOKEN',
  'TESSERA_WORKSPACE',
  ...TRAINER_ENV_KEYS,
  ...Object.values(SCORING_ENV).filter((k) => k.startsWith('TESSERA_')),
] as const;

/** Keys whose values must never appear in an error message. */
const SECRET_KEYS = new Set(['COSMOS_KEY', 'BLOB_CONNECTION_STRING', 'SERVICEBUS_CONNECTION_STRING']);

const DEFAULTS = {
  TESSERA_STORE: 'embedded',
  TESSERA_DATA_DIR: '.tessera',
  PORT: 7071,
  TESSERA_BIND_ADDRESS: '127.0.0.1',
  TESSERA_AUTH: 'on',
  TESSERA_DIRECT_HTTP: 'on',
  TESSERA_SCORING_REPLICAS: 'auto',
  TESSERA_TOKEN_TTL_DAYS: 90,
  DURABLE_HISTORY_RETENTION_DAYS: 30,
  COSMOS_DATABASE: 'tessera',
  CONTAINER_APPS_ARM_ENDPOINT: 'https://management.azure.com',
} as const;

/** What each key expects, in words, for error messages. */
const EXPECTED: Record<string, string> = {
  TESSERA_STORE: "'embedded' or 'azure'",
  TESSERA_DATA_DIR: 'a folder path',
  PORT: 'an integer between 0 and 65535',
  TESSERA_BIND_ADDRESS: 'an IP address or host name to listen on, e.g. 127.0.0.1',
  TESSERA_PUBLIC_URL: 'an absolute http(s) URL such as http://127.0.0.1:7071',
  TESSERA_AUTH: "'on' or 'off'",
  TESSERA_DIRECT_HTTP: "'on' or 'off'",
  TESSERA_SCORING_REPLICAS: "'auto' or a whole number of processes between 0 and 16",
  TESSERA_TOKEN_TTL_DAYS: 'a whole number of days between 1 and 3650',
  DURABLE_HISTORY_RETENTION_DAYS: 'a whole number of days between 1 and 3650',
  COSMOS_ENDPOINT: 'the account URL, e.g. https://<account>.documents.azure.com:443/',
  COSMOS_KEY: 'the Cosmos DB account key (or leave unset to use a managed identity)',
  COSMOS_DATABASE: 'a database name',
  BLOB_ACCOUNT_URL: 'the blob endpoint, e.g. https://<account>.blob.core.windows.net',
  BLOB_CONNECTION_STRING: 'a storage connection string',
  SERVICEBUS_NAMESPACE: 'the namespace, e.g. <name>.servicebus.windows.net',
  SERVICEBUS_CONNECTION_STRING: 'a Service Bus connection string',
  KEY_VAULT_URL: 'the vault URL, e.g. https://<vault>.vault.azure.net',
  ENTRA_TENANT_ID: 'the Microsoft Entra tenant id (a GUID or domain)',
  ENTRA_AUDIENCE: "the API's application id URI or client id",
  ENTRA_JWKS_URL: 'an https URL serving a JSON Web Key Set',
  ENTRA_ISSUER: 'the exact issuer (iss) of accepted tokens',
  CONTAINER_APPS_SUBSCRIPTION_ID: 'the id (a GUID) of the subscription that holds the trainer jobs',
  CONTAINER_APPS_RESOURCE_GROUP:
    "the name of the trainer jobs' resource group (1-90 letters, digits, '-', '_', '.', '(' or ')')",
  TRAINER_JOB_NAME:
    "the name of the manual-trigger Container Apps job for CPU trainers (2-32 lower-case letters, digits and '-', starting with a letter)",
  TRAINER_GPU_JOB_NAME:
    "the name of the manual-trigger Container Apps job on the GPU workload profile (2-32 lower-case letters, digits and '-', starting with a letter)",
  CONTAINER_APPS_ARM_ENDPOINT: 'the https URL of Azure Resource Manager, e.g. https://management.usgovcloudapi.net',
  CONTAINER_APPS_ENVIRONMENT_ID:
    'the resource id of the Container Apps environment, /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.App/managedEnvironments/<name>',
  PYTHON_SCORING_IMAGE:
    'the image that serves Python scoring scripts, e.g. myregistry.azurecr.io/tessera-scoring:1.0.0',
  PYTHON_SCORING_IDENTITY_ID: 'the resource id of a user-assigned managed identity the scoring apps run as',
  PYTHON_SCORING_IDENTITY_CLIENT_ID: 'the client id (a GUID) of that identity',
  PYTHON_SCORING_REGISTRY: 'the registry server of the scoring image, e.g. myregistry.azurecr.io',
};

/** The keys that make up `azure.containerApps`; the first three are required together. */
const CONTAINER_APPS_REQUIRED = [
  'CONTAINER_APPS_SUBSCRIPTION_ID',
  'CONTAINER_APPS_RESOURCE_GROUP',
  'TRAINER_JOB_NAME',
] as const;
const CONTAINER_APPS_OPTIONAL = ['TRAINER_GPU_JOB_NAME', 'CONTAINER_APPS_ARM_ENDPOINT'] as const;
/** The keys that make up `azure.pythonScoring` (with the subscription and group above); the first two are required together. */
const PYTHON_SCORING_REQUIRED = ['CONTAINER_APPS_ENVIRONMENT_ID', 'PYTHON_SCORING_IMAGE'] as const;
const PYTHON_SCORING_OPTIONAL = [
  'PYTHON_SCORING_IDENTITY_ID',
  'PYTHON_SCORING_IDENTITY_CLIENT_ID',
  'PYTHON_SCORING_REGISTRY',
] as const;

const httpUrl = z.url({ protocol: /^https?$/ });
const days = z.coerce.number().int().min(1).max(3650);
const text = z.string().trim().min(1);
/** Container Apps job names: 2-32 lower-case letters, digits and single dashes, starting with a letter. */
const containerAppsJobName = z
  .string()
  .trim()
  .regex(/^(?!.*--)[a-z][a-z0-9-]{0,30}[a-z0-9]$/);

const envSchema = z.looseObject({
  TESSERA_STORE: z.enum(['embedded', 'azure']).default(DEFAULTS.TESSERA_STORE),
  TESSERA_DATA_DIR: text.default(DEFAULTS.TESSERA_DATA_DIR),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULTS.PORT),
  TESSERA_BIND_ADDRESS: text.default(DEFAULTS.TESSERA_BIND_ADDRESS),
  TESSERA_PUBLIC_URL: httpUrl.optional(),
  TESSERA_AUTH: z.enum(['on', 'off']).default(DEFAULTS.TESSERA_AUTH),
  TESSERA_DIRECT_HTTP: z.enum(['on', 'off']).default(DEFAULTS.TESSERA_DIRECT_HTTP),
  TESSERA_SCORING_REPLICAS: z
    .union([z.literal('auto'), z.coerce.number().int().min(0).max(16)])
    .default(DEFAULTS.TESSERA_SCORING_REPLICAS),
  TESSERA_TOKEN_TTL_DAYS: days.default(DEFAULTS.TESSERA_TOKEN_TTL_DAYS),
  DURABLE_HISTORY_RETENTION_DAYS: days.default(DEFAULTS.DURABLE_HISTORY_RETENTION_DAYS),
  COSMOS_ENDPOINT: httpUrl.optional(),
  COSMOS_KEY: text.optional(),
  COSMOS_DATABASE: text.default(DEFAULTS.COSMOS_DATABASE),
  BLOB_ACCOUNT_URL: httpUrl.optional(),
  BLOB_CONNECTION_STRING: text.optional(),
  SERVICEBUS_NAMESPACE: text.optional(),
  SERVICEBUS_CONNECTION_STRING: text.optional(),
  KEY_VAULT_URL: httpUrl.optional(),
  ENTRA_TENANT_ID: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/)
    .optional(),
  ENTRA_AUDIENCE: text.optional(),
  ENTRA_JWKS_URL: httpUrl.optional(),
  ENTRA_ISSUER: text.optional(),
  CONTAINER_APPS_SUBSCRIPTION_ID: z.guid().optional(),
  CONTAINER_APPS_RESOURCE_GROUP: z
    .string()
    .trim()
    .regex(/^[-\w.()]{0,89}[-\w()]$/)
    .optional(),
  TRAINER_JOB_NAME: containerAppsJobName.optional(),
  TRAINER_GPU_JOB_NAME: containerAppsJobName.optional(),
  CONTAINER_APPS_ARM_ENDPOINT: z.url({ protocol: /^https$/ }).optional(),
  CONTAINER_APPS_ENVIRONMENT_ID: z
    .string()
    .trim()
    .regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.App\/managedEnvironments\/[^/]+$/i)
    .optional(),
  PYTHON_SCORING_IMAGE: text.optional(),
  PYTHON_SCORING_IDENTITY_ID: z
    .string()
    .trim()
    .regex(
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i,
    )
    .optional(),
  PYTHON_SCORING_IDENTITY_CLIENT_ID: z.guid().optional(),
  PYTHON_SCORING_REGISTRY: text.optional(),
});

type ParsedEnv = z.infer<typeof envSchema>;

/** TESSERA_* variables the compute sets for the trainer (see `loadTrainerAssignment`). */
const TRAINER_KEYS = [
  'TESSERA_JOB_WORKSPACE',
  'TESSERA_JOB_NAME',
  'TESSERA_JOB_ATTEMPT',
  'TESSERA_TRAINER_EXIT_FILE',
  'TESSERA_TRAINER_WORKDIR',
] as const;

const KNOWN_KEYS = new Set<string>([...Object.keys(envSchema.shape), ...CLIENT_KEYS, ...TRAINER_KEYS]);

/** Which attempt of which job a trainer process runs, and where it works (set by the compute). */
export interface TrainerAssignmentConfig {
  workspace: string;
  job: string;
  attempt: number;
  /** Written once the outcome is reported (embedded compute). */
  exitFile?: string;
  /** The folder to stage code, inputs and outputs in. */
  workDir?: string;
  /** What the compute could not honour (TESSERA_JOB_EXECUTION_HINT), for the job's notices. */
  notices?: string[];
}

/** The environment the host was started with, for the processes it starts (trainers). */
export function hostEnvironment(env: Env = process.env): Record<string, string | undefined> {
  return { ...env };
}

/** Whether the compute gave this trainer process its job in the environment (else it is a spare, told over IPC). */
export function hasTrainerAssignment(env: Env = process.env): boolean {
  return env.TESSERA_JOB_NAME !== undefined && env.TESSERA_JOB_NAME !== '';
}

/** Reads the trainer's assignment; ConfigError naming the missing or bad variable. */
export function loadTrainerAssignment(env: Env = process.env): TrainerAssignmentConfig {
  const need = (key: (typeof TRAINER_KEYS)[number]): string => {
    const value = env[key]?.trim();
    if (value === undefined || value === '') {
      throw new ConfigError(`${key} is not set: the trainer is started by a compute, which sets it.`, { target: key });
    }
    return value;
  };
  const attempt = Number(need('TESSERA_JOB_ATTEMPT'));
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new ConfigError('TESSERA_JOB_ATTEMPT must be a positive integer.', { target: 'TESSERA_JOB_ATTEMPT' });
  }
  const exitFile = env.TESSERA_TRAINER_EXIT_FILE?.trim();
  const workDir = env.TESSERA_TRAINER_WORKDIR?.trim();
  const notices = parseTrainerExecutionHint(env.TESSERA_JOB_EXECUTION_HINT)?.notices;
  return {
    ...(notices === undefined || notices.length === 0 ? {} : { notices }),
    workspace: need('TESSERA_JOB_WORKSPACE'),
    job: need('TESSERA_JOB_NAME'),
    attempt,
    ...(exitFile ? { exitFile } : {}),
    ...(workDir ? { workDir: resolve(workDir) } : {}),
  };
}

/** Unset and empty are the same thing for app settings (portals often save '' for "no value"). */
function dropEmpty(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

export function isLoopbackAddress(address: string): boolean {
  const a = address.trim().toLowerCase();
  return a === 'localhost' || a === '::1' || a === '[::1]' || /^127(\.\d{1,3}){3}$/.test(a);
}

function checkCrossFieldRules(env: ParsedEnv, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(env)) {
    if (key.startsWith('TESSERA_') && !KNOWN_KEYS.has(key)) {
      const suggestion = closestKey(key);
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          `${key} is not a Tessera setting` +
          (suggestion ? `; did you mean ${suggestion}?` : '.') +
          ` Remove it or rename it to one of: ${[...KNOWN_KEYS].filter((k) => k.startsWith('TESSERA_')).join(', ')}.`,
      });
    }
  }

  if (env.TESSERA_AUTH === 'off' && !isLoopbackAddress(env.TESSERA_BIND_ADDRESS)) {
    ctx.addIssue({
      code: 'custom',
      path: ['TESSERA_AUTH'],
      message:
        `TESSERA_AUTH=off is only allowed when the host listens on a loopback address (127.x, ::1, localhost), ` +
        `but TESSERA_BIND_ADDRESS is "${env.TESSERA_BIND_ADDRESS}". Set TESSERA_AUTH=on, or bind to 127.0.0.1.`,
    });
  }

  if (env.TESSERA_STORE === 'azure') {
    requireKey(env, ctx, 'COSMOS_ENDPOINT');
    requireOneOf(env, ctx, 'BLOB_ACCOUNT_URL', 'BLOB_CONNECTION_STRING');
    requireOneOf(env, ctx, 'SERVICEBUS_NAMESPACE', 'SERVICEBUS_CONNECTION_STRING');
  }

  // Python deployments on Container Apps: the environment and the image, in a subscription and group.
  const pythonScoringSet = [...PYTHON_SCORING_REQUIRED, ...PYTHON_SCORING_OPTIONAL].filter((k) => env[k] !== undefined);

  // The Container Apps compute: all three required keys, or none (then jobs cannot run on Azure).
  // The subscription, group and ARM endpoint also serve Python scoring, which needs no trainer job.
  const sharedWithScoring: readonly string[] = [
    'CONTAINER_APPS_SUBSCRIPTION_ID',
    'CONTAINER_APPS_RESOURCE_GROUP',
    'CONTAINER_APPS_ARM_ENDPOINT',
  ];
  const containerAppsSet = [...CONTAINER_APPS_REQUIRED, ...CONTAINER_APPS_OPTIONAL].filter(
    (k) => env[k] !== undefined && !(pythonScoringSet.length > 0 && sharedWithScoring.includes(k)),
  );
  if (containerAppsSet.length > 0) {
    for (const key of CONTAINER_APPS_REQUIRED.filter((k) => env[k] === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          `${key} is required when the Container Apps compute is configured ` +
          `(${containerAppsSet.join(', ')} ${containerAppsSet.length === 1 ? 'is' : 'are'} set). ` +
          `Set ${key} to ${EXPECTED[key]}, or unset the other Container Apps settings.`,
      });
    }
  }

  if (pythonScoringSet.length > 0) {
    const required = [
      ...PYTHON_SCORING_REQUIRED,
      'CONTAINER_APPS_SUBSCRIPTION_ID',
      'CONTAINER_APPS_RESOURCE_GROUP',
    ] as const;
    for (const key of required.filter((k) => env[k] === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          `${key} is required when Python deployments run on Container Apps ` +
          `(${pythonScoringSet.join(', ')} ${pythonScoringSet.length === 1 ? 'is' : 'are'} set). ` +
          `Set ${key} to ${EXPECTED[key]}, or unset the other Python scoring settings.`,
      });
    }
  }

  const entraKeys = ['ENTRA_TENANT_ID', 'ENTRA_AUDIENCE'] as const;
  const entraSet = entraKeys.filter((k) => env[k] !== undefined);
  const entraOverrides = (['ENTRA_JWKS_URL', 'ENTRA_ISSUER'] as const).filter((k) => env[k] !== undefined);
  if ((entraSet.length > 0 || entraOverrides.length > 0) && entraSet.length < entraKeys.length) {
    for (const key of entraKeys.filter((k) => env[k] === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          `${key} is required when Microsoft Entra ID sign-in is configured ` +
          `(${[...entraSet, ...entraOverrides].join(', ')} ${entraSet.length + entraOverrides.length === 1 ? 'is' : 'are'} set). ` +
          `Set ${key} (${EXPECTED[key]}), or unset the other ENTRA_* settings.`,
      });
    }
  }
}

function requireKey(env: ParsedEnv, ctx: z.RefinementCtx, key: keyof ParsedEnv & string): void {
  if (env[key] === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `${key} is required when TESSERA_STORE=azure. Set it to ${EXPECTED[key]}.`,
    });
  }
}

function requireOneOf(
  env: ParsedEnv,
  ctx: z.RefinementCtx,
  identityKey: keyof ParsedEnv & string,
  secretKey: keyof ParsedEnv & string,
): void {
  if (env[identityKey] === undefined && env[secretKey] === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [identityKey],
      message:
        `${identityKey} (or ${secretKey}) is required when TESSERA_STORE=azure. ` +
        `Set ${identityKey} to ${EXPECTED[identityKey]} to use a managed identity, or ${secretKey} to ${EXPECTED[secretKey]}.`,
    });
  }
}

function defaultPublicUrl(bindAddress: string, port: number): string {
  // A wildcard address is where the host listens, not an address a client can call.
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${hostPart}:${port}`;
}

function serviceBusNamespace(value: string): string {
  // Accept a bare namespace name as well as the fully qualified one the SDK wants.
  const ns = value.replace(/^sb:\/\//, '').replace(/\/+$/, '');
  return ns.includes('.') ? ns : `${ns}.servicebus.windows.net`;
}

function toConfig(env: ParsedEnv): Config {
  const config: Config = {
    store: env.TESSERA_STORE,
    dataDir: resolve(env.TESSERA_DATA_DIR),
    port: env.PORT,
    bindAddress: env.TESSERA_BIND_ADDRESS,
    publicUrl: (env.TESSERA_PUBLIC_URL ?? defaultPublicUrl(env.TESSERA_BIND_ADDRESS, env.PORT)).replace(/\/+$/, ''),
    auth: env.TESSERA_AUTH,
    directHttp: env.TESSERA_DIRECT_HTTP === 'on',
    scoringReplicas:
      env.TESSERA_SCORING_REPLICAS === 'auto'
        ? Math.max(0, Math.min(availableParallelism(), 4) - 1)
        : env.TESSERA_SCORING_REPLICAS,
    tokenTtlDays: env.TESSERA_TOKEN_TTL_DAYS,
    durableHistoryRetentionDays: env.DURABLE_HISTORY_RETENTION_DAYS,
  };
  if (env.TESSERA_STORE === 'azure' && env.COSMOS_ENDPOINT !== undefined) {
    const azure: AzureConfig = {
      cosmos: {
        endpoint: env.COSMOS_ENDPOINT,
        database: env.COSMOS_DATABASE,
        ...(env.COSMOS_KEY === undefined ? {} : { key: env.COSMOS_KEY }),
      },
      blob:
        env.BLOB_CONNECTION_STRING !== undefined
          ? { connectionString: env.BLOB_CONNECTION_STRING }
          : { accountUrl: (env.BLOB_ACCOUNT_URL ?? '').replace(/\/+$/, '') },
      serviceBus:
        env.SERVICEBUS_CONNECTION_STRING !== undefined
          ? { connectionString: env.SERVICEBUS_CONNECTION_STRING }
          : { namespace: serviceBusNamespace(env.SERVICEBUS_NAMESPACE ?? '') },
      ...(env.KEY_VAULT_URL === undefined ? {} : { keyVaultUrl: env.KEY_VAULT_URL }),
    };
    if (
      env.CONTAINER_APPS_SUBSCRIPTION_ID !== undefined &&
      env.CONTAINER_APPS_RESOURCE_GROUP !== undefined &&
      env.TRAINER_JOB_NAME !== undefined
    ) {
      azure.containerApps = {
        subscriptionId: env.CONTAINER_APPS_SUBSCRIPTION_ID,
        resourceGroup: env.CONTAINER_APPS_RESOURCE_GROUP,
        trainerJobName: env.TRAINER_JOB_NAME,
        ...(env.TRAINER_GPU_JOB_NAME === undefined ? {} : { gpuTrainerJobName: env.TRAINER_GPU_JOB_NAME }),
        armEndpoint: (env.CONTAINER_APPS_ARM_ENDPOINT ?? DEFAULTS.CONTAINER_APPS_ARM_ENDPOINT).replace(/\/+$/, ''),
      };
    }
    if (
      env.CONTAINER_APPS_SUBSCRIPTION_ID !== undefined &&
      env.CONTAINER_APPS_RESOURCE_GROUP !== undefined &&
      env.CONTAINER_APPS_ENVIRONMENT_ID !== undefined &&
      env.PYTHON_SCORING_IMAGE !== undefined
    ) {
      azure.pythonScoring = {
        subscriptionId: env.CONTAINER_APPS_SUBSCRIPTION_ID,
        resourceGroup: env.CONTAINER_APPS_RESOURCE_GROUP,
        environmentId: env.CONTAINER_APPS_ENVIRONMENT_ID,
        image: env.PYTHON_SCORING_IMAGE,
        ...(env.PYTHON_SCORING_IDENTITY_ID === undefined ? {} : { identityId: env.PYTHON_SCORING_IDENTITY_ID }),
        ...(env.PYTHON_SCORING_IDENTITY_CLIENT_ID === undefined
          ? {}
          : { identityClientId: env.PYTHON_SCORING_IDENTITY_CLIENT_ID }),
        ...(env.PYTHON_SCORING_REGISTRY === undefined ? {} : { registry: env.PYTHON_SCORING_REGISTRY }),
        armEndpoint: (env.CONTAINER_APPS_ARM_ENDPOINT ?? DEFAULTS.CONTAINER_APPS_ARM_ENDPOINT).replace(/\/+$/, ''),
      };
    }
    config.azure = azure;
  }
  if (env.ENTRA_TENANT_ID !== undefined && env.ENTRA_AUDIENCE !== undefined) {
    config.entra = {
      tenantId: env.ENTRA_TENANT_ID,
      audience: env.ENTRA_AUDIENCE,
      ...(env.ENTRA_JWKS_URL === undefined ? {} : { jwksUrl: env.ENTRA_JWKS_URL }),
      ...(env.ENTRA_ISSUER === undefined ? {} : { issuer: env.ENTRA_ISSUER }),
    };
  }
  return config;
}

/** The config schema: environment in, `Config` out. */
export const configSchema = z.preprocess(dropEmpty, envSchema.superRefine(checkCrossFieldRules).transform(toConfig));

/**
 * Reads and validates the configuration. Throws a ConfigError that names every bad key, the value
 * found (never for secrets) and what to set instead.
 */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const details = result.error.issues.map((issue) => describeIssue(issue, env));
    const first = details[0];
    const message =
      details.length === 1 && first
        ? `Invalid configuration: ${first.message}`
        : `Invalid configuration (${details.length} problems):\n${details.map((d) => `- ${d.message}`).join('\n')}`;
    throw new ConfigError(message, { ...(first ? { target: first.target } : {}), details });
  }
  return deepFreeze(result.data);
}

function describeIssue(issue: z.core.$ZodIssue, env: Env): ErrorDetail {
  const key = String(issue.path[0] ?? '(environment)');
  if (issue.code === 'custom') return { target: key, message: issue.message };
  const raw = env[key];
  const shown = SECRET_KEYS.has(key) ? '(value hidden)' : JSON.stringify(raw);
  const fallback =
    key in DEFAULTS ? ` or unset it to use the default (${String(DEFAULTS[key as keyof typeof DEFAULTS])})` : '';
  return {
    target: key,
    message: `${key}=${shown} is invalid: expected ${EXPECTED[key] ?? 'a valid value'}. Set ${key} to a valid value${fallback}.`,
  };
}

function closestKey(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of KNOWN_KEYS) {
    const d = editDistance(key, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return bestDistance <= 3 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
