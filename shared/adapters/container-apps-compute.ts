import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import type {
  Container,
  ContainerAppsAPIClientOptionalParams,
  ContainerResources,
  EnvironmentVar,
  Job,
  JobExecution,
  JobExecutionBase,
  JobExecutionContainer,
  JobExecutionTemplate,
} from '@azure/arm-appcontainers';
import type { TokenCredential } from '@azure/core-auth';
import type { ContainerAppsConfig } from '../config.js';
import { parseTrainerExecutionHint, TRAINER_ENV, trainerLaunchEnv } from '../contracts/trainer-launch.js';
import type { TrainerExecutionHint } from '../contracts/trainer-launch.js';
import { ConfigError, TransientError, ValidationError } from '../errors.js';
import type { Compute, ComputeTarget, ExecutionStatus, TrainerLaunch } from '../ports/compute.js';
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

export const CONTAINER_APPS_COMPUTE_KIND = 'container-apps';

/** The container of the jobs' templates that runs the trainer, unless a job has only one container. */
export const TRAINER_CONTAINER_NAME = 'trainer';

/** Execution states in which the trainer is, or is about to be, running. */
const ACTIVE_STATES = new Set(['Running', 'Processing']);

/** `<job>/<execution>`: Container Apps job names, and execution names as ARM allows them. */
const EXECUTION_ID = /^([a-z][a-z0-9-]{0,30}[a-z0-9])\/([-\w.()]{1,260})$/;

export interface ContainerAppsComputeOptions {
  subscriptionId: string;
  resourceGroup: string;
  /** The manual-trigger job for CPU trainers (TRAINER_JOB_NAME). */
  trainerJobName: string;
  /** The manual-trigger job on the GPU workload profile (TRAINER_GPU_JOB_NAME). */
  gpuTrainerJobName?: string;
  /** Azure Resource Manager endpoint (default https://management.azure.com). */
  armEndpoint?: string;
  credential: TokenCredential;
  /** The trainer's container in the jobs' templates (default 'trainer'; a job with one container uses that one). */
  trainerContainerName?: string;
  /** Milliseconds between polls of a long-running start or stop when ARM sends no Retry-After (default: the SDK's). */
  pollIntervalMs?: number;
  /** Called with each notice about a launch (for example, a size that has no mapping), besides passing it to the trainer. */
  onNotice?: (notice: string, launch: TrainerLaunch) => void;
  /** HTTP settings of the ARM client: an agent (tests trust a fake's certificate with it) and retry settings. */
  http?: Pick<ContainerAppsAPIClientOptionalParams, 'agent' | 'retryOptions'>;
}

/**
 * Compute on Azure Container Apps jobs. Each trainer is one execution of a pre-provisioned
 * manual-trigger job (the CPU job, or the GPU job when the target asks for a GPU), started with a
 * template override: the job's own containers, with the launch variables added to the trainer
 * container's environment and, when the target's size maps to them, its CPU and memory (see
 * container-apps-resources.ts). The execution id is `<job>/<execution>`, so status and stop work
 * whichever job an execution ran on, even after the job settings change.
 *
 * max_instances is enforced before each start by counting the target's active executions of the
 * job (the launch variables in each execution's template say which workspace and target it
 * belongs to). A target at its limit gets a retryable TransientError: Container Apps has no queue
 * of its own for manual jobs, so the caller waits and tries again. Two starts racing for the last
 * slot can both win.
 */
export class ContainerAppsCompute implements Compute {
  readonly kind = CONTAINER_APPS_COMPUTE_KIND;
  private readonly client: ContainerAppsAPIClient;
  private readonly resourceGroup: string;
  private readonly subscriptionId: string;
  private readonly trainerJobName: string;
  private readonly gpuTrainerJobName: string | undefined;
  private readonly armEndpoint: string;
  private readonly trainerContainerName: string;
  private readonly pollIntervalMs: number | undefined;
  private readonly onNotice: ((notice: string, launch: TrainerLaunch) => void) | undefined;

  constructor(options: ContainerAppsComputeOptions) {
    this.subscriptionId = options.subscriptionId;
    this.resourceGroup = options.resourceGroup;
    this.trainerJobName = options.trainerJobName;
    this.gpuTrainerJobName = options.gpuTrainerJobName;
    this.armEndpoint = (options.armEndpoint ?? 'https://management.azure.com').replace(/\/+$/, '');
    this.trainerContainerName = options.trainerContainerName ?? TRAINER_CONTAINER_NAME;
    this.pollIntervalMs = options.pollIntervalMs;
    this.onNotice = options.onNotice;
    // `endpoint` sets the token scope (<endpoint>/.default), `$host` the request URLs.
    this.client = new ContainerAppsAPIClient(options.credential, options.subscriptionId, {
      endpoint: this.armEndpoint,
      $host: this.armEndpoint,
      ...options.http,
    });
  }

  async submit(launch: TrainerLaunch): Promise<string> {
    const { jobName, key } = this.jobFor(launch.target);
    const job = await this.arm({ action: 'read', jobName, key }, () =>
      this.client.jobs.get(this.resourceGroup, jobName),
    );
    const trainer = this.trainerContainer(job, jobName, key);
    await this.checkMaxInstances(launch, jobName, key);

    const mapping = mapComputeSize(launch.target.size, launch.target.gpu);
    const notices = mapping.notice === undefined ? [] : [mapping.notice];
    const resources = mapping.kind === 'resources' ? mapping.resources : toResources(trainer.container.resources);
    const hint: TrainerExecutionHint = {
      compute: this.kind,
      target: launch.target.name,
      runner: jobName,
      ...(resources === undefined ? {} : { resources }),
      ...(notices.length === 0 ? {} : { notices }),
    };
    const template = executionTemplate(job, trainer.index, trainerLaunchEnv(launch, hint), resources);

    // Whether ARM accepted the start: a failure after that (while polling the operation) may leave
    // an execution running that this call cannot return the id of.
    let accepted = false;
    let started: JobExecutionBase;
    try {
      const poller = await this.client.jobs.beginStart(this.resourceGroup, jobName, {
        template,
        ...(this.pollIntervalMs === undefined ? {} : { updateIntervalInMs: this.pollIntervalMs }),
        onResponse: (raw) => {
          if (raw.request.method === 'POST' && raw.status >= 200 && raw.status < 300) accepted = true;
        },
      });
      started = await poller.pollUntilDone();
    } catch (err) {
      const mapped = this.toAppError(err, { action: 'start', jobName, key });
      if (accepted && mapped instanceof TransientError) {
        throw new TransientError(
          `${mapped.message} ARM had accepted the start, so an execution of '${jobName}' may be running without ` +
            'Tessera knowing its id; it ends when the trainer does, or stop it in the Azure portal.',
          { cause: err },
        );
      }
      throw mapped;
    }
    const executionName = started.name ?? started.id?.split('/').pop();
    if (executionName === undefined || executionName === '') {
      // Not retryable: the execution may well have started, and a retry would start a second one.
      throw new Error(
        `Container Apps started job '${jobName}' but returned no execution name (response: ${JSON.stringify(started)}).`,
      );
    }
    for (const notice of notices) this.onNotice?.(notice, launch);
    return `${jobName}/${executionName}`;
  }

  async status(executionId: string): Promise<ExecutionStatus> {
    const { jobName, executionName } = parseExecutionId(executionId);
    let bodyText: string | undefined;
    let execution: JobExecution;
    try {
      execution = await this.client.jobExecution(this.resourceGroup, jobName, executionName, {
        onResponse: (raw) => {
          bodyText = raw.bodyAsText ?? undefined;
        },
      });
    } catch (err) {
      if (isMissingResource(err)) {
        return {
          state: 'lost',
          detail:
            `Container Apps job execution ${executionId} does not exist (the job or the execution was deleted, ` +
            'or the execution left the execution history).',
        };
      }
      throw this.toAppError(err, { action: 'read execution', jobName });
    }
    return toExecutionStatus(executionId, execution.status, reasonOf(bodyText));
  }

  async stop(executionId: string): Promise<void> {
    const { jobName, executionName } = parseExecutionId(executionId);
    try {
      const poller = await this.client.jobs.beginStopExecution(this.resourceGroup, jobName, executionName, {
        ...(this.pollIntervalMs === undefined ? {} : { updateIntervalInMs: this.pollIntervalMs }),
      });
      await poller.pollUntilDone();
    } catch (err) {
      const status = statusOf(err);
      if (isMissingResource(err)) return; // no such execution (or job): nothing runs
      if (status === 400 || status === 409) {
        // ARM refuses to stop an execution that has ended; the exact error is not documented, so
        // look at the execution instead of matching its message.
        const current = await this.status(executionId);
        if (current.state !== 'running' && current.state !== 'queued') return;
      }
      throw this.toAppError(err, { action: 'stop execution', jobName });
    }
  }

  async close(): Promise<void> {
    // The ARM client holds no connection of its own to close.
  }

  /** The job a target runs on, and the setting that names it. */
  private jobFor(target: ComputeTarget): { jobName: string; key: JobKey } {
    if (target.gpu !== true) return { jobName: this.trainerJobName, key: 'TRAINER_JOB_NAME' };
    if (this.gpuTrainerJobName === undefined) {
      throw new ValidationError(
        `Compute '${target.name}' asks for a GPU${target.size === undefined ? '' : ` (size ${target.size})`}, but this ` +
          'deployment has no GPU trainer job. Set TRAINER_GPU_JOB_NAME to the Container Apps job on the GPU workload ' +
          'profile (infra deploys one when deployGpuTrainerJob is true), or give the compute a CPU size.',
        { target: 'compute' },
      );
    }
    return { jobName: this.gpuTrainerJobName, key: 'TRAINER_GPU_JOB_NAME' };
  }

  private trainerContainer(job: Job, jobName: string, key: JobKey): { index: number; container: Container } {
    const containers = job.template?.containers ?? [];
    let index = containers.findIndex((c) => c.name === this.trainerContainerName);
    if (index < 0 && containers.length === 1) index = 0;
    const container = containers[index];
    if (container === undefined) {
      throw new ConfigError(
        `Container Apps job '${jobName}' (${key}) has ${containers.length} containers and none is named ` +
          `'${this.trainerContainerName}': name the trainer's container '${this.trainerContainerName}' in the job's template.`,
        { target: key },
      );
    }
    return { index, container };
  }

  /**
   * Refuses a start when the target already has max_instances active executions on this job.
   * Executions are attributed by the launch variables in their template; one without them (not
   * started by Tessera, or an API that does not return the template's environment) is not counted.
   */
  private async checkMaxInstances(launch: TrainerLaunch, jobName: string, key: JobKey): Promise<void> {
    const max = launch.target.maxInstances;
    if (!Number.isFinite(max) || max < 1) return;
    const active = await this.arm({ action: 'list executions', jobName, key }, async () => {
      let count = 0;
      for await (const execution of this.client.jobsExecutions.list(this.resourceGroup, jobName)) {
        if (!ACTIVE_STATES.has(execution.status ?? '')) continue;
        const env = trainerEnvOf(execution.template);
        const hint = parseTrainerExecutionHint(env.get(TRAINER_ENV.executionHint));
        if (
          hint?.compute === this.kind &&
          hint.target === launch.target.name &&
          env.get(TRAINER_ENV.workspace) === launch.workspace
        ) {
          count++;
        }
      }
      return count;
    });
    if (active >= max) {
      throw new TransientError(
        `Compute '${launch.target.name}' of workspace '${launch.workspace}' already runs ${active} trainer` +
          `${active === 1 ? '' : 's'} on Container Apps job '${jobName}', its max_instances (${max}). Container Apps ` +
          'does not queue manual job executions: start this one again when one of them ends.',
        { target: 'maxInstances' },
      );
    }
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
    // ARM's message as a sentence (it usually ends with a period, sometimes not).
    const armMessage = messageOf(err).replace(/\.?$/, '.');
    const where = `job '${context.jobName}' in resource group '${this.resourceGroup}' of subscription '${this.subscriptionId}'`;
    const jobKey: JobKey =
      context.key ?? (context.jobName === this.gpuTrainerJobName ? 'TRAINER_GPU_JOB_NAME' : 'TRAINER_JOB_NAME');
    if (status === undefined && isCredentialError(err)) {
      return new ConfigError(
        `No token for Azure Resource Manager (${this.armEndpoint}) to ${context.action} Container Apps ${where}: ` +
          `${armMessage} On Azure the app's managed identity signs in; elsewhere sign in with az login.`,
        { cause: err },
      );
    }
    if (status === 401) {
      return new ConfigError(
        `Azure Resource Manager (${this.armEndpoint}) refused the app's token (401 ${code ?? ''}) to ${context.action} ` +
          `Container Apps ${where}: ${armMessage} The identity must belong to the subscription's tenant ` +
          '(CONTAINER_APPS_SUBSCRIPTION_ID), and CONTAINER_APPS_ARM_ENDPOINT must be the cloud it signs in to.',
        { target: 'CONTAINER_APPS_SUBSCRIPTION_ID', cause: err },
      );
    }
    if (status === 403) {
      return new ConfigError(
        `The app's identity may not ${context.action} Container Apps ${where} (403 ${code ?? ''}): ${armMessage} ` +
          `Give it the 'Container Apps Jobs Operator' role on the job (${jobKey}).`,
        { target: jobKey, cause: err },
      );
    }
    if (status === 404) {
      const target = missingScopeSetting(code) ?? jobKey;
      return new ConfigError(
        `Container Apps ${where} was not found (404 ${code ?? ''}): ${armMessage} Check ${target}.`,
        { target, cause: err },
      );
    }
    if (status === 400) {
      return new ValidationError(
        `Container Apps refused to ${context.action} ${where} (400 ${code ?? ''}): ${armMessage}`,
        { target: 'compute', cause: err },
      );
    }
    if (status === undefined || status === 408 || status === 409 || status === 429 || status >= 500) {
      if (status === undefined && !isRestError(err)) return err; // a bug, not the service
      return new TransientError(
        `Azure Resource Manager could not ${context.action} Container Apps ${where} ` +
          `(${status ?? code ?? 'no response'}): ${armMessage}`,
        { cause: err },
      );
    }
    return err;
  }
}

type JobKey = 'TRAINER_JOB_NAME' | 'TRAINER_GPU_JOB_NAME';

interface ArmContext {
  action: string;
  jobName: string;
  /** The setting that names the job, when the call is about a configured job. */
  key?: JobKey;
}

/** Builds the compute from `config.azure.containerApps`, signing in with DefaultAzureCredential unless given a credential. */
export async function createContainerAppsCompute(
  config: ContainerAppsConfig,
  options: Omit<Partial<ContainerAppsComputeOptions>, keyof ContainerAppsConfig> = {},
): Promise<ContainerAppsCompute> {
  const credential = options.credential ?? (await createDefaultAzureCredential());
  return new ContainerAppsCompute({
    ...options,
    subscriptionId: config.subscriptionId,
    resourceGroup: config.resourceGroup,
    trainerJobName: config.trainerJobName,
    ...(config.gpuTrainerJobName === undefined ? {} : { gpuTrainerJobName: config.gpuTrainerJobName }),
    armEndpoint: config.armEndpoint,
    credential,
  });
}

/**
 * The compute to use with TESSERA_STORE=azure when the Container Apps settings are absent: nothing
 * can have been started, so status is 'lost' and stop does nothing, but submit is a ConfigError
 * naming the settings.
 */
export function createMissingContainerAppsCompute(): Compute {
  return {
    kind: `${CONTAINER_APPS_COMPUTE_KIND} (not configured)`,
    submit: async (launch) => {
      throw new ConfigError(
        `Job '${launch.job}' cannot start: the Container Apps compute is not configured. Set ` +
          'CONTAINER_APPS_SUBSCRIPTION_ID, CONTAINER_APPS_RESOURCE_GROUP and TRAINER_JOB_NAME (and TRAINER_GPU_JOB_NAME ' +
          'for GPU computes) to the trainer jobs that infra/main.bicep deploys.',
        { target: 'TRAINER_JOB_NAME' },
      );
    },
    status: async (executionId) => ({
      state: 'lost',
      detail: `Execution ${executionId} is unknown: the Container Apps compute is not configured.`,
    }),
    stop: async () => undefined,
    close: async () => undefined,
  };
}

/** Splits `<job>/<execution>`. */
export function parseExecutionId(executionId: string): { jobName: string; executionName: string } {
  const match = typeof executionId === 'string' ? EXECUTION_ID.exec(executionId) : null;
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new ValidationError(
      `${JSON.stringify(executionId)} is not an execution id of the Container Apps compute: expected ` +
        "'<job>/<execution>', e.g. 'tessera-trainer/tessera-trainer-x1y2z3'.",
      { target: 'executionId' },
    );
  }
  return { jobName: match[1], executionName: match[2] };
}

/** The port's state for a Container Apps execution status. */
export function toExecutionStatus(
  executionId: string,
  status: string | undefined,
  reason?: { reason?: string; message?: string },
): ExecutionStatus {
  if (status !== undefined && ACTIVE_STATES.has(status)) return { state: 'running' };
  if (status === 'Succeeded') return { state: 'ended' };
  const why = [reason?.reason, reason?.message].filter((s) => s !== undefined && s !== '').join(': ');
  const what =
    status === 'Stopped'
      ? 'was stopped'
      : status === undefined || status === ''
        ? 'has no status'
        : status === 'Failed' || status === 'Degraded'
          ? `is ${status}`
          : `is in state '${status}', which Tessera does not know`;
  return {
    state: 'lost',
    detail: `Container Apps job execution ${executionId} ${what}${why === '' ? '' : ` (${why})`}.`,
  };
}

/** The start template: the job's own containers, with the launch variables and resources on the trainer's. */
function executionTemplate(
  job: Job,
  trainerIndex: number,
  launchEnv: Record<string, string>,
  resources: ReplicaResources | undefined,
): JobExecutionTemplate {
  const containers = (job.template?.containers ?? []).map((container, i) => {
    const base = toExecutionContainer(container);
    if (i !== trainerIndex) return base;
    return {
      ...base,
      env: mergeEnv(container.env, launchEnv),
      ...(resources === undefined ? {} : { resources: { cpu: resources.cpu, memory: resources.memory } }),
    };
  });
  const initContainers = (job.template?.initContainers ?? []).map(toExecutionContainer);
  return { containers, ...(initContainers.length === 0 ? {} : { initContainers }) };
}

/** The fields a start template may carry (no probes or volume mounts). */
function toExecutionContainer(container: Container): JobExecutionContainer {
  const resources = toResources(container.resources);
  return {
    ...(container.name === undefined ? {} : { name: container.name }),
    ...(container.image === undefined ? {} : { image: container.image }),
    ...(container.command === undefined ? {} : { command: container.command }),
    ...(container.args === undefined ? {} : { args: container.args }),
    ...(container.env === undefined ? {} : { env: container.env.map((e) => ({ ...e })) }),
    ...(resources === undefined ? {} : { resources: { cpu: resources.cpu, memory: resources.memory } }),
  };
}

function toResources(resources: ContainerResources | undefined): ReplicaResources | undefined {
  return resources?.cpu === undefined || resources.memory === undefined
    ? undefined
    : { cpu: resources.cpu, memory: resources.memory };
}

/** The job's variables, then the launch's (which replace any of the same name). */
function mergeEnv(jobEnv: EnvironmentVar[] | undefined, launchEnv: Record<string, string>): EnvironmentVar[] {
  return [
    ...(jobEnv ?? []).filter((e) => e.name === undefined || !(e.name in launchEnv)).map((e) => ({ ...e })),
    ...Object.entries(launchEnv).map(([name, value]) => ({ name, value })),
  ];
}

/** The plain-value variables of an execution's containers, by name. */
function trainerEnvOf(template: JobExecutionTemplate | undefined): Map<string, string> {
  const env = new Map<string, string>();
  for (const container of template?.containers ?? []) {
    for (const e of container.env ?? []) if (e.name !== undefined && e.value !== undefined) env.set(e.name, e.value);
  }
  return env;
}

/** `properties.reason` and `properties.message` of an execution: the API returns them, the SDK's model drops them. */
function reasonOf(bodyText: string | undefined): { reason?: string; message?: string } | undefined {
  if (bodyText === undefined) return undefined;
  try {
    const body = JSON.parse(bodyText) as { properties?: { reason?: unknown; message?: unknown } } | null;
    const reason = body?.properties?.reason;
    const message = body?.properties?.message;
    return {
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof message === 'string' ? { message } : {}),
    };
  } catch {
    return undefined;
  }
}
