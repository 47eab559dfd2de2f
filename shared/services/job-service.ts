import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Asset } from '../contracts/assets.js';
import { parseSpec } from '../contracts/azureml/index.js';
import type { CommandJobSpec } from '../contracts/azureml/job-command.js';
import { QUEUE_SETTINGS_NOTICE } from '../contracts/azureml/common.js';
import type { JobInput, JobOutput } from '../contracts/azureml/common.js';
import {
  JOBS_CONTAINER,
  JOB_EVENTS_QUEUE,
  MAX_JOB_ATTEMPTS,
  PROGRESS_STATUSES,
  isTerminal,
  jobListQuerySchema,
  jobNameSchema,
} from '../contracts/job.js';
import type {
  Job,
  JobError,
  JobExecution,
  JobFinalizeInput,
  JobFinishedMessage,
  JobList,
  JobOutputView,
  JobProgressMessage,
  JobStartResult,
  JobStatus,
  ResolvedInput,
  ResolvedOutput,
} from '../contracts/job.js';
import { parseAssetReference, parseAzureMlUri } from '../domain/azureml/references.js';
import { formatDatastoreUri, parseDataUri } from '../domain/data-uri.js';
import { commandProblems } from '../domain/job-command.js';
import { runArtifactsUri } from '../domain/mlflow-artifacts.js';
import { generateJobName } from '../domain/job-command.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Compute, ComputeTarget } from '../ports/compute.js';
import type { DatastoreResolver } from '../ports/datastore-resolver.js';
import type { MessageQueue } from '../ports/message-queue.js';
import type { DocumentContainer, MetadataStore, StoredDocument, WithMeta } from '../ports/metadata-store.js';
import type { SecretStore } from '../ports/secret-store.js';
import type { AssetService } from './asset-service.js';
import { changeDocument } from './change-document.js';
import type { TokenService } from './token-service.js';
import type { TrackingService } from './tracking-service.js';
import type { WorkspaceService } from './workspace-service.js';

/**
 * Command jobs: validation and resolution of the spec (everything the trainer needs is decided
 * here, once, and stored with the job), the status machine the orchestration and the trainer's
 * reports drive, cancel, logs, and the registration of outputs when a job completes.
 */

export interface JobServiceDeps {
  store: MetadataStore;
  clock: Clock;
  workspaces: WorkspaceService;
  assets: AssetService;
  tracking: TrackingService;
  tokens: TokenService;
  secrets: SecretStore;
  datastores: DatastoreResolver;
  queue: MessageQueue;
  /** The compute adapter, created on first use (the host may never run a job). */
  compute: () => Promise<Compute>;
  /** Base URL of the API (the MLflow tracking URI starts with it). */
  publicUrl: string;
  /** How many jobs the implicit `local` compute runs at once. */
  localMaxInstances: number;
  /** True where computes run the environment's image (Azure); false on the embedded host. */
  runsImages: boolean;
}

export const JOB_DOCUMENT_VERSION = 1;
/** Where a job's own files go (outputs without a path): Azure ML's default output location. */
export const DEFAULT_OUTPUT_DATASTORE = 'workspaceblobstore';
export const STD_LOG = 'user_logs/std_log.txt';
/** How much of a log one read returns. */
export const LOG_PAGE_BYTES = 1024 * 1024;
/** Lines of the log quoted in a failed job's error. */
const LOG_TAIL_LINES = 15;
/** Queued jobs older than this with no orchestration are started by the watchdog. */
const ORPHAN_AFTER_MS = 60_000;

const jobDocumentSchema = z.looseObject({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('job'),
  schemaVersion: z.literal(JOB_DOCUMENT_VERSION),
  name: z.string(),
  status: z.string(),
});

export interface JobDocument extends StoredDocument, Omit<Job, 'name' | 'workspace'> {
  kind: 'job';
  schemaVersion: typeof JOB_DOCUMENT_VERSION;
  name: string;
  workspace: string;
  execution: JobExecution;
  target: ComputeTarget;
  executionId?: string;
  /** Id of the API token the current attempt's trainer logs metrics with. */
  tokenId?: string;
  cancelRequested?: boolean;
  /** When the orchestration took the job (the watchdog starts the ones it never took). */
  orchestratedAt?: number;
  createdBy?: string;
}

export interface CreateJobContext {
  createdBy?: string;
  /** The sweep (or AutoML) job this job is a trial of. */
  parent?: string;
}

export interface JobLog {
  /** Bytes of user_logs/std_log.txt from the requested offset (at most LOG_PAGE_BYTES). */
  data: Buffer;
  nextOffset: number;
  status: JobStatus;
}

/** What the trainer needs for one attempt. */
export interface TrainerAssignment {
  job: Job;
  execution: JobExecution;
  /** The API token for MLFLOW_TRACKING_TOKEN; undefined when auth is off. */
  token: string | undefined;
}

/** What the watchdog found: executions whose trainer is gone without a word, and jobs no orchestration took. */
export interface WatchReport {
  lost: JobFinishedMessage[];
  orphans: { workspace: string; name: string; type: string }[];
}

export type JobService = ReturnType<typeof createJobService>;

export function jobInstanceId(workspace: string, name: string): string {
  return `job:${workspace}:${name}`;
}

export function jobTokenSecretName(workspace: string, name: string): string {
  return `job-token-${createHash('sha256').update(`${workspace}/${name}`).digest('hex').slice(0, 40)}`;
}

function toJob(doc: JobDocument): Job {
  return {
    name: doc.name,
    workspace: doc.workspace,
    type: doc.type,
    ...(doc.display_name === undefined ? {} : { display_name: doc.display_name }),
    ...(doc.description === undefined ? {} : { description: doc.description }),
    experiment_name: doc.experiment_name,
    tags: doc.tags,
    status: doc.status,
    compute: doc.compute,
    spec: doc.spec,
    statusHistory: doc.statusHistory,
    createdAt: doc.createdAt,
    ...(doc.startedAt === undefined ? {} : { startedAt: doc.startedAt }),
    ...(doc.endedAt === undefined ? {} : { endedAt: doc.endedAt }),
    ...(doc.error === undefined ? {} : { error: doc.error }),
    notices: doc.notices,
    outputs: doc.outputs,
    artifacts_uri: doc.artifacts_uri,
    mlflow: doc.mlflow,
    attempt: doc.attempt,
    archived: doc.archived,
    ...(doc.exitCode === undefined ? {} : { exitCode: doc.exitCode }),
    ...(doc.parent === undefined ? {} : { parent: doc.parent }),
    ...(doc.trials === undefined ? {} : { trials: doc.trials }),
    ...(doc.automl === undefined ? {} : { automl: doc.automl }),
  };
}

const GPU_SIZE = /^(standard_)?n[cdv]/i;

function stringValue(v: string | number | boolean): string {
  return typeof v === 'string' ? v : String(v);
}

function isLocalPath(uri: string): boolean {
  return uri.startsWith('file:') || uri.startsWith('/') || uri.startsWith('./') || uri.startsWith('../');
}

export function createJobService(deps: JobServiceDeps) {
  const { store, clock } = deps;
  let containerPromise: Promise<DocumentContainer> | undefined;
  const container = (): Promise<DocumentContainer> => {
    containerPromise ??= store.container(JOBS_CONTAINER).catch((err: unknown) => {
      containerPromise = undefined;
      throw err;
    });
    return containerPromise;
  };

  const read = async (ws: string, name: string): Promise<WithMeta<JobDocument>> => {
    const doc = await (await container()).read<JobDocument>(ws, name);
    if (doc === undefined) {
      throw new NotFoundError(`Job '${name}' does not exist in workspace '${ws}'.`, { target: 'name' });
    }
    jobDocumentSchema.parse(doc);
    return doc;
  };

  /** Read-change-write under the document's etag; `change` returns undefined to leave it as it is. */
  const update = (ws: string, name: string, change: (doc: JobDocument) => JobDocument | undefined) =>
    changeDocument(container, () => read(ws, name), change);

  const withStatus = (doc: JobDocument, status: JobStatus, now: number): JobDocument => {
    if (doc.status === status) return doc;
    doc.status = status;
    doc.statusHistory = [...doc.statusHistory, { status, at: now }];
    if (status === 'Running' && doc.startedAt === undefined) doc.startedAt = now;
    if (isTerminal(status)) doc.endedAt = now;
    return doc;
  };

  // ---------------------------------------------------------------------------------------------
  // Resolution of a submitted spec.
  // ---------------------------------------------------------------------------------------------

  const resolveCompute = async (
    ws: string,
    compute: string | undefined,
  ): Promise<{ target: ComputeTarget; notices: string[] }> => {
    const raw = compute?.trim();
    const name = raw === undefined || raw === '' ? 'local' : raw.replace(/^azureml:/, '');
    if (name === 'local') {
      return { target: { name: 'local', type: 'local', maxInstances: deps.localMaxInstances }, notices: [] };
    }
    let asset: Asset;
    try {
      asset = await deps.assets.getResource(ws, 'compute', name);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new ValidationError(
          `The compute '${name}' does not exist in workspace '${ws}': create it (tessera compute create --file compute.yml) or use 'compute: local'.`,
          { target: 'compute' },
        );
      }
      throw err;
    }
    const spec = asset.spec;
    const type = typeof spec.type === 'string' ? spec.type.toLowerCase() : 'amlcompute';
    const supported = ['local', 'amlcompute', 'computeinstance'];
    if (!supported.includes(type)) {
      throw new ValidationError(
        `The compute '${name}' is a ${type} compute; command jobs run on local, amlcompute and computeinstance computes.`,
        { target: 'compute' },
      );
    }
    const count = (v: unknown): number | undefined =>
      typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
    const maxInstances =
      (type === 'local' ? (count(spec.max_concurrent_jobs) ?? count(spec.max_instances)) : count(spec.max_instances)) ??
      (type === 'amlcompute' ? 4 : 1);
    const size = typeof spec.size === 'string' ? spec.size : undefined;
    const target: ComputeTarget = {
      name,
      type,
      maxInstances,
      ...(size === undefined ? {} : { size, gpu: GPU_SIZE.test(size) }),
    };
    const notices: string[] = [];
    if (!deps.runsImages && type !== 'local') {
      notices.push(
        `The ${type} compute '${name}' runs on this host: at most ${maxInstances} of its jobs at a time (max_instances), as child processes${size === undefined ? '' : `; its size ${size} is recorded, not provisioned`}.`,
      );
    }
    return { target, notices };
  };

  const resolveEnvironment = async (ws: string, environment: unknown): Promise<string[]> => {
    const notices: string[] = [];
    let image: string | undefined;
    if (typeof environment === 'string') {
      const ref = parseAssetReference(environment, { target: 'environment' });
      if (ref.registry !== undefined) {
        notices.push(`The registry environment ${environment} is not resolved here.`);
      } else {
        try {
          const env =
            ref.version !== undefined
              ? await deps.assets.getVersion(ws, 'environment', ref.name, ref.version)
              : await deps.assets.resolveLabel(ws, 'environment', ref.name, ref.label ?? 'latest');
          image = typeof env.spec.image === 'string' ? env.spec.image : undefined;
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
          if (!/^AzureML-/i.test(ref.name)) {
            throw new ValidationError(
              `The environment ${environment} does not exist in workspace '${ws}': register it (tessera environment create --file env.yml), or write the environment inline (image:, conda_file:).`,
              { target: 'environment' },
            );
          }
          notices.push(
            `The curated environment ${environment} is an Azure ML environment that is not registered here.`,
          );
        }
      }
    } else if (environment !== null && typeof environment === 'object') {
      const img = (environment as Record<string, unknown>).image;
      image = typeof img === 'string' ? img : undefined;
    }
    if (!deps.runsImages) {
      notices.push(
        `The environment${image === undefined ? '' : ` image ${image}`} was not pulled: local compute runs the command in this host's environment (Node ${process.version}, ${process.platform}).`,
      );
    }
    return notices;
  };

  const resolveDataPath = async (
    ws: string,
    path: string,
    type: string,
    keyPath: string,
  ): Promise<{ uri: string; asset?: string; type: string }> => {
    if (path.startsWith('azureml:') && !path.startsWith('azureml://')) {
      const ref = parseAssetReference(path, { target: keyPath });
      if (ref.registry !== undefined) {
        throw new ValidationError(`${keyPath}: registry assets (${path}) are not supported yet.`, { target: keyPath });
      }
      const kind = type.endsWith('_model') ? 'model' : 'data';
      let asset: Asset;
      try {
        asset =
          ref.version !== undefined
            ? await deps.assets.getVersion(ws, kind, ref.name, ref.version)
            : await deps.assets.resolveLabel(ws, kind, ref.name, ref.label ?? 'latest');
      } catch (err) {
        if (err instanceof NotFoundError) {
          throw new ValidationError(`${keyPath}: ${err.message}`, { target: keyPath, cause: err });
        }
        throw err;
      }
      const assetPath = typeof asset.spec.path === 'string' ? asset.spec.path : undefined;
      if (assetPath === undefined) {
        throw new ValidationError(`${keyPath}: the ${kind} ${path} has no path to read.`, { target: keyPath });
      }
      const assetType = typeof asset.spec.type === 'string' ? asset.spec.type : type;
      return { uri: assetPath, asset: `azureml:${asset.name}:${asset.version ?? ''}`, type: assetType };
    }
    if (path.startsWith('azureml://jobs/')) {
      const parsed = parseAzureMlUri(path, { target: keyPath });
      if (parsed.kind !== 'job-output') throw new ValidationError(`${keyPath}: cannot read ${path}.`);
      const uri = await outputUri(ws, parsed.job, parsed.output);
      return { uri: parsed.path === '' ? uri : `${uri.replace(/\/?$/, '/')}${parsed.path}`, type };
    }
    if (isLocalPath(path)) {
      throw new ValidationError(
        `${keyPath}: ${path} is a local path; upload it first (tessera job create uploads the local paths of a YAML file).`,
        { target: keyPath },
      );
    }
    parseDataUri(path); // throws a ValidationError naming the accepted forms
    return { uri: path, type };
  };

  const resolveInputs = async (
    ws: string,
    inputs: Record<string, JobInput>,
  ): Promise<Record<string, ResolvedInput>> => {
    const out: Record<string, ResolvedInput> = {};
    for (const [name, input] of Object.entries(inputs)) {
      const keyPath = `inputs.${name}`;
      if (typeof input !== 'object') {
        out[name] = { kind: 'literal', value: stringValue(input) };
        continue;
      }
      if (!('path' in input) && ('value' in input || 'default' in input || !('type' in input))) {
        const literal = input as { value?: string | number | boolean; default?: string | number | boolean };
        const value = literal.value ?? literal.default;
        if (value !== undefined) out[name] = { kind: 'literal', value: stringValue(value) };
        continue;
      }
      const asset = input as { type: string; path?: string; mode?: string; optional?: boolean };
      if (asset.path === undefined) {
        if (asset.optional === true) continue;
        throw new ValidationError(`${keyPath}: the input has no path; give one or mark it optional: true.`, {
          target: keyPath,
        });
      }
      if (asset.path.includes('${{')) {
        throw new ValidationError(
          `${keyPath}: a command job cannot bind ${asset.path} (bindings belong to pipelines).`,
          {
            target: keyPath,
          },
        );
      }
      const resolved = await resolveDataPath(ws, asset.path, asset.type, keyPath);
      out[name] = {
        kind: 'data',
        type: resolved.type,
        mode: asset.mode === 'direct' ? 'direct' : 'download',
        uri: resolved.uri,
        ...(resolved.asset === undefined ? {} : { asset: resolved.asset }),
      };
    }
    return out;
  };

  const resolveOutputs = (name: string, outputs: Record<string, JobOutput>): Record<string, ResolvedOutput> => {
    const out: Record<string, ResolvedOutput> = {};
    for (const [key, output] of Object.entries(outputs)) {
      const keyPath = `outputs.${key}`;
      const type = output.type ?? 'uri_folder';
      if (type === 'triton_model') {
        throw new ValidationError(`${keyPath}: triton_model outputs are not supported yet.`, { target: keyPath });
      }
      let uri: string;
      if (output.path !== undefined) {
        const parsed = parseDataUri(output.path);
        if (parsed.scheme !== 'azureml-datastore') {
          throw new ValidationError(
            `${keyPath}: outputs are written to a datastore; write path: azureml://datastores/<datastore>/paths/<path> (got ${output.path}).`,
            { target: keyPath },
          );
        }
        uri = type === 'uri_file' ? output.path.replace(/\/+$/, '') : output.path.replace(/\/?$/, '/');
      } else {
        const base = `azureml/${name}/${key}/`;
        uri = formatDatastoreUri(
          output.datastore ?? DEFAULT_OUTPUT_DATASTORE,
          type === 'uri_file' ? `${base}${key}` : base,
        );
      }
      if (output.version !== undefined && output.name === undefined) {
        throw new ValidationError(`${keyPath}: a version needs a name (the asset to register the output as).`, {
          target: keyPath,
        });
      }
      out[key] = {
        type,
        uri,
        ...(output.name === undefined ? {} : { name: output.name }),
        ...(output.version === undefined ? {} : { version: String(output.version) }),
        ...(output.description === undefined ? {} : { description: output.description }),
      };
    }
    return out;
  };

  const outputUri = async (ws: string, job: string, output: string): Promise<string> => {
    let doc: JobDocument;
    try {
      doc = await read(ws, job);
    } catch (err) {
      if (err instanceof NotFoundError) throw new ValidationError(err.message, { target: 'path', cause: err });
      throw err;
    }
    const found = doc.execution.outputs[output];
    if (found === undefined) {
      const names = Object.keys(doc.execution.outputs);
      throw new ValidationError(
        `Job '${job}' has no output '${output}'${names.length === 0 ? '' : ` (its outputs: ${names.join(', ')})`}.`,
        { target: 'path' },
      );
    }
    if (doc.status !== 'Completed') {
      throw new ValidationError(`Job '${job}' is ${doc.status}: its outputs can be used once it has Completed.`, {
        target: 'path',
      });
    }
    return found.uri;
  };

  const parseCommandSpec = (body: unknown): CommandJobSpec => {
    const spec = parseSpec('job', body) as { type: string };
    if (spec.type !== 'command') {
      throw new ValidationError(
        `${spec.type} jobs are not supported by Tessera yet; command jobs are (type: command).`,
        { target: 'type' },
      );
    }
    return spec as CommandJobSpec;
  };

  /** Everything a command spec names, resolved and checked; nothing is stored. */
  const resolveCommandSpec = async (ws: string, spec: CommandJobSpec, name: string) => {
    const inputs = await resolveInputs(ws, spec.inputs ?? {});
    const outputs = resolveOutputs(name, spec.outputs ?? {});
    const problems = commandProblems(spec.command, new Set(Object.keys(inputs)), new Set(Object.keys(outputs)));
    if (problems.length > 0) {
      throw new ValidationError(`command: ${problems.join('; ')}.`, {
        target: 'command',
        details: problems.map((message) => ({ target: 'command', message })),
      });
    }
    let code: string | undefined;
    if (spec.code !== undefined) {
      if (isLocalPath(spec.code)) {
        throw new ValidationError(
          `code: ${spec.code} is a local path; upload it first (tessera job create uploads the code folder).`,
          { target: 'code' },
        );
      }
      const parsedCode = parseDataUri(spec.code);
      if (parsedCode.scheme !== 'azureml-datastore') {
        throw new ValidationError(
          `code: give the uploaded folder as azureml://datastores/<datastore>/paths/<path> (got ${spec.code}).`,
          { target: 'code' },
        );
      }
      code = spec.code;
    }
    const { target, notices: computeNotices } = await resolveCompute(ws, spec.compute);
    const envNotices = await resolveEnvironment(ws, spec.environment);
    const distribution = spec.distribution as { type?: string; process_count_per_instance?: number } | undefined;
    const instanceCount = spec.resources?.instance_count ?? 1;
    const perInstance = distribution?.process_count_per_instance ?? 1;
    const processCount = instanceCount * perInstance;
    const notices = [...computeNotices, ...envNotices];
    if (spec.queue_settings !== undefined) notices.push(QUEUE_SETTINGS_NOTICE);
    if (processCount > 1 && !deps.runsImages) {
      notices.push(
        `resources.instance_count ${instanceCount} × process_count_per_instance ${perInstance}: ${processCount} processes run on this host, with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set.`,
      );
    }
    const maxProcesses = 16;
    if (processCount > maxProcesses) {
      throw new ValidationError(
        `resources.instance_count × process_count_per_instance is ${processCount}; at most ${maxProcesses} processes run per job.`,
        { target: 'resources.instance_count' },
      );
    }
    return { inputs, outputs, code, target, notices, processCount, distribution };
  };

  // ---------------------------------------------------------------------------------------------

  return {
    async create(ws: string, body: unknown, context: CreateJobContext = {}): Promise<Job> {
      await deps.workspaces.get(ws);
      const spec = parseCommandSpec(body);
      const name = spec.name ?? generateJobName();
      const checkedName = jobNameSchema.safeParse(name);
      if (!checkedName.success) {
        throw new ValidationError(`name: ${checkedName.error.issues[0]?.message ?? 'invalid job name'}`, {
          target: 'name',
        });
      }
      if ((await (await container()).read(ws, name)) !== undefined) {
        throw new ConflictError(`A job named '${name}' already exists in workspace '${ws}'; job names are unique.`, {
          target: 'name',
        });
      }
      const { inputs, outputs, code, target, notices, processCount, distribution } = await resolveCommandSpec(
        ws,
        spec,
        name,
      );
      const now = clock.now();
      const experimentName = spec.experiment_name ?? 'Default';
      const tags = Object.fromEntries(Object.entries(spec.tags ?? {}).map(([k, v]) => [k, String(v)]));
      const { experimentId } = await deps.tracking.startJobRun(ws, {
        runId: name,
        experimentName,
        runName: spec.display_name ?? name,
        tags: [
          ...Object.entries(tags).map(([key, value]) => ({ key, value })),
          { key: 'mlflow.source.type', value: 'JOB' },
          { key: 'mlflow.source.name', value: name },
          { key: 'azureml.compute', value: target.name },
          ...(context.parent === undefined ? [] : [{ key: 'mlflow.parentRunId', value: context.parent }]),
        ],
        startTime: now,
      });
      const artifactsUri = runArtifactsUri(experimentId, name);
      const trackingUri = `${deps.publicUrl}/api/workspaces/${ws}/mlflow`;
      const environmentVariables = Object.fromEntries(
        Object.entries(spec.environment_variables ?? {}).map(([k, v]) => [k, String(v)]),
      );
      const execution: JobExecution = {
        attempt: 1,
        command: spec.command,
        ...(code === undefined ? {} : { code }),
        inputs,
        outputs,
        environmentVariables,
        artifactsUri,
        mlflow: { trackingUri, runId: name, experimentId, experimentName },
        ...(spec.limits?.timeout === undefined ? {} : { timeoutSeconds: spec.limits.timeout }),
        processCount,
        ...(distribution?.type === undefined ? {} : { distribution: distribution.type }),
      };
      const doc: JobDocument = {
        id: name,
        pk: ws,
        kind: 'job',
        schemaVersion: JOB_DOCUMENT_VERSION,
        name,
        workspace: ws,
        type: 'command',
        ...(spec.display_name === undefined ? {} : { display_name: spec.display_name }),
        ...(spec.description === undefined ? {} : { description: spec.description }),
        experiment_name: experimentName,
        tags,
        status: 'Queued',
        compute: target.name,
        spec: { ...spec, name } as Record<string, unknown>,
        statusHistory: [{ status: 'Queued', at: now }],
        createdAt: now,
        notices,
        outputs: Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, { type: o.type, uri: o.uri }])),
        artifacts_uri: artifactsUri,
        mlflow: { run_id: name, experiment_id: experimentId, tracking_uri: trackingUri },
        attempt: 1,
        archived: false,
        execution,
        target,
        ...(context.createdBy === undefined ? {} : { createdBy: context.createdBy }),
        ...(context.parent === undefined ? {} : { parent: context.parent }),
      };
      try {
        return toJob(await (await container()).create(doc));
      } catch (err) {
        if (err instanceof ConflictError) {
          throw new ConflictError(`A job named '${name}' already exists in workspace '${ws}'; job names are unique.`, {
            target: 'name',
          });
        }
        throw err;
      }
    },

    /** Checks a command spec as `create` would (references, bindings, compute), storing nothing. */
    async validate(ws: string, body: unknown): Promise<void> {
      await deps.workspaces.get(ws);
      const spec = parseCommandSpec(body);
      await resolveCommandSpec(ws, spec, spec.name ?? 'validation');
    },

    async get(ws: string, name: string): Promise<Job> {
      return toJob(await read(ws, name));
    },

    async list(ws: string, queryIn: unknown): Promise<JobList> {
      await deps.workspaces.get(ws);
      const parsed = jobListQuerySchema.safeParse(queryIn);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ValidationError(`${issue?.path.join('.') ?? 'query'}: ${issue?.message ?? 'invalid'}`, {
          target: issue?.path.join('.') ?? 'query',
        });
      }
      const q = parsed.data;
      const archived = q.archived ?? 'false';
      const page = await (
        await container()
      ).query<JobDocument>({
        partitionKey: ws,
        filters: [
          { path: 'kind', op: '=', value: 'job' },
          ...(q.experiment === undefined ? [] : [{ path: 'experiment_name', op: '=' as const, value: q.experiment }]),
          ...(q.status === undefined ? [] : [{ path: 'status', op: '=' as const, value: q.status }]),
          ...(archived === 'all' ? [] : [{ path: 'archived', op: '=' as const, value: archived === 'true' }]),
        ],
        orderBy: [{ path: 'createdAt', direction: 'desc' }],
        limit: q.limit ?? 100,
        ...(q.continuation === undefined ? {} : { continuation: q.continuation }),
      });
      return {
        value: page.items.map(toJob),
        ...(page.continuation === undefined ? {} : { continuation: page.continuation }),
      };
    },

    /**
     * Marks the job for cancellation; the caller raises the orchestration's cancel event. `notice`
     * (why, when it is not the user: a sweep's early termination policy) is added to its notices.
     */
    async requestCancel(ws: string, name: string, notice?: string): Promise<Job> {
      const doc = await update(ws, name, (d) => {
        const noted = notice === undefined || d.notices.includes(notice);
        if (isTerminal(d.status) || (d.cancelRequested === true && noted)) return undefined;
        d.cancelRequested = true;
        if (!noted) d.notices = [...d.notices, notice];
        return d;
      });
      return toJob(doc);
    },

    async setArchived(ws: string, name: string, archived: boolean): Promise<Job> {
      return toJob(
        await update(ws, name, (d) => {
          if (d.archived === archived) return undefined;
          d.archived = archived;
          return d;
        }),
      );
    },

    async readLog(ws: string, name: string, offset: number): Promise<JobLog> {
      const doc = await read(ws, name);
      const { store: artifacts, container: c, prefix } = await resolveArtifacts(ws, doc.artifacts_uri);
      let data: Buffer;
      try {
        data = await artifacts.readRange(c, `${prefix}${STD_LOG}`, offset, LOG_PAGE_BYTES);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        data = Buffer.alloc(0);
      }
      return { data, nextOffset: offset + data.byteLength, status: doc.status };
    },

    /**
     * Appends lines to a job's own log (user_logs/std_log.txt): what a parent job that runs no
     * command of its own (an AutoML job) tells whoever streams it.
     */
    async appendLog(ws: string, name: string, text: string): Promise<void> {
      const doc = await read(ws, name);
      const { store: artifacts, container: c, prefix } = await resolveArtifacts(ws, doc.artifacts_uri);
      await artifacts.append(c, `${prefix}${STD_LOG}`, text, { contentType: 'text/plain; charset=utf-8' });
    },

    /** A file of a completed job's output folder, or undefined when the output has no such file. */
    async readOutputFile(ws: string, name: string, output: string, path: string): Promise<Buffer | undefined> {
      const uri = await outputUri(ws, name, output);
      const parsed = parseDataUri(uri);
      if (parsed.scheme !== 'azureml-datastore') return undefined;
      const r = await deps.datastores.resolve(ws, parsed.datastore);
      const key = [r.prefix.replace(/^\/+|\/+$/g, ''), parsed.path.replace(/^\/+|\/+$/g, ''), path]
        .filter((p) => p !== '')
        .join('/');
      try {
        return await r.store.get(r.container, key);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },

    /** The datastore URI of a completed job's output (`azureml://jobs/<job>/outputs/<output>`). */
    outputUri,

    /** Registers an output as a model or data asset (what a completed job does with a named output). */
    registerOutput,

    /**
     * A spec whose `path` is `azureml://jobs/<job>/outputs/<output>[/paths/<p>]` (as `az ml model
     * create --path` takes it), with that path replaced by the output's datastore URI; any other
     * spec unchanged. ValidationError for an unknown job or output, or one not Completed.
     */
    async withJobOutputPath<T extends Record<string, unknown>>(ws: string, spec: T): Promise<T> {
      const path = spec.path;
      if (typeof path !== 'string' || !path.startsWith('azureml://jobs/')) return spec;
      const resolved = await resolveDataPath(
        ws,
        path,
        typeof spec.type === 'string' ? spec.type : 'uri_folder',
        'path',
      );
      return { ...spec, path: resolved.uri };
    },

    // -------------------------------------------------------------------------------------------
    // The orchestration's activities.
    // -------------------------------------------------------------------------------------------

    /** Starts an attempt: a token for the trainer, then the compute. `ended` when there is nothing to run. */
    async start(ws: string, name: string, attempt: number): Promise<JobStartResult> {
      let doc: JobDocument = await read(ws, name);
      if (isTerminal(doc.status)) return { state: 'ended' };
      if (doc.cancelRequested === true) {
        await finish(ws, name, { outcome: 'canceled', attempt });
        return { state: 'ended' };
      }
      if (doc.executionId !== undefined && doc.attempt === attempt) {
        // A retried activity: the compute already has this attempt.
        return {
          state: 'started',
          executionId: doc.executionId,
          ...(doc.execution.timeoutSeconds === undefined ? {} : { timeoutSeconds: doc.execution.timeoutSeconds }),
        };
      }
      const now = clock.now();
      if (doc.tokenId !== undefined) await deps.tokens.revoke(doc.tokenId).catch(() => undefined);
      const ttlDays = Math.min(
        3650,
        Math.max(1, Math.ceil((doc.execution.timeoutSeconds ?? 30 * 86_400) / 86_400) + 1),
      );
      const token = await deps.tokens.create(
        {
          workspaces: [ws],
          description: `job ${name} attempt ${attempt} (MLFLOW_TRACKING_TOKEN)`,
          expiresInDays: ttlDays,
        },
        { createdBy: `job:${name}` },
      );
      await deps.secrets.put(jobTokenSecretName(ws, name), token.token);
      // The host's URL may have changed since the job was created (a restart on another port).
      const trackingUri = `${deps.publicUrl}/api/workspaces/${ws}/mlflow`;
      doc = await update(ws, name, (d) => {
        d.attempt = attempt;
        d.execution = { ...d.execution, attempt, mlflow: { ...d.execution.mlflow, trackingUri } };
        d.mlflow = { ...d.mlflow, tracking_uri: trackingUri };
        d.tokenId = token.id;
        d.orchestratedAt ??= now;
        delete d.executionId;
        return d;
      });
      const compute = await deps.compute();
      let executionId: string;
      try {
        executionId = await compute.submit({ workspace: ws, job: name, attempt, target: doc.target });
      } catch (err) {
        // A compute without a queue of its own (Container Apps) refuses a start beyond max_instances.
        if (err instanceof AppError && err.code === 'Transient' && err.target === 'maxInstances') {
          return { state: 'waiting', retryAfterSeconds: 15, reason: err.message };
        }
        throw err;
      }
      await update(ws, name, (d) => {
        d.executionId = executionId;
        return d;
      });
      return {
        state: 'started',
        executionId,
        ...(doc.execution.timeoutSeconds === undefined ? {} : { timeoutSeconds: doc.execution.timeoutSeconds }),
      };
    },

    /** Stops the trainer of an attempt (cancel, timeout). */
    async stop(executionId: string): Promise<void> {
      await (await deps.compute()).stop(executionId);
    },

    /** Ends the job: outputs registered, MLflow run closed, token revoked, final status. */
    finalize: (input: JobFinalizeInput): Promise<JobStatus> => finish(input.workspace, input.name, input),

    /** A progress report of the trainer; stale or out-of-order reports change nothing. */
    async applyProgress(msg: JobProgressMessage): Promise<void> {
      const order = PROGRESS_STATUSES as readonly string[];
      let becameRunning = false;
      await update(msg.workspace, msg.job, (d) => {
        if (isTerminal(d.status) || d.attempt !== msg.attempt) return undefined;
        const current = order.indexOf(d.status);
        if (current >= order.indexOf(msg.status)) return undefined;
        becameRunning = msg.status === 'Running';
        const next = withStatus(d, msg.status, msg.at);
        for (const n of msg.notices ?? []) if (!next.notices.includes(n)) next.notices = [...next.notices, n];
        return next;
      }).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err; // a report for a deleted job
      });
      if (becameRunning) await deps.tracking.setJobRunStatus(msg.workspace, msg.job, 'RUNNING');
    },

    /** For the trainer: the attempt's plan and its token. ValidationError if the attempt is not current. */
    async assignment(ws: string, name: string, attempt: number): Promise<TrainerAssignment> {
      const doc = await read(ws, name);
      if (doc.attempt !== attempt || isTerminal(doc.status)) {
        throw new ValidationError(
          `Job '${name}' is ${doc.status} at attempt ${doc.attempt}; attempt ${attempt} is over.`,
        );
      }
      return { job: toJob(doc), execution: doc.execution, token: await deps.secrets.get(jobTokenSecretName(ws, name)) };
    },

    /**
     * Finds attempts whose trainer is gone without reporting, and Queued jobs no orchestration
     * took, among the workspaces' unfinished jobs.
     */
    async watch(): Promise<WatchReport> {
      const report: WatchReport = { lost: [], orphans: [] };
      const compute = await deps.compute();
      const now = clock.now();
      for (const status of ['Queued', 'Preparing', 'Running', 'Finalizing'] as const) {
        let continuation: string | undefined;
        do {
          const page = await (
            await container()
          ).query<JobDocument>({
            filters: [
              { path: 'kind', op: '=', value: 'job' },
              { path: 'status', op: '=', value: status },
            ],
            limit: 500,
            ...(continuation === undefined ? {} : { continuation }),
          });
          for (const d of page.items) {
            if (d.executionId !== undefined) {
              const state = await compute.status(d.executionId);
              if (state.state === 'lost') {
                report.lost.push({
                  kind: 'finished',
                  workspace: d.workspace,
                  job: d.name,
                  attempt: d.attempt,
                  outcome: 'infrastructure',
                  reason: state.detail ?? 'the trainer stopped without reporting',
                  at: now,
                });
              }
            } else if (d.orchestratedAt === undefined && now - d.createdAt > ORPHAN_AFTER_MS) {
              report.orphans.push({ workspace: d.workspace, name: d.name, type: d.type });
            }
          }
          continuation = page.continuation;
        } while (continuation !== undefined);
      }
      return report;
    },

    /** Sends the watchdog's findings as the trainer would have (idempotent message ids). */
    async reportLost(lost: readonly JobFinishedMessage[]): Promise<void> {
      if (lost.length === 0) return;
      await deps.queue.send(
        JOB_EVENTS_QUEUE,
        lost.map((m) => ({ body: m, messageId: `lost-${m.workspace}-${m.job}-${m.attempt}` })),
      );
    },
  };

  async function resolveArtifacts(ws: string, uri: string) {
    const parsed = parseDataUri(uri);
    if (parsed.scheme !== 'azureml-datastore') throw new AppError('ValidationError', `Not a datastore URI: ${uri}`);
    const resolved = await deps.datastores.resolve(ws, parsed.datastore);
    const base = resolved.prefix.replace(/^\/+|\/+$/g, '');
    const folder = parsed.path.replace(/^\/+|\/+$/g, '');
    return { ...resolved, prefix: `${base === '' ? '' : `${base}/`}${folder === '' ? '' : `${folder}/`}` };
  }

  async function logTail(ws: string, doc: JobDocument): Promise<string> {
    try {
      const { store: artifacts, container: c, prefix } = await resolveArtifacts(ws, doc.artifacts_uri);
      const info = await artifacts.stat(c, `${prefix}${STD_LOG}`);
      if (info === undefined || info.size === 0) return '';
      const from = Math.max(0, info.size - 16 * 1024);
      const text = (await artifacts.readRange(c, `${prefix}${STD_LOG}`, from, info.size - from)).toString('utf8');
      return text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * Registers one output as a model (`*_model`) or data asset: version `output.version`, else the
   * next one. Returns `azureml:<name>:<version>`.
   */
  async function registerOutput(
    ws: string,
    by: string,
    output: ResolvedOutput & { name: string },
    description: string,
    tags: Record<string, string>,
  ): Promise<string> {
    const kind = output.type.endsWith('_model') ? 'model' : 'data';
    const body = {
      name: output.name,
      type: output.type,
      path: output.uri,
      description: output.description ?? description,
      tags,
    };
    const context = { principal: `job:${by}` };
    const asset =
      output.version === undefined
        ? await deps.assets.createVersion(ws, kind, output.name, body, context)
        : (await deps.assets.putVersion(ws, kind, output.name, output.version, body, context)).asset;
    return `azureml:${asset.name}:${asset.version ?? ''}`;
  }

  async function registerOutputs(ws: string, doc: JobDocument): Promise<Record<string, JobOutputView>> {
    const views: Record<string, JobOutputView> = { ...doc.outputs };
    for (const [key, output] of Object.entries(doc.execution.outputs)) {
      if (output.name === undefined) continue;
      const asset = await registerOutput(
        ws,
        doc.name,
        { ...output, name: output.name },
        `Output '${key}' of job ${doc.name}`,
        {
          'azureml.job': doc.name,
          'azureml.output': key,
        },
      );
      views[key] = { type: output.type, uri: output.uri, asset };
    }
    return views;
  }

  async function finish(
    ws: string,
    name: string,
    input: Pick<JobFinalizeInput, 'outcome' | 'exitCode' | 'reason' | 'attempt'>,
  ): Promise<JobStatus> {
    const doc = await read(ws, name);
    if (isTerminal(doc.status)) {
      // A retried finalize: the status is stored, but the steps after it may not have run.
      await closeOut(ws, name, doc, doc.status, doc.endedAt ?? clock.now());
      return doc.status;
    }
    const now = clock.now();
    let status: JobStatus;
    let error: JobError | undefined;
    let outputs = doc.outputs;
    switch (input.outcome) {
      case 'succeeded':
        try {
          outputs = await registerOutputs(ws, doc);
          status = 'Completed';
        } catch (err) {
          status = 'Failed';
          error = {
            code: 'OutputRegistrationFailed',
            message: `The command succeeded, but registering its outputs failed: ${err instanceof Error ? err.message : String(err)}`,
          };
        }
        break;
      case 'failed': {
        status = 'Failed';
        const tail = await logTail(ws, doc);
        error = {
          code: 'UserError',
          message:
            `${input.reason ?? `The command exited with code ${input.exitCode ?? 'unknown'}.`}` +
            (tail === '' ? '' : `\nLast lines of ${STD_LOG}:\n${tail}`),
        };
        break;
      }
      case 'infrastructure':
        status = 'Failed';
        error = {
          code: 'InfrastructureError',
          message: `${input.reason ?? 'The compute failed.'} (after ${input.attempt} of ${MAX_JOB_ATTEMPTS} attempts)`,
        };
        break;
      case 'timeout':
        status = 'Failed';
        error = {
          code: 'JobTimeout',
          message: `The job ran longer than limits.timeout (${doc.execution.timeoutSeconds ?? '?'} s) and was stopped.`,
        };
        break;
      case 'canceled':
        status = 'Canceled';
        break;
    }
    const stored = await update(ws, name, (d) => {
      if (isTerminal(d.status)) return undefined;
      const next = withStatus(d, status, now);
      next.outputs = outputs;
      if (error !== undefined) next.error = error;
      if (input.exitCode !== undefined) next.exitCode = input.exitCode;
      return next;
    });
    await closeOut(ws, name, stored, stored.status, stored.endedAt ?? now);
    return stored.status;
  }

  /** After the final status is stored: the MLflow run ends, the trainer's token goes. Idempotent. */
  async function closeOut(
    ws: string,
    name: string,
    doc: JobDocument,
    status: JobStatus,
    endTime: number,
  ): Promise<void> {
    const runStatus = status === 'Completed' ? 'FINISHED' : status === 'Canceled' ? 'KILLED' : 'FAILED';
    await deps.tracking.setJobRunStatus(ws, name, runStatus, endTime);
    if (doc.tokenId !== undefined) await deps.tokens.revoke(doc.tokenId).catch(() => undefined);
    await deps.secrets.delete(jobTokenSecretName(ws, name));
  }
}
