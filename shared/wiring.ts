import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateKeyFile } from './adapters/key-file.js';
import { loadConfig } from './config.js';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import type { ArtifactStore } from './ports/artifact-store.js';
import { systemClock } from './ports/clock.js';
import type { Clock } from './ports/clock.js';
import type { MessageQueue } from './ports/message-queue.js';
import type { MetadataStore } from './ports/metadata-store.js';
import { createAuthenticator } from './services/authenticator.js';
import type { Authenticator } from './services/authenticator.js';
import { createEntraVerifier } from './services/entra-verifier.js';
import { createHousekeepingService } from './services/housekeeping-service.js';
import type { HousekeepingService } from './services/housekeeping-service.js';
import { createTokenService } from './services/token-service.js';
import type { TokenService } from './services/token-service.js';
import { createWorkspaceService } from './services/workspace-service.js';
import { TOKENS_CONTAINER } from './contracts/token.js';
import { WORKSPACES_CONTAINER } from './contracts/workspace.js';
import type { OrderBy } from './ports/metadata-store.js';
import type { WorkspaceService } from './services/workspace-service.js';
// --- assets and secrets (issue 3 items 3 and 5) ---
import { ASSETS_CONTAINER } from './contracts/assets.js';
import type { DatastoreResolver } from './ports/datastore-resolver.js';
import type { SecretStore } from './ports/secret-store.js';
import type { StorageAccountConnector } from './ports/storage-account-connector.js';
import { createAssetService } from './services/asset-service.js';
import type { AssetService } from './services/asset-service.js';
// --- end assets and secrets ---
// --- tracking (issue 4) ---
import { TRACKING_COSMOS_ORDERINGS } from './contracts/tracking-documents.js';
import type { TrackingStore } from './ports/tracking-store.js';
import { createTrackingService } from './services/tracking-service.js';
import type { TrackingService } from './services/tracking-service.js';
// --- end tracking ---
// --- jobs (issue 4) ---
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { JOBS_CONTAINER } from './contracts/job.js';
import type { Compute } from './ports/compute.js';
import { createJobService } from './services/job-service.js';
import type { JobService } from './services/job-service.js';
import { createAutomlService } from './services/automl-service.js';
import type { AutomlService } from './services/automl-service.js';
import { createSweepService } from './services/sweep-service.js';
import type { SweepService } from './services/sweep-service.js';
import { hostEnvironment } from './config.js';
// --- end jobs ---
// --- mlflow artifacts ---
import { MLFLOW_LOGGED_MODELS_CONTAINER } from './contracts/mlflow-artifacts.js';
import { LOGGED_MODEL_ORDERINGS } from './domain/logged-model-search.js';
import { createLoggedModelService } from './services/logged-model-service.js';
import type { LoggedModelService } from './services/logged-model-service.js';
import { createMlflowArtifactService } from './services/mlflow-artifact-service.js';
import type { MlflowArtifactService } from './services/mlflow-artifact-service.js';
import { createRunInputsStore } from './services/mlflow-run-inputs.js';
// --- end mlflow artifacts ---
// --- online endpoints (issue 6) ---
import type { DeploymentProvisioner } from './ports/deployment-provisioner.js';
import type { EndpointDirectory } from './ports/endpoint-directory.js';
import type { OnlineDeployment } from './contracts/endpoint.js';
import { createEndpointService } from './services/endpoint-service.js';
import { createDataAccess } from './services/data-access.js';
import type { ModelRuntime } from './ports/model-runtime.js';
import type { PythonDeploymentHost } from './ports/python-deployment-host.js';
import { createRemoteScorer } from './serving/remote-scorer.js';
import { createFileFetcher } from './serving/fetch-files.js';
import { DEFAULT_DATASTORE } from './contracts/assets.js';
import { deploymentMetricsSource, servingDeployment, servingDirectory } from './serving/from-contracts.js';
import { ScorerRegistry } from './serving/registry.js';
import { EndpointRouter } from './serving/router.js';
import type { EndpointService } from './services/endpoint-service.js';
// --- end online endpoints ---

/**
 * The one composition root: reads the config once, picks the adapters for the configured store
 * (embedded SQLite + folder, or Cosmos DB + Blob Storage + Service Bus) and builds the services.
 * Adapters are imported dynamically so that an embedded host never loads the Azure SDKs and an
 * import can never fail at function-app load time.
 */

/**
 * The sort orders the services query each container with. Cosmos DB needs a composite index for
 * each of them; infra/modules/cosmos.bicep declares the same list for the containers it creates.
 */
export const COSMOS_ORDERINGS: Readonly<Record<string, OrderBy[][]>> = {
  [TOKENS_CONTAINER]: [[{ path: 'createdAt', direction: 'desc' }]],
  [WORKSPACES_CONTAINER]: [[{ path: 'name' }]],
  // Versions newest first; names, datastores and computes by name.
  [ASSETS_CONTAINER]: [[{ path: 'seq', direction: 'desc' }], [{ path: 'name' }]],
  [JOBS_CONTAINER]: [[{ path: 'createdAt', direction: 'desc' }]],
  // --- mlflow artifacts ---
  // logged-models/search: newest first by default; by creation, last update or name either way.
  [MLFLOW_LOGGED_MODELS_CONTAINER]: LOGGED_MODEL_ORDERINGS,
  // --- end mlflow artifacts ---
  // --- tracking ---
  // MLflow experiments and runs: default orders and attribute orders (CosmosTrackingStore).
  ...TRACKING_COSMOS_ORDERINGS,
  // --- end tracking ---
};

export interface Services {
  config: Readonly<Config>;
  clock: Clock;
  store: MetadataStore;
  artifacts: ArtifactStore;
  queue: MessageQueue;
  /** HMAC key of embedded signed artifact URLs; undefined on Azure, where Blob Storage signs them. */
  artifactSigningKey: Buffer | undefined;
  workspaces: WorkspaceService;
  tokens: TokenService;
  authenticator: Authenticator;
  housekeeping: HousekeepingService;
  // --- assets and secrets ---
  /** Datastore credentials and other resource secrets: encrypted in the metadata store (embedded) or Key Vault (Azure). */
  secrets: SecretStore;
  /** Datastores, data, models, environments, components and computes of each workspace. */
  assets: AssetService;
  /** `azureml://datastores/<name>/...` → storage, for the data plane (backed by `assets`). */
  datastores: DatastoreResolver;
  // --- end assets and secrets ---
  // --- tracking ---
  /** MLflow experiments, runs, params, tags and metrics of each workspace. */
  tracking: TrackingService;
  trackingStore: TrackingStore;
  // --- end tracking ---
  // --- jobs ---
  /** Command jobs: submission, status, logs, cancel, outputs. */
  jobs: JobService;
  /** Sweep jobs on the trial engine. */
  sweeps: SweepService;
  /** AutoML jobs on the trial engine. */
  automl: AutomlService;
  /** Where jobs run, created on first use (embedded: trainer processes; Azure: Container Apps jobs). */
  compute(): Promise<Compute>;
  /** Closes the compute adapter if it was opened (its trainers keep running). */
  closeCompute(): Promise<void>;
  // --- end jobs ---
  // --- mlflow artifacts ---
  /** MLflow's artifact API (proxied mlflow-artifacts, artifacts/list) over each workspace's workspaceartifactstore. */
  mlflowArtifacts: MlflowArtifactService;
  /** MLflow 3 logged models of each workspace. */
  loggedModels: LoggedModelService;
  // --- end mlflow artifacts ---
  // --- online endpoints ---
  /** Online endpoints and deployments: specs, traffic, keys and tokens, provisioning. */
  endpoints: EndpointService;
  /** What the scoring route reads: an endpoint with its deployments, and the caller check. */
  endpointDirectory: EndpointDirectory;
  /** The data plane: scores requests to `/api/endpoints/{name}/score` (shared/serving). */
  scoring: EndpointRouter;
  /** The loaded scorers of this host's deployments (per-deployment statistics included). */
  scorers: ScorerRegistry;
  // --- end online endpoints ---
}

export interface CreateServicesOptions {
  clock?: Clock;
  /** Used by the Entra verifier to fetch signing keys. */
  fetch?: typeof fetch;
  /** Provisions online deployments instead of the data plane's (tests). */
  deploymentProvisioner?: DeploymentProvisioner;
}

interface Stores {
  store: MetadataStore;
  artifacts: ArtifactStore;
  queue: MessageQueue;
  artifactSigningKey: Buffer | undefined;
}

/** Builds a fresh set of services; the caller owns them and must close them (see `closeServicesOf`). */
export async function createServices(config: Readonly<Config>, options: CreateServicesOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const stores = config.store === 'azure' ? await createAzureStores(config) : await createEmbeddedStores(config);
  const { store } = stores;
  const workspaces = createWorkspaceService({ store, clock });
  const tokens = createTokenService({ store, clock, defaultTtlDays: config.tokenTtlDays });
  const entra =
    config.entra === undefined
      ? undefined
      : createEntraVerifier({
          tenantId: config.entra.tenantId,
          audience: config.entra.audience,
          ...(config.entra.jwksUrl === undefined ? {} : { jwksUrl: config.entra.jwksUrl }),
          ...(config.entra.issuer === undefined ? {} : { issuer: config.entra.issuer }),
          clock,
          ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
        });
  const authenticator = createAuthenticator({
    mode: config.auth,
    tokens,
    workspaces,
    ...(entra === undefined ? {} : { entra }),
  });
  const housekeeping = createHousekeepingService({ store, tokens, clock });
  const assetServices = await createAssetServices(config, stores, workspaces, clock).catch(async (err: unknown) => {
    await closeServicesOf(stores).catch(() => undefined);
    throw err;
  });
  // --- tracking ---
  const trackingServices = await createTrackingServices(config, workspaces, clock, store).catch(
    async (err: unknown) => {
      await closeServicesOf(stores).catch(() => undefined);
      throw err;
    },
  );
  // --- end tracking ---
  // --- jobs ---
  const compute = lazyCompute(config);
  const jobs = createJobService({
    store,
    clock,
    workspaces,
    assets: assetServices.assets,
    tracking: trackingServices.tracking,
    tokens,
    secrets: assetServices.secrets,
    datastores: assetServices.datastores,
    queue: stores.queue,
    compute: compute.get,
    publicUrl: config.publicUrl,
    localMaxInstances: Math.max(2, availableParallelism()),
    runsImages: config.store === 'azure',
  });
  const sweeps = createSweepService({
    store,
    clock,
    jobs,
    tracking: trackingServices.tracking,
    queue: stores.queue,
    publicUrl: config.publicUrl,
  });
  const automl = createAutomlService({
    store,
    clock,
    jobs,
    sweeps,
    tracking: trackingServices.tracking,
    publicUrl: config.publicUrl,
  });
  // --- end jobs ---
  // --- mlflow artifacts ---
  const mlflowArtifactServices = createMlflowArtifactServices(
    stores,
    assetServices,
    trackingServices,
    workspaces,
    clock,
  );
  // --- end mlflow artifacts ---
  // --- online endpoints ---
  const tokenKey = endpointTokenKey(config, assetServices.secrets);
  const serving = servingPlane(config, assetServices.datastores, tokenKey);
  const endpoints = createEndpointService({
    store,
    clock,
    workspaces,
    assets: assetServices.assets,
    jobs,
    secrets: assetServices.secrets,
    provisioner: options.deploymentProvisioner ?? serving.provisioner,
    metrics: deploymentMetricsSource(serving.registry),
    tokenKey,
    publicUrl: config.publicUrl,
  });
  // --- end online endpoints ---
  return {
    config,
    clock,
    ...stores,
    workspaces,
    tokens,
    authenticator,
    housekeeping,
    ...assetServices,
    ...trackingServices,
    ...mlflowArtifactServices,
    jobs,
    sweeps,
    automl,
    compute: compute.get,
    closeCompute: compute.close,
    endpoints,
    endpointDirectory: endpoints.directory,
    scorers: serving.registry,
    scoring: new EndpointRouter({
      directory: servingDirectory(endpoints.directory, serving.note),
      registry: serving.registry,
    }),
  };
}

/** Closes the stores of a services object built by `createServices`. */
export async function closeServicesOf(
  services: Pick<Services, 'store' | 'artifacts' | 'queue'> &
    Partial<Pick<Services, 'trackingStore' | 'closeCompute' | 'scorers'>>,
): Promise<void> {
  const results = await Promise.allSettled([
    // --- jobs ---
    services.closeCompute?.(),
    // --- end jobs ---
    // --- online endpoints ---
    services.scorers?.close(),
    // --- end online endpoints ---
    services.queue.close(),
    services.artifacts.close(),
    services.store.close(),
    // --- tracking ---
    services.trackingStore?.close(),
    // --- end tracking ---
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

let current: Promise<Services> | undefined;

/** The process-wide services, created on first use from `loadConfig()`. A failed start is retried on the next call. */
export function getServices(): Promise<Services> {
  current ??= (async () => createServices(loadConfig()))().catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}

/** Closes the process-wide services (host shutdown, end of a test file); the next `getServices()` starts afresh. */
export async function closeServices(): Promise<void> {
  const pending = current;
  current = undefined;
  if (pending === undefined) return;
  let services: Services;
  try {
    services = await pending;
  } catch {
    return; // never started, nothing to close
  }
  await closeServicesOf(services);
}

/** Test seam: make `getServices()` return these services (undefined to go back to lazy creation). */
export function setServicesForTesting(services: Services | undefined): void {
  current = services === undefined ? undefined : Promise.resolve(services);
}

async function createEmbeddedStores(config: Readonly<Config>): Promise<Stores> {
  const [{ SqliteMetadataStore }, { FilesystemArtifactStore }, { SqliteMessageQueue }] = await Promise.all([
    import('./adapters/sqlite-metadata-store.js'),
    import('./adapters/filesystem-artifact-store.js'),
    import('./adapters/sqlite-message-queue.js'),
  ]);
  mkdirSync(config.dataDir, { recursive: true });
  const signingKey = loadOrCreateSigningKey(join(config.dataDir, 'keys', 'artifact-signing.key'));
  return withCleanup(async (opened) => {
    const store = opened(await SqliteMetadataStore.open(join(config.dataDir, 'metadata.db')));
    const artifacts = opened(
      new FilesystemArtifactStore({
        root: join(config.dataDir, 'artifacts'),
        signingKey,
        publicBaseUrl: config.publicUrl,
      }),
    );
    // Trainers report through this queue from their own processes: look for their messages often.
    const queue = opened(await SqliteMessageQueue.open(join(config.dataDir, 'queues.db'), { pollIntervalMs: 50 }));
    return { store, artifacts, queue, artifactSigningKey: signingKey };
  });
}

async function createAzureStores(config: Readonly<Config>): Promise<Stores> {
  const azure = config.azure;
  if (azure === undefined) {
    throw new ConfigError(
      'TESSERA_STORE=azure but the Azure settings are missing; set COSMOS_ENDPOINT, BLOB_ACCOUNT_URL and SERVICEBUS_NAMESPACE.',
    );
  }
  const [{ CosmosMetadataStore }, { BlobArtifactStore }, { ServiceBusMessageQueue }] = await Promise.all([
    import('./adapters/cosmos-metadata-store.js'),
    import('./adapters/blob-artifact-store.js'),
    import('./adapters/servicebus-message-queue.js'),
  ]);
  const needsIdentity = azure.cosmos.key === undefined || 'accountUrl' in azure.blob || 'namespace' in azure.serviceBus;
  // Managed identity in Azure, developer sign-in (az login, VS Code) on a workstation.
  const credential = needsIdentity
    ? await (await import('./adapters/azure-identity.js')).createDefaultAzureCredential()
    : undefined;

  return withCleanup(async (opened) => {
    const store = opened(
      await CosmosMetadataStore.fromConfig({
        endpoint: azure.cosmos.endpoint,
        database: azure.cosmos.database,
        orderings: COSMOS_ORDERINGS,
        ...(azure.cosmos.key === undefined ? { credential } : { key: azure.cosmos.key }),
      }),
    );
    const artifacts = opened(
      'connectionString' in azure.blob
        ? BlobArtifactStore.fromConnectionString(azure.blob.connectionString)
        : BlobArtifactStore.fromTokenCredential(azure.blob.accountUrl, requireCredential(credential)),
    );
    const queue = opened(
      'connectionString' in azure.serviceBus
        ? ServiceBusMessageQueue.fromConnectionString(azure.serviceBus.connectionString)
        : ServiceBusMessageQueue.fromNamespace(azure.serviceBus.namespace, requireCredential(credential)),
    );
    return { store, artifacts, queue, artifactSigningKey: undefined };
  });
}

// --- assets and secrets ---------------------------------------------------------------------

/**
 * The secret store, the asset service and the datastore resolver. Embedded: secrets encrypted with
 * <dataDir>/keys/secrets.key in the metadata store, and no external storage account is reachable.
 * Azure: Key Vault (KEY_VAULT_URL; without it, storing a secret is a ConfigError naming the
 * setting), and user-registered Blob/ADLS Gen2 datastores are opened with their credentials or the
 * app's identity.
 */
async function createAssetServices(
  config: Readonly<Config>,
  stores: Stores,
  workspaces: WorkspaceService,
  clock: Clock,
): Promise<Pick<Services, 'secrets' | 'assets' | 'datastores'>> {
  let secrets: SecretStore;
  let storageAccounts: StorageAccountConnector | undefined;
  let storageAccountName = 'embedded';
  if (config.store === 'azure') {
    const [{ KeyVaultSecretStore, createMissingKeyVaultSecretStore }, { BlobStorageAccountConnector }, identity] =
      await Promise.all([
        import('./adapters/key-vault-secret-store.js'),
        import('./adapters/blob-storage-account-connector.js'),
        import('./adapters/azure-identity.js'),
      ]);
    let credential: ReturnType<typeof identity.createDefaultAzureCredential> | undefined;
    const appIdentity = () => (credential ??= identity.createDefaultAzureCredential());
    const vaultUrl = config.azure?.keyVaultUrl;
    secrets =
      vaultUrl === undefined
        ? createMissingKeyVaultSecretStore()
        : KeyVaultSecretStore.fromVaultUrl(vaultUrl, await appIdentity());
    storageAccounts = new BlobStorageAccountConnector({ credential: appIdentity });
    storageAccountName = config.azure === undefined ? 'azure' : blobAccountName(config.azure.blob);
  } else {
    const { LocalSecretStore } = await import('./adapters/local-secret-store.js');
    secrets = await LocalSecretStore.open({
      store: stores.store,
      keyFile: join(config.dataDir, 'keys', 'secrets.key'),
    });
  }
  const assets = createAssetService({
    store: stores.store,
    clock,
    secrets,
    workspaces,
    artifacts: stores.artifacts,
    storageAccountName,
    ...(storageAccounts === undefined ? {} : { storageAccounts }),
  });
  return {
    secrets,
    assets,
    datastores: { resolve: assets.resolveDatastore, resolveStorageLocation: assets.resolveStorageLocation },
  };
}

function blobAccountName(blob: NonNullable<Config['azure']>['blob']): string {
  if ('accountUrl' in blob) return new URL(blob.accountUrl).hostname.split('.')[0] ?? 'azure';
  return /(?:^|;)\s*AccountName=([^;]+)/i.exec(blob.connectionString)?.[1] ?? 'azure';
}

// --- end assets and secrets -----------------------------------------------------------------

// --- tracking -------------------------------------------------------------------------------

/**
 * The MLflow tracking store and service: SQLite in <dataDir>/tracking.db on the embedded host,
 * Cosmos DB (containers trackingExperiments, trackingRuns, trackingMetricHistory) on Azure. A
 * workspace must exist before it is tracked in.
 */
async function createTrackingServices(
  config: Readonly<Config>,
  workspaces: WorkspaceService,
  clock: Clock,
  store: MetadataStore,
): Promise<Pick<Services, 'tracking' | 'trackingStore'>> {
  let trackingStore: TrackingStore;
  if (config.store === 'azure') {
    // SQLite's WAL needs a local disk, which a Functions app on Azure does not have.
    const cosmos = config.azure?.cosmos;
    if (cosmos === undefined) {
      throw new ConfigError('TESSERA_STORE=azure but the Azure settings are missing; set COSMOS_ENDPOINT.');
    }
    const { CosmosTrackingStore } = await import('./adapters/cosmos-tracking-store.js');
    const credential =
      cosmos.key === undefined
        ? await (await import('./adapters/azure-identity.js')).createDefaultAzureCredential()
        : undefined;
    trackingStore = CosmosTrackingStore.fromConfig({
      endpoint: cosmos.endpoint,
      database: cosmos.database,
      orderings: COSMOS_ORDERINGS,
      ...(cosmos.key === undefined ? { credential } : { key: cosmos.key }),
    });
  } else {
    const { SqliteTrackingStore } = await import('./adapters/sqlite-tracking-store.js');
    mkdirSync(config.dataDir, { recursive: true });
    trackingStore = SqliteTrackingStore.open(join(config.dataDir, 'tracking.db'));
  }
  const tracking = createTrackingService({
    store: trackingStore,
    clock,
    requireWorkspace: (ws) => workspaces.get(ws),
    // --- mlflow artifacts ---
    // Run inputs and outputs live in the metadata store: the TrackingStore port has no place for them.
    runInputs: createRunInputsStore({ store }),
    // --- end mlflow artifacts ---
  });
  return { tracking, trackingStore };
}

// --- end tracking ---------------------------------------------------------------------------

// --- jobs -----------------------------------------------------------------------------------

/**
 * The compute adapter, opened on first use and closed with the services. Embedded: trainer
 * processes of dist/trainer/main.js, queued in <dataDir>/compute.db. Azure: Container Apps jobs.
 */
function lazyCompute(config: Readonly<Config>): { get(): Promise<Compute>; close(): Promise<void> } {
  let current: Promise<Compute> | undefined;
  return {
    get() {
      current ??= (async (): Promise<Compute> => {
        if (config.store === 'azure') {
          const { createContainerAppsCompute, createMissingContainerAppsCompute } =
            await import('./adapters/container-apps-compute.js');
          const containerApps = config.azure?.containerApps;
          // Without the settings, a submit is a ConfigError naming them.
          return containerApps === undefined
            ? createMissingContainerAppsCompute()
            : createContainerAppsCompute(containerApps);
        }
        const { ProcessCompute } = await import('./adapters/process-compute.js');
        return ProcessCompute.open({
          dataDir: config.dataDir,
          trainerEntry: fileURLToPath(new URL('../trainer/main.js', import.meta.url)),
          env: hostEnvironment(),
        });
      })().catch((err: unknown) => {
        current = undefined;
        throw err;
      });
      return current;
    },
    async close() {
      const pending = current;
      current = undefined;
      if (pending !== undefined) await (await pending.catch(() => undefined))?.close();
    },
  };
}

// --- end jobs -------------------------------------------------------------------------------
// --- mlflow artifacts -----------------------------------------------------------------------

/**
 * MLflow artifacts and logged models: bytes in each workspace's workspaceartifactstore datastore
 * (through the datastore resolver), logged models in the metadata store, runs and experiments
 * checked through the tracking service.
 */
function createMlflowArtifactServices(
  stores: Stores,
  assets: Pick<Services, 'datastores'>,
  { tracking }: Pick<Services, 'tracking'>,
  workspaces: WorkspaceService,
  clock: Clock,
): Pick<Services, 'mlflowArtifacts' | 'loggedModels'> {
  const mlflowArtifacts = createMlflowArtifactService({
    datastores: assets.datastores,
    runArtifactUri: async (ws, runId) => (await tracking.getRun(ws, runId)).run.info.artifact_uri,
  });
  const loggedModels = createLoggedModelService({
    store: stores.store,
    clock,
    getExperiment: async (ws, experimentId) => (await tracking.getExperiment(ws, experimentId)).experiment,
    getRun: (ws, runId) => tracking.getRun(ws, runId),
    requireWorkspace: (ws) => workspaces.get(ws),
  });
  return { mlflowArtifacts, loggedModels };
}

// --- end mlflow artifacts -------------------------------------------------------------------

// --- online endpoints -----------------------------------------------------------------------

/**
 * The data plane's registry of scorers, which also provisions deployments for the management plane
 * (it fetches the model and code to <dataDir>/serving, loads the scorer and runs its init). The
 * ONNX runtime is loaded on the first deployment that needs it. On Azure, Python deployments run
 * on Container Apps instead (the Function app has no python3): they are provisioned there, follow
 * the endpoint's traffic and deletions, and are scored through a remote scorer. Data collectors
 * append to their workspace's workspaceblobstore, under modelDataCollector/ as Azure ML does.
 */
function servingPlane(
  config: Readonly<Config>,
  datastores: DatastoreResolver,
  tokenKey: () => Promise<Buffer>,
): { registry: ScorerRegistry; provisioner: DeploymentProvisioner; note: (d: OnlineDeployment) => void } {
  let runtime: Promise<ModelRuntime> | undefined;
  const modelRuntime: ModelRuntime = {
    kind: 'onnxruntime-node',
    async load(model) {
      runtime ??= import('./adapters/onnx-runtime.js').then((m) => new m.OnnxModelRuntime());
      return (await runtime).load(model);
    },
  };
  const python = config.store === 'azure' ? lazyPythonHost(config, tokenKey) : undefined;
  // Datastore URIs do not name their workspace: the provisioner records it for the fetcher.
  const workspaceOf = new Map<string, string>();
  const registry = new ScorerRegistry({
    modelRuntime,
    fetchFiles: createFileFetcher({
      data: createDataAccess({ datastores }),
      workspace: (uri) => workspaceOf.get(uri) ?? 'default',
      cacheDir: join(config.dataDir, 'serving'),
    }),
    ...(python === undefined
      ? {}
      : {
          openRemote: (deployment) => {
            if (deployment.kind !== 'python') return undefined;
            return (async () => {
              const host = await python.get();
              return createRemoteScorer({
                url: await host.scoringUrl(deployment.endpoint_name, deployment.name),
                headers: await host.scoringHeaders(deployment.endpoint_name),
              });
            })();
          },
        }),
    collectTo: (deployment) => async (path, text) => {
      const target = await datastores.resolve(deployment.workspace ?? 'default', DEFAULT_DATASTORE);
      await target.store.append(target.container, `${target.prefix}${path}`, text, {
        contentType: 'application/x-ndjson',
      });
    },
  });
  const note = (deployment: OnlineDeployment): void => {
    for (const uri of [deployment.model?.uri, deployment.code?.uri]) {
      if (uri !== undefined) workspaceOf.set(uri, deployment.workspace);
    }
  };
  return {
    registry,
    note,
    provisioner: {
      async provision(deployment) {
        if (python !== undefined && deployment.kind === 'python') return (await python.get()).provision(deployment);
        note(deployment);
        return registry.provision(servingDeployment(deployment));
      },
      async trafficChanged(endpoint, deployments) {
        // Without the settings no Python deployment can have been provisioned on Container Apps.
        if (python?.configured !== true || !deployments.some((d) => d.kind === 'python')) return;
        await (await python.get()).setTraffic(endpoint.name, endpoint.traffic);
      },
      async removed(deployment) {
        // Unloaded here at once (its scorer closed, its collector's last batch written); other
        // instances unload it when they restart.
        await registry.remove(deployment.endpoint_name, deployment.name);
        if (python?.configured !== true || deployment.kind !== 'python') return;
        await (await python.get()).remove(deployment.endpoint_name, deployment.name);
      },
    },
  };
}

/**
 * The Container Apps host of Python deployments, opened on first use. Each endpoint's app checks
 * callers with a key derived from the endpoint token key, so every Function app instance computes
 * the same key and none is stored. Without the settings, using it is a ConfigError naming them.
 */
/** What the Python scoring image needs to read datastores as the Function app does (by identity, no keys). */
function scoringImageStoreEnv(config: Readonly<Config>): Record<string, string> {
  const azure = config.azure;
  if (azure === undefined) return {};
  return {
    TESSERA_STORE: 'azure',
    COSMOS_ENDPOINT: azure.cosmos.endpoint,
    COSMOS_DATABASE: azure.cosmos.database,
    ...('accountUrl' in azure.blob ? { BLOB_ACCOUNT_URL: azure.blob.accountUrl } : {}),
    ...('namespace' in azure.serviceBus ? { SERVICEBUS_NAMESPACE: azure.serviceBus.namespace } : {}),
    ...(azure.keyVaultUrl === undefined ? {} : { KEY_VAULT_URL: azure.keyVaultUrl }),
  };
}

function lazyPythonHost(
  config: Readonly<Config>,
  tokenKey: () => Promise<Buffer>,
): { configured: boolean; get(): Promise<PythonDeploymentHost> } {
  const settings = config.azure?.pythonScoring;
  let current: Promise<PythonDeploymentHost> | undefined;
  return {
    configured: settings !== undefined,
    get() {
      if (settings === undefined) {
        return Promise.reject(
          new ConfigError(
            'Python deployments run on Azure Container Apps, which is not configured: set CONTAINER_APPS_SUBSCRIPTION_ID, ' +
              'CONTAINER_APPS_RESOURCE_GROUP, CONTAINER_APPS_ENVIRONMENT_ID and PYTHON_SCORING_IMAGE (infra/main.bicep ' +
              'sets them when pythonScoringImage is given), or deploy the model as a no-code ONNX or JavaScript deployment.',
            { target: 'PYTHON_SCORING_IMAGE' },
          ),
        );
      }
      current ??= import('./adapters/container-apps-deployments.js')
        .then(({ createContainerAppsDeployments }) =>
          createContainerAppsDeployments(settings, {
            storeEnv: scoringImageStoreEnv(config),
            scoringKey: async (app) =>
              createHmac('sha256', await tokenKey())
                .update(`python-scoring:${app}`)
                .digest('base64url'),
          }),
        )
        .catch((err: unknown) => {
          current = undefined;
          throw err;
        });
      return current;
    },
  };
}

const ENDPOINT_TOKEN_KEY_BYTES = 32;
const ENDPOINT_TOKEN_KEY_SECRET = 'endpoint-token-signing-key';

/**
 * The HMAC key of online endpoint aml tokens, loaded on first use: <dataDir>/keys/endpoint-token.key
 * on the embedded host; on Azure a secret in Key Vault, made by the first instance that needs it.
 */
function endpointTokenKey(config: Readonly<Config>, secrets: SecretStore): () => Promise<Buffer> {
  let key: Promise<Buffer> | undefined;
  return () => {
    key ??= (async () => {
      if (config.store !== 'azure') {
        return loadOrCreateKeyFile(join(config.dataDir, 'keys', 'endpoint-token.key'), {
          bytes: ENDPOINT_TOKEN_KEY_BYTES,
          wrongSize: (f, found) =>
            `The endpoint token key ${f} has ${found} bytes instead of ${ENDPOINT_TOKEN_KEY_BYTES}. Delete the file to create a new key (issued aml tokens stop working).`,
        });
      }
      const stored = await secrets.get(ENDPOINT_TOKEN_KEY_SECRET);
      if (stored !== undefined) return Buffer.from(stored, 'base64');
      const fresh = randomBytes(ENDPOINT_TOKEN_KEY_BYTES);
      await secrets.put(ENDPOINT_TOKEN_KEY_SECRET, fresh.toString('base64'));
      return fresh;
    })().catch((err: unknown) => {
      key = undefined;
      throw err;
    });
    return key;
  };
}

// --- end online endpoints -------------------------------------------------------------------

function requireCredential<T>(credential: T | undefined): T {
  if (credential === undefined)
    throw new ConfigError('Internal wiring error: an identity-based connection was configured without a credential.');
  return credential;
}

/** Runs `build`; if it fails, closes whatever it had already opened so no handle or file lock leaks. */
async function withCleanup<T>(
  build: (opened: <C extends { close(): Promise<void> }>(c: C) => C) => Promise<T>,
): Promise<T> {
  const resources: { close(): Promise<void> }[] = [];
  try {
    return await build((c) => {
      resources.push(c);
      return c;
    });
  } catch (err) {
    await Promise.allSettled(resources.reverse().map((r) => r.close()));
    throw err;
  }
}

const SIGNING_KEY_BYTES = 32;

/** The HMAC key of embedded signed artifact URLs (see loadOrCreateKeyFile). */
export function loadOrCreateSigningKey(file: string): Buffer {
  return loadOrCreateKeyFile(file, {
    bytes: SIGNING_KEY_BYTES,
    wrongSize: (f, found) =>
      `The artifact signing key ${f} has ${found} bytes instead of ${SIGNING_KEY_BYTES}. Delete the file to create a new key (existing signed URLs stop working).`,
  });
}
