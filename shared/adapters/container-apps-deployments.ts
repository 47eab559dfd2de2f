import { createHash } from 'node:crypto';
import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import type {
  ContainerApp,
  ContainerAppsAPIClientOptionalParams,
  Configuration,
  EnvironmentVar,
  Revision,
  Template,
  TrafficWeight,
} from '@azure/arm-appcontainers';
import type { TokenCredential } from '@azure/core-auth';
import type { PythonScoringConfig } from '../config.js';
import type { OnlineDeployment } from '../contracts/endpoint.js';
import { SCORING_ENV, SCORING_PORT } from '../contracts/scoring-image.js';
import { ConfigError, TransientError, ValidationError } from '../errors.js';
import type { PythonDeploymentHost } from '../ports/python-deployment-host.js';
import { createDefaultAzureCredential } from './azure-identity.js';
import { mapComputeSize } from './container-apps-resources.js';
import type { ReplicaResources } from './container-apps-resources.js';
import {
  codeOf,
  isCredentialError,
  isMissingResource,
  isRestError,
  messageOf,
  missingScopeSetting,
  statusOf,
} from './arm-errors.js';

export { SCORING_ENV, SCORING_PORT };

/** The revision container's name. */
export const SCORER_CONTAINER_NAME = 'scorer';
/** The Container Apps secret that holds the key callers of the app must present. */
export const SCORING_KEY_SECRET = 'scoring-key';
/** Where the image is told to put the model and the code it fetches. */
export const MODEL_DIR = '/var/azureml-app/azureml-models';
export const CODE_DIR = '/var/azureml-app/code';
/** The tag that marks an app as an endpoint's, so an app of the same name made by someone else is never changed. */
export const ENDPOINT_TAG = 'tessera-endpoint';
/** Resources of a revision whose instance_type has no mapping. */
const DEFAULT_RESOURCES: ReplicaResources = { cpu: 1, memory: '2Gi' };

/** PYTHON_SCORING_* and the Container Apps scope (PythonScoringConfig), and what the adapter needs besides. */
export interface ContainerAppsDeploymentsOptions extends Omit<PythonScoringConfig, 'armEndpoint'> {
  armEndpoint?: string;
  credential: TokenCredential;
  /** The key callers of an endpoint's app present (`Authorization: Bearer <key>`), the same on every instance. */
  scoringKey(app: string): Promise<string>;
  /**
   * The store settings the image reads model and code with (the Function app's own: TESSERA_STORE,
   * COSMOS_ENDPOINT, COSMOS_DATABASE, BLOB_ACCOUNT_URL, SERVICEBUS_NAMESPACE, KEY_VAULT_URL), given
   * to every revision; access is by the apps' identity, so no key is passed.
   */
  storeEnv?: Readonly<Record<string, string>>;
  /** Milliseconds between polls of ARM's long-running operations when it sends no Retry-After. */
  pollIntervalMs?: number;
  /** Milliseconds between reads of a new revision while it starts (default 5000). */
  revisionPollMs?: number;
  /** How long a new revision may take to start (default 10 minutes). */
  revisionTimeoutMs?: number;
  http?: Pick<ContainerAppsAPIClientOptionalParams, 'agent' | 'retryOptions'>;
  /** Waits between revision reads; tests replace it. */
  sleep?: (ms: number) => Promise<void>;
}

interface EnvironmentInfo {
  location: string;
  defaultDomain: string;
}

interface ArmContext {
  action: string;
  /** The app, or the environment when reading it. */
  resource: string;
}

/**
 * Python online deployments on Azure Container Apps (the PythonDeploymentHost port).
 *
 * Each online endpoint with a Python deployment has one Container App in the environment
 * CONTAINER_APPS_ENVIRONMENT_ID, in multiple-revision mode, tagged with the endpoint's name. A
 * generation of a deployment is one revision (suffix `<label>-<generation>`) running
 * PYTHON_SCORING_IMAGE with the deployment's variables, its model and code URIs, and replicas and
 * resources from instance_count and instance_type; the deployment's name (made a valid label) is a
 * traffic label of its current revision. A generation is provisioned in two steps: the revision is
 * created without traffic and read until it runs; only then is the label moved to it and the
 * previous generation deactivated, so a generation that fails to start leaves the previous one
 * serving, as the embedded registry does.
 *
 * ACA's weights must sum to 100 over the listed revisions. Tessera's traffic may give Python
 * deployments less (the rest goes to ONNX and JavaScript deployments scored in the Function app),
 * so the Python deployments' percents are scaled to 100 among themselves (largest remainder); when
 * they are all 0, the first label in name order gets 100. Those weights only steer calls to the
 * app's own address; Tessera's router always calls a label's address.
 */
export class ContainerAppsDeployments implements PythonDeploymentHost {
  private readonly client: ContainerAppsAPIClient;
  private readonly subscriptionId: string;
  private readonly resourceGroup: string;
  private readonly environmentId: string;
  private readonly armEndpoint: string;
  private readonly revisionPollMs: number;
  private readonly revisionTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private environmentInfo: Promise<EnvironmentInfo> | undefined;

  constructor(private readonly options: ContainerAppsDeploymentsOptions) {
    this.subscriptionId = options.subscriptionId;
    this.resourceGroup = options.resourceGroup;
    this.environmentId = options.environmentId;
    this.armEndpoint = (options.armEndpoint ?? 'https://management.azure.com').replace(/\/+$/, '');
    this.revisionPollMs = options.revisionPollMs ?? 5000;
    this.revisionTimeoutMs = options.revisionTimeoutMs ?? 600_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.client = new ContainerAppsAPIClient(options.credential, options.subscriptionId, {
      endpoint: this.armEndpoint,
      $host: this.armEndpoint,
      ...options.http,
    });
  }

  async provision(deployment: OnlineDeployment): Promise<{ ok: true } | { ok: false; reason: string; logs: string }> {
    if (deployment.kind !== 'python') {
      throw new ValidationError(
        `Deployment '${deployment.name}' is a ${deployment.kind} deployment; only Python deployments run on Container Apps.`,
        { target: 'kind' },
      );
    }
    if (deployment.code === undefined) {
      return { ok: false, reason: 'a Python deployment needs code_configuration: code and scoring_script', logs: '' };
    }
    const sizing = revisionResources(deployment.instance_type);
    if (sizing.refusal !== undefined) return { ok: false, reason: sizing.refusal, logs: '' };

    const app = appName(deployment.endpoint_name);
    const label = labelName(deployment.name);
    const revision = `${app}--${revisionSuffix(app, label, deployment.generation)}`;
    const env = await this.environment();
    const existing = await this.readApp(app, deployment.endpoint_name);
    const key = await this.options.scoringKey(app);
    const template = this.template(deployment, revision.slice(app.length + 2), sizing.resources);

    if (existing === undefined) {
      // A new app: its first revision gets the label and all of the app's weight at once.
      await this.arm({ action: 'create', resource: app }, () =>
        this.client.containerApps.beginCreateOrUpdateAndWait(
          this.resourceGroup,
          app,
          {
            location: env.location,
            tags: { [ENDPOINT_TAG]: deployment.endpoint_name },
            environmentId: this.environmentId,
            ...this.identity(),
            configuration: this.configuration([{ revisionName: revision, label, weight: 100 }], key),
            template,
          },
          this.lroOptions(),
        ),
      );
    } else if ((await this.readRevision(app, revision)) === undefined) {
      await this.arm({ action: 'add a revision to', resource: app }, () =>
        this.client.containerApps.beginUpdateAndWait(
          this.resourceGroup,
          app,
          { location: existing.location, template },
          this.lroOptions(),
        ),
      );
    }

    const outcome = await this.waitForRevision(app, revision);
    if (!outcome.ok) {
      if (existing === undefined) {
        // The app's only revision, which holds all its traffic: nothing else to serve, so no app.
        await this.arm({ action: 'delete', resource: app }, () =>
          this.client.containerApps.beginDeleteAndWait(this.resourceGroup, app, this.lroOptions()),
        );
      } else {
        await this.deactivate(app, [revision]); // the label never moved to it
      }
      return outcome;
    }
    const current = existing === undefined ? undefined : await this.readApp(app, deployment.endpoint_name);
    if (current !== undefined) {
      const traffic = labelledTraffic(current);
      const before = traffic.find((t) => t.label === label);
      if (before?.revisionName !== revision) {
        const moved = [
          ...traffic.filter((t) => t.label !== label),
          { revisionName: revision, label, weight: before?.weight ?? 0 },
        ];
        await this.patchTraffic(current, balance(moved), key);
      }
    }
    const older = (await this.revisionsOf(app, deployment.name)).filter((r) => r.name !== revision && r.active);
    await this.deactivate(
      app,
      older.flatMap((r) => (r.name === undefined ? [] : [r.name])),
    );
    return { ok: true };
  }

  async setTraffic(endpoint: string, traffic: Readonly<Record<string, number>>): Promise<void> {
    const app = appName(endpoint);
    const current = await this.readApp(app, endpoint);
    if (current === undefined) return;
    const byLabel = new Map(Object.entries(traffic).map(([name, weight]) => [labelName(name), weight]));
    const entries = labelledTraffic(current);
    const wanted = balance(entries.map((t) => ({ ...t, weight: byLabel.get(t.label) ?? 0 })));
    if (wanted.every((t, i) => t.weight === entries[i]?.weight)) return;
    await this.patchTraffic(current, wanted, await this.options.scoringKey(app));
  }

  async remove(endpoint: string, deployment: string): Promise<void> {
    const app = appName(endpoint);
    const current = await this.readApp(app, endpoint);
    if (current === undefined) return;
    const label = labelName(deployment);
    const entries = labelledTraffic(current);
    const rest = entries.filter((t) => t.label !== label);
    if (rest.length === 0) {
      // The endpoint's last Python deployment: the app has nothing else to serve.
      await this.arm({ action: 'delete', resource: app }, () =>
        this.client.containerApps.beginDeleteAndWait(this.resourceGroup, app, this.lroOptions()),
      );
      return;
    }
    if (rest.length !== entries.length) {
      await this.patchTraffic(current, balance(rest), await this.options.scoringKey(app));
    }
    const active = (await this.revisionsOf(app, deployment)).filter((r) => r.active);
    await this.deactivate(
      app,
      active.flatMap((r) => (r.name === undefined ? [] : [r.name])),
    );
  }

  async scoringUrl(endpoint: string, deployment: string): Promise<string> {
    const { defaultDomain } = await this.environment();
    return `https://${appName(endpoint)}---${labelName(deployment)}.${defaultDomain}/score`;
  }

  async scoringHeaders(endpoint: string): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.options.scoringKey(appName(endpoint))}` };
  }

  /** The environment's location and default domain, read once. */
  private environment(): Promise<EnvironmentInfo> {
    this.environmentInfo ??= (async () => {
      const match = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/managedEnvironments\/([^/]+)$/i.exec(
        this.environmentId,
      );
      if (match?.[1] === undefined || match[2] === undefined) {
        throw new ConfigError(
          `CONTAINER_APPS_ENVIRONMENT_ID '${this.environmentId}' is not the resource id of a Container Apps ` +
            'environment (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.App/managedEnvironments/<name>).',
          { target: 'CONTAINER_APPS_ENVIRONMENT_ID' },
        );
      }
      const [, group, name] = match;
      const found = await this.arm({ action: 'read', resource: `environment '${name}'` }, () =>
        this.client.managedEnvironments.get(group, name),
      );
      if (found.defaultDomain === undefined || found.location === undefined) {
        throw new TransientError(
          `The Container Apps environment '${name}' has no default domain yet (provisioning state ` +
            `${found.provisioningState ?? 'unknown'}); try again when it has been provisioned.`,
        );
      }
      return { location: found.location, defaultDomain: found.defaultDomain };
    })().catch((err: unknown) => {
      this.environmentInfo = undefined;
      throw err;
    });
    return this.environmentInfo;
  }

  /** The endpoint's app, undefined when there is none; a ConfigError when an app of that name is not the endpoint's. */
  private async readApp(app: string, endpoint: string): Promise<ContainerApp | undefined> {
    const found = await this.arm({ action: 'read', resource: app }, async () => {
      try {
        return await this.client.containerApps.get(this.resourceGroup, app);
      } catch (err) {
        if (isMissingResource(err)) return undefined;
        throw err;
      }
    });
    if (found !== undefined && found.tags?.[ENDPOINT_TAG] !== endpoint) {
      throw new ConfigError(
        `The Container App '${app}' in resource group '${this.resourceGroup}' exists but is not the app of online ` +
          `endpoint '${endpoint}' (its '${ENDPOINT_TAG}' tag is ${JSON.stringify(found.tags?.[ENDPOINT_TAG] ?? null)}). ` +
          'Rename or delete that app, or give the endpoint another name.',
        { target: 'CONTAINER_APPS_RESOURCE_GROUP' },
      );
    }
    return found;
  }

  private async readRevision(app: string, revision: string): Promise<Revision | undefined> {
    return this.arm({ action: 'read a revision of', resource: app }, async () => {
      try {
        return await this.client.containerAppsRevisions.getRevision(this.resourceGroup, app, revision);
      } catch (err) {
        if (isMissingResource(err)) return undefined;
        throw err;
      }
    });
  }

  /** The revisions that ran generations of a deployment (by the deployment variable of their template). */
  private async revisionsOf(app: string, deployment: string): Promise<Revision[]> {
    return this.arm({ action: 'list the revisions of', resource: app }, async () => {
      const found: Revision[] = [];
      for await (const revision of this.client.containerAppsRevisions.listRevisions(this.resourceGroup, app)) {
        const container = revision.template?.containers?.find((c) => c.name === SCORER_CONTAINER_NAME);
        const variable = container?.env?.find((e) => e.name === SCORING_ENV.deployment);
        if (variable?.value === deployment) found.push(revision);
      }
      return found;
    });
  }

  /** Reads a new revision until it runs, fails, or takes longer than `revisionTimeoutMs`. */
  private async waitForRevision(
    app: string,
    revision: string,
  ): Promise<{ ok: true } | { ok: false; reason: string; logs: string }> {
    const started = Date.now();
    for (;;) {
      const found = await this.readRevision(app, revision);
      const state = found?.provisioningState;
      const running = found?.runningState;
      const describe = `provisioning ${state ?? 'unknown'}, running ${running ?? 'unknown'}, health ${found?.healthState ?? 'unknown'}`;
      if (found !== undefined && (state === 'Failed' || running === 'Failed')) {
        return {
          ok: false,
          reason: `revision '${revision}' failed to start${found.provisioningError ? `: ${found.provisioningError}` : ''}`,
          logs: `Container Apps revision ${revision}: ${describe}.\n${found.provisioningError ?? ''}`,
        };
      }
      if (state === 'Provisioned' && found?.healthState !== 'Unhealthy' && running !== 'Degraded') return { ok: true };
      if (Date.now() - started >= this.revisionTimeoutMs) {
        return {
          ok: false,
          reason: `revision '${revision}' did not start within ${Math.round(this.revisionTimeoutMs / 1000)} s (${describe})`,
          logs:
            `Container Apps revision ${revision}: ${describe}.\n` +
            `See its console logs in Log Analytics (ContainerAppConsoleLogs_CL, RevisionName_s == '${revision}').\n`,
        };
      }
      await this.sleep(this.revisionPollMs);
    }
  }

  private async deactivate(app: string, revisions: readonly string[]): Promise<void> {
    for (const revision of revisions) {
      await this.arm({ action: 'deactivate a revision of', resource: app }, async () => {
        try {
          await this.client.containerAppsRevisions.deactivateRevision(this.resourceGroup, app, revision);
        } catch (err) {
          if (!isMissingResource(err)) throw err;
        }
      });
    }
  }

  private async patchTraffic(app: ContainerApp, traffic: LabelledWeight[], key: string): Promise<void> {
    const name = app.name ?? '';
    await this.arm({ action: 'set the traffic of', resource: name }, () =>
      this.client.containerApps.beginUpdateAndWait(
        this.resourceGroup,
        name,
        { location: app.location, configuration: this.configuration(traffic, key) },
        this.lroOptions(),
      ),
    );
  }

  /** The app's whole configuration: sent in full each time, since ARM does not return the secret's value. */
  private configuration(traffic: TrafficWeight[], key: string): Configuration {
    const { registry, identityId } = this.options;
    return {
      activeRevisionsMode: 'Multiple',
      ingress: { external: true, targetPort: SCORING_PORT, transport: 'auto', allowInsecure: false, traffic },
      secrets: [{ name: SCORING_KEY_SECRET, value: key }],
      ...(registry === undefined || identityId === undefined
        ? {}
        : { registries: [{ server: registry, identity: identityId }] }),
    };
  }

  private identity(): Pick<ContainerApp, 'identity'> {
    const id = this.options.identityId;
    return id === undefined ? {} : { identity: { type: 'UserAssigned', userAssignedIdentities: { [id]: {} } } };
  }

  private template(deployment: OnlineDeployment, suffix: string, resources: ReplicaResources): Template {
    const env: EnvironmentVar[] = [
      ...Object.entries(deployment.environment_variables ?? {}).map(([name, value]) => ({ name, value })),
      ...Object.entries(this.options.storeEnv ?? {}).map(([name, value]) => ({ name, value })),
      { name: 'AZUREML_MODEL_DIR', value: MODEL_DIR },
      { name: SCORING_ENV.codeDir, value: CODE_DIR },
      { name: SCORING_ENV.entryScript, value: deployment.code?.scoring_script ?? '' },
      { name: SCORING_ENV.deployment, value: deployment.name },
      { name: SCORING_ENV.endpoint, value: deployment.endpoint_name },
      { name: SCORING_ENV.workspace, value: deployment.workspace },
      { name: SCORING_ENV.generation, value: String(deployment.generation) },
      ...(deployment.model === undefined ? [] : [{ name: SCORING_ENV.modelUri, value: deployment.model.uri }]),
      ...(deployment.code === undefined ? [] : [{ name: SCORING_ENV.codeUri, value: deployment.code.uri }]),
      { name: SCORING_ENV.scoringKey, secretRef: SCORING_KEY_SECRET },
      ...(this.options.identityClientId === undefined
        ? []
        : [{ name: 'AZURE_CLIENT_ID', value: this.options.identityClientId }]),
    ];
    // Tessera's variables win over a deployment variable of the same name.
    const seen = new Set<string>();
    const merged = env
      .reverse()
      .filter((e) => e.name !== undefined && !seen.has(e.name) && seen.add(e.name))
      .reverse();
    return {
      revisionSuffix: suffix,
      containers: [
        {
          name: SCORER_CONTAINER_NAME,
          image: this.options.image,
          env: merged,
          resources: { cpu: resources.cpu, memory: resources.memory },
        },
      ],
      scale: { minReplicas: deployment.instance_count, maxReplicas: deployment.instance_count },
    };
  }

  private lroOptions(): { updateIntervalInMs?: number } {
    return this.options.pollIntervalMs === undefined ? {} : { updateIntervalInMs: this.options.pollIntervalMs };
  }

  /** Runs one ARM call and turns its failures into coded errors. */
  private async arm<T>(context: ArmContext, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.toAppError(err, context);
    }
  }

  private toAppError(err: unknown, context: ArmContext): unknown {
    if (err instanceof ConfigError || err instanceof TransientError || err instanceof ValidationError) return err;
    const status = statusOf(err);
    const code = codeOf(err);
    const armMessage = messageOf(err).replace(/\.?$/, '.');
    const where = `Container App ${context.resource.startsWith('environment') ? '' : `'${context.resource}' `}in resource group '${this.resourceGroup}' of subscription '${this.subscriptionId}'`;
    const subject = context.resource.startsWith('environment') ? `the Container Apps ${context.resource}` : where;
    if (status === undefined && isCredentialError(err)) {
      return new ConfigError(
        `No token for Azure Resource Manager (${this.armEndpoint}) to ${context.action} ${subject}: ${armMessage} ` +
          'On Azure the app’s managed identity signs in; elsewhere sign in with az login.',
        { cause: err },
      );
    }
    if (status === 401) {
      return new ConfigError(
        `Azure Resource Manager (${this.armEndpoint}) refused the app's token (401 ${code ?? ''}) to ${context.action} ` +
          `${subject}: ${armMessage} The identity must belong to the subscription's tenant ` +
          '(CONTAINER_APPS_SUBSCRIPTION_ID), and CONTAINER_APPS_ARM_ENDPOINT must be the cloud it signs in to.',
        { target: 'CONTAINER_APPS_SUBSCRIPTION_ID', cause: err },
      );
    }
    if (status === 403) {
      return new ConfigError(
        `The app's identity may not ${context.action} ${subject} (403 ${code ?? ''}): ${armMessage} Give it the ` +
          `'Container Apps Contributor' role on resource group '${this.resourceGroup}' (CONTAINER_APPS_RESOURCE_GROUP), ` +
          'and Reader on the environment (CONTAINER_APPS_ENVIRONMENT_ID) when it is in another group.',
        { target: 'CONTAINER_APPS_RESOURCE_GROUP', cause: err },
      );
    }
    if (status === 404) {
      const target = missingScopeSetting(code) ?? 'CONTAINER_APPS_ENVIRONMENT_ID';
      return new ConfigError(`${subject} was not found (404 ${code ?? ''}): ${armMessage} Check ${target}.`, {
        target,
        cause: err,
      });
    }
    if (status === 400) {
      return new ValidationError(
        `Container Apps refused to ${context.action} ${subject} (400 ${code ?? ''}): ${armMessage}`,
        {
          target: 'deployment',
          cause: err,
        },
      );
    }
    if (status === undefined || status === 408 || status === 409 || status === 429 || status >= 500) {
      if (status === undefined && !isRestError(err)) return err; // a bug, not the service
      return new TransientError(
        `Azure Resource Manager could not ${context.action} ${subject} (${status ?? code ?? 'no response'}): ${armMessage}`,
        { cause: err },
      );
    }
    return err;
  }
}

/** Builds the host from `config.azure.pythonScoring`, signing in with DefaultAzureCredential unless given a credential. */
export async function createContainerAppsDeployments(
  config: PythonScoringConfig,
  options: Omit<Partial<ContainerAppsDeploymentsOptions>, keyof PythonScoringConfig | 'scoringKey'> &
    Pick<ContainerAppsDeploymentsOptions, 'scoringKey'>,
): Promise<ContainerAppsDeployments> {
  const credential = options.credential ?? (await createDefaultAzureCredential());
  return new ContainerAppsDeployments({
    ...options,
    subscriptionId: config.subscriptionId,
    resourceGroup: config.resourceGroup,
    environmentId: config.environmentId,
    image: config.image,
    armEndpoint: config.armEndpoint,
    ...(config.identityId === undefined ? {} : { identityId: config.identityId }),
    ...(config.identityClientId === undefined ? {} : { identityClientId: config.identityClientId }),
    ...(config.registry === undefined ? {} : { registry: config.registry }),
    credential,
  });
}

type LabelledWeight = TrafficWeight & { label: string; weight: number };

/** The app's labelled traffic entries (Tessera writes no others), ordered by label. */
function labelledTraffic(app: ContainerApp): LabelledWeight[] {
  return (app.configuration?.ingress?.traffic ?? [])
    .flatMap((t) =>
      t.label === undefined || t.revisionName === undefined
        ? []
        : [{ revisionName: t.revisionName, label: t.label, weight: t.weight ?? 0 }],
    )
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/**
 * Weights that sum to 100, in proportion to the given ones (largest remainder, ties to the first
 * label); all 0 (or none given): the first label gets 100. ACA refuses any other sum.
 */
export function balance<T extends { label: string; weight: number }>(entries: readonly T[]): T[] {
  const sorted = [...entries].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const total = sorted.reduce((sum, t) => sum + Math.max(0, t.weight), 0);
  if (sorted.length === 0) return [];
  if (total === 0) return sorted.map((t, i) => ({ ...t, weight: i === 0 ? 100 : 0 }));
  const exact = sorted.map((t) => (Math.max(0, t.weight) * 100) / total);
  const floors = exact.map(Math.floor);
  let left = 100 - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, rest: x - Math.floor(x) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    left--;
  }
  return sorted.map((t, i) => ({ ...t, weight: floors[i] ?? 0 }));
}

/** The resources of a revision for an Azure ML instance_type; a refusal for GPU sizes. */
function revisionResources(instanceType: string): { resources: ReplicaResources; refusal?: string } {
  const mapping = mapComputeSize(instanceType, undefined);
  if (mapping.kind === 'resources') return { resources: mapping.resources };
  if (mapping.notice === undefined && instanceType.trim() !== '') {
    return {
      resources: DEFAULT_RESOURCES,
      refusal:
        `instance_type '${instanceType}' is a GPU size, and Python deployments run on the Consumption profile of ` +
        'Container Apps, which has no GPUs: choose a CPU size such as Standard_DS3_v2.',
    };
  }
  return { resources: DEFAULT_RESOURCES };
}

/**
 * A valid Container Apps name (lower-case letters, digits and single '-', a letter first, a letter
 * or digit last, at most `max`) for `name`: the name itself when it already is one, otherwise a
 * cleaned prefix and 8 hex digits of its SHA-256, so two names never share a result.
 */
export function containerAppsName(name: string, max: number): string {
  if (name.length <= max && /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, max - hash.length - 1)
    .replace(/-+$/, '');
  return `${cleaned === '' ? 'x' : cleaned}-${hash}`;
}

/** The endpoint's app (Container App names: 2-32 characters). */
export function appName(endpoint: string): string {
  return containerAppsName(endpoint, 32);
}

/** A deployment's traffic label: short enough that `<app>---<label>` is one DNS label (63 characters). */
export function labelName(deployment: string): string {
  return containerAppsName(deployment, 28);
}

/** `<label>-<generation>`, or a hash of the label when the revision name would pass 54 characters. */
function revisionSuffix(app: string, label: string, generation: number): string {
  const suffix = `${label}-${generation}`;
  if (app.length + 2 + suffix.length <= 54) return suffix;
  return `${createHash('sha256').update(label).digest('hex').slice(0, 8)}-${generation}`;
}
