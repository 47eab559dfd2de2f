import { randomUUID } from 'node:crypto';
import type {
  CreateExperimentRequest,
  CreateRunRequest,
  LogBatchRequest,
  MetricHistoryRequest,
  MetricInput,
  MlflowExperiment,
  MlflowMetric,
  MlflowRun,
  MlflowRunInfo,
  SearchExperimentsRequest,
  SearchRunsRequest,
  UpdateRunRequest,
} from '../contracts/mlflow.js';
import type { LogInputsRequest, LogModelRequest, LogOutputsRequest } from '../contracts/mlflow-artifacts.js';
import {
  EXPERIMENT_FILTER_DIALECT,
  EXPERIMENT_ORDER_DIALECT,
  RUN_FILTER_DIALECT,
  parseFilter,
  parseOrderBy,
} from '../domain/mlflow-filter.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type {
  ExperimentRecord,
  KeyValue,
  Metric,
  RunRecord,
  RunStatus,
  TrackingStore,
} from '../ports/tracking-store.js';
import type { RunInputs, RunInputsStore } from './mlflow-run-inputs.js';

/** MLflow's limits per log-batch request and per value. */
export const MLFLOW_LIMITS = {
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentsPageDefault: 1000,
  runsPageDefault: 1000,
  historyPageDefault: 25000,
} as const;

export const DEFAULT_EXPERIMENT_ID = '0';
const RUN_NAME_TAG = 'mlflow.runName';
/** The run tag MLflow 2 keeps the history of `log_model` calls in: a JSON array of MLmodel summaries. */
export const LOGGED_MODELS_HISTORY_TAG = 'mlflow.log-model.history';

export interface TrackingServiceDeps {
  store: TrackingStore;
  clock: Clock;
  /** Artifact root of a workspace's experiments; an experiment's location is `<root>/<experiment id>`. */
  artifactRoot?: (ws: string) => string;
  /** Throws NotFoundError when the workspace does not exist (checked once per workspace and process). */
  requireWorkspace?: (ws: string) => Promise<unknown>;
  // --- mlflow artifacts ---
  /** Dataset/model inputs and model outputs of runs; without it runs have none and logging them is a 501. */
  runInputs?: RunInputsStore;
  // --- end mlflow artifacts ---
}

/**
 * MLflow tracking (experiments, runs, params, tags, metrics) per workspace, speaking MLflow's
 * request and response shapes so the HTTP triggers only parse and forward. Every workspace has a
 * "Default" experiment with id "0".
 */
export type TrackingService = ReturnType<typeof createTrackingService>;

export function createTrackingService(deps: TrackingServiceDeps) {
  const { store, clock } = deps;
  const artifactRoot = deps.artifactRoot ?? ((ws: string) => `mlflow-artifacts:/workspaces/${ws}/experiments`);
  const ready = new Map<string, Promise<void>>();

  const prepare = (ws: string): Promise<void> => {
    let p = ready.get(ws);
    if (p === undefined) {
      p = (async () => {
        await deps.requireWorkspace?.(ws);
        await store.ensureDefaultExperiment(ws, `${artifactRoot(ws)}/${DEFAULT_EXPERIMENT_ID}`, clock.now());
      })();
      p.catch(() => ready.delete(ws));
      ready.set(ws, p);
    }
    return p;
  };

  const experiment = async (ws: string, experimentId: string): Promise<ExperimentRecord> => {
    await prepare(ws);
    const found = await store.getExperiment(ws, experimentId);
    if (found === undefined) throw new NotFoundError(`Could not find experiment with ID ${experimentId}`);
    return found;
  };

  const run = async (ws: string, ref: { run_id?: string | undefined; run_uuid?: string | undefined }) => {
    const runId = ref.run_id ?? ref.run_uuid;
    if (runId === undefined || runId === '') {
      throw new ValidationError("Missing value for required parameter 'run_id'.", { target: 'run_id' });
    }
    await prepare(ws);
    const found = await store.getRun(ws, runId);
    if (found === undefined) throw new NotFoundError(`Run '${runId}' not found.`);
    return found;
  };

  const activeRun = async (ws: string, ref: { run_id?: string | undefined; run_uuid?: string | undefined }) => {
    const found = await run(ws, ref);
    if (found.lifecycleStage !== 'active') {
      throw new ValidationError(
        `The run ${found.runId} must be in the 'active' state. Current state is ${found.lifecycleStage}.`,
      );
    }
    return found;
  };

  const writeBatch = async (
    ws: string,
    runId: string,
    batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] },
  ) => {
    for (const m of batch.metrics) checkKey(m.key, 'metrics');
    for (const p of batch.params) checkValue(p, 'params', MLFLOW_LIMITS.paramValueLength);
    for (const t of batch.tags) checkValue(t, 'tags', MLFLOW_LIMITS.tagValueLength);
    await store.logBatch(ws, runId, batch);
    const runName = lastTag(batch.tags, RUN_NAME_TAG);
    if (runName !== undefined) await store.updateRun(ws, runId, { runName: runName.value });
  };

  return {
    async createExperiment(ws: string, req: CreateExperimentRequest): Promise<{ experiment_id: string }> {
      await prepare(ws);
      const tags = req.tags ?? [];
      for (const t of tags) checkValue(t, 'tags', MLFLOW_LIMITS.tagValueLength);
      const location = req.artifact_location;
      const id = await store.createExperiment(
        ws,
        req.name,
        (newId) => location ?? `${artifactRoot(ws)}/${newId}`,
        tags,
        clock.now(),
      );
      return { experiment_id: id };
    },

    async getExperiment(ws: string, experimentId: string): Promise<{ experiment: MlflowExperiment }> {
      return { experiment: toExperimentJson(await experiment(ws, experimentId)) };
    },

    async getExperimentByName(ws: string, name: string): Promise<{ experiment: MlflowExperiment }> {
      await prepare(ws);
      const found = await store.getExperimentByName(ws, name);
      if (found === undefined) throw new NotFoundError(`Could not find experiment with name '${name}'.`);
      return { experiment: toExperimentJson(found) };
    },

    async searchExperiments(
      ws: string,
      req: SearchExperimentsRequest,
    ): Promise<{ experiments: MlflowExperiment[]; next_page_token?: string }> {
      await prepare(ws);
      const maxResults = req.max_results ?? MLFLOW_LIMITS.experimentsPageDefault;
      const offset = decodeToken(req.page_token, 'offset');
      const page = await store.searchExperiments(ws, {
        filter: parseFilter(req.filter, EXPERIMENT_FILTER_DIALECT),
        orderBy: parseOrderBy(req.order_by, EXPERIMENT_ORDER_DIALECT),
        viewType: req.view_type ?? 'ACTIVE_ONLY',
        maxResults,
        offset,
      });
      return {
        experiments: page.items.map(toExperimentJson),
        ...(page.more ? { next_page_token: encodeToken('offset', offset + maxResults) } : {}),
      };
    },

    async setExperimentStage(ws: string, experimentId: string, stage: 'active' | 'deleted'): Promise<object> {
      const found = await experiment(ws, experimentId);
      if (stage === 'deleted' && found.experimentId === DEFAULT_EXPERIMENT_ID) {
        throw new ValidationError('Cannot delete the default experiment (ID 0).', { target: 'experiment_id' });
      }
      await store.updateExperiment(ws, experimentId, { lifecycleStage: stage }, clock.now());
      return {};
    },

    async renameExperiment(ws: string, experimentId: string, newName: string): Promise<object> {
      const found = await experiment(ws, experimentId);
      if (found.lifecycleStage !== 'active') {
        throw new ValidationError(`Cannot rename a non-active experiment (ID ${experimentId}).`);
      }
      await store.updateExperiment(ws, experimentId, { name: newName }, clock.now());
      return {};
    },

    async createRun(ws: string, req: CreateRunRequest): Promise<{ run: MlflowRun }> {
      const exp = await experiment(ws, req.experiment_id ?? DEFAULT_EXPERIMENT_ID);
      if (exp.lifecycleStage !== 'active') {
        throw new ValidationError(
          `The experiment ${exp.experimentId} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`,
        );
      }
      const tags = [...(req.tags ?? [])];
      for (const t of tags) checkValue(t, 'tags', MLFLOW_LIMITS.tagValueLength);
      const runId = randomUUID().replaceAll('-', '');
      const runName = req.run_name ?? lastTag(tags, RUN_NAME_TAG)?.value ?? `run-${runId.slice(0, 8)}`;
      if (!tags.some((t) => t.key === RUN_NAME_TAG)) tags.push({ key: RUN_NAME_TAG, value: runName });
      await store.createRun(ws, {
        runId,
        experimentId: exp.experimentId,
        runName,
        userId: req.user_id ?? '',
        startTime: req.start_time ?? clock.now(),
        artifactUri: `${exp.artifactLocation}/${runId}/artifacts`,
        tags,
      });
      return { run: toRunJson(await run(ws, { run_id: runId })) };
    },

    /**
     * The MLflow run of a job: run id = job name, in the experiment named `experimentName` (created
     * when missing), status SCHEDULED until the job runs. Idempotent: an existing run is kept.
     */
    async startJobRun(
      ws: string,
      job: { runId: string; experimentName: string; runName: string; tags: KeyValue[]; startTime: number },
    ): Promise<{ experimentId: string }> {
      await prepare(ws);
      let exp = await store.getExperimentByName(ws, job.experimentName);
      if (exp === undefined) {
        await store
          .createExperiment(ws, job.experimentName, (id) => `${artifactRoot(ws)}/${id}`, [], clock.now())
          .catch((err: unknown) => {
            if (!(err instanceof ConflictError)) throw err; // created by a concurrent job: use it
          });
        exp = await store.getExperimentByName(ws, job.experimentName);
        if (exp === undefined)
          throw new NotFoundError(`Experiment '${job.experimentName}' vanished while creating it.`);
      }
      if (exp.lifecycleStage !== 'active') {
        throw new ValidationError(
          `The experiment '${job.experimentName}' is deleted: restore it (experiments/restore) or choose another experiment_name.`,
          { target: 'experiment_name' },
        );
      }
      const existing = await store.getRun(ws, job.runId);
      if (existing !== undefined) return { experimentId: existing.experimentId };
      const tags = [...job.tags];
      if (!tags.some((t) => t.key === RUN_NAME_TAG)) tags.push({ key: RUN_NAME_TAG, value: job.runName });
      for (const t of tags) checkValue(t, 'tags', MLFLOW_LIMITS.tagValueLength);
      await store.createRun(ws, {
        runId: job.runId,
        experimentId: exp.experimentId,
        runName: job.runName,
        userId: '',
        startTime: job.startTime,
        artifactUri: `${exp.artifactLocation}/${job.runId}/artifacts`,
        tags,
      });
      await store.updateRun(ws, job.runId, { status: 'SCHEDULED' });
      return { experimentId: exp.experimentId };
    },

    /** Sets a job run's status (and end time once it ended), whatever its script did to it. */
    async setJobRunStatus(ws: string, runId: string, status: RunStatus, endTime?: number): Promise<void> {
      await prepare(ws);
      if ((await store.getRun(ws, runId)) === undefined) return;
      await store.updateRun(ws, runId, { status, ...(endTime === undefined ? {} : { endTime }) });
    },

    async getRun(ws: string, runId: string): Promise<{ run: MlflowRun }> {
      const found = await run(ws, { run_id: runId });
      return { run: toRunJson(found, await deps.runInputs?.get(ws, found.runId)) };
    },

    async updateRun(ws: string, req: UpdateRunRequest): Promise<{ run_info: MlflowRunInfo }> {
      const found = await activeRun(ws, req);
      await store.updateRun(ws, found.runId, {
        ...(req.status === undefined ? {} : { status: req.status }),
        ...(req.end_time === undefined ? {} : { endTime: req.end_time }),
        ...(req.run_name === undefined ? {} : { runName: req.run_name }),
      });
      if (req.run_name !== undefined) {
        await store.logBatch(ws, found.runId, {
          metrics: [],
          params: [],
          tags: [{ key: RUN_NAME_TAG, value: req.run_name }],
        });
      }
      return { run_info: toRunJson(await run(ws, req)).info };
    },

    async setRunStage(ws: string, runId: string, stage: 'active' | 'deleted'): Promise<object> {
      const found = await run(ws, { run_id: runId });
      await store.updateRun(ws, found.runId, { lifecycleStage: stage });
      return {};
    },

    async searchRuns(ws: string, req: SearchRunsRequest): Promise<{ runs: MlflowRun[]; next_page_token?: string }> {
      await prepare(ws);
      const maxResults = req.max_results ?? MLFLOW_LIMITS.runsPageDefault;
      const offset = decodeToken(req.page_token, 'offset');
      const page = await store.searchRuns(ws, {
        experimentIds: req.experiment_ids ?? [],
        filter: parseFilter(req.filter, RUN_FILTER_DIALECT),
        orderBy: parseOrderBy(req.order_by, RUN_FILTER_DIALECT),
        viewType: req.run_view_type ?? 'ACTIVE_ONLY',
        maxResults,
        offset,
      });
      const inputs =
        deps.runInputs === undefined || page.items.length === 0
          ? undefined
          : await deps.runInputs.getMany(
              ws,
              page.items.map((r) => r.runId),
            );
      return {
        runs: page.items.map((r) => toRunJson(r, inputs?.get(r.runId))),
        ...(page.more ? { next_page_token: encodeToken('offset', offset + maxResults) } : {}),
      };
    },

    async logMetric(
      ws: string,
      req: MetricInput & { run_id?: string | undefined; run_uuid?: string | undefined },
    ): Promise<object> {
      const found = await activeRun(ws, req);
      await writeBatch(ws, found.runId, { metrics: [toMetric(req)], params: [], tags: [] });
      return {};
    },

    async logParam(ws: string, req: { run_id?: string; run_uuid?: string; key: string; value: string }) {
      const found = await activeRun(ws, req);
      await writeBatch(ws, found.runId, { metrics: [], params: [{ key: req.key, value: req.value }], tags: [] });
      return {};
    },

    async setTag(ws: string, req: { run_id?: string; run_uuid?: string; key: string; value: string }) {
      const found = await activeRun(ws, req);
      await writeBatch(ws, found.runId, { metrics: [], params: [], tags: [{ key: req.key, value: req.value }] });
      return {};
    },

    async deleteTag(ws: string, req: { run_id?: string; run_uuid?: string; key: string }) {
      const found = await activeRun(ws, req);
      if (!(await store.deleteTag(ws, found.runId, req.key))) {
        throw new NotFoundError(`No tag with name: ${req.key} in run with id ${found.runId}`);
      }
      return {};
    },

    async logBatch(ws: string, req: LogBatchRequest): Promise<object> {
      const metrics = req.metrics ?? [];
      const params = req.params ?? [];
      const tags = req.tags ?? [];
      limit(metrics.length, MLFLOW_LIMITS.batchMetrics, 'metrics');
      limit(params.length, MLFLOW_LIMITS.batchParams, 'params');
      limit(tags.length, MLFLOW_LIMITS.batchTags, 'tags');
      const seen = new Map<string, string>();
      for (const p of params) if (!seen.has(p.key)) seen.set(p.key, p.value);
      const duplicate = params.find((p) => seen.get(p.key) !== p.value);
      if (duplicate !== undefined) {
        throw new ValidationError(`Duplicate parameter keys with different values: '${duplicate.key}'.`, {
          target: 'params',
        });
      }
      const found = await activeRun(ws, req);
      await writeBatch(ws, found.runId, { metrics: metrics.map(toMetric), params, tags });
      return {};
    },

    async metricHistory(
      ws: string,
      req: MetricHistoryRequest,
    ): Promise<{ metrics: MlflowMetric[]; next_page_token?: string }> {
      const found = await run(ws, req);
      const page = await store.metricHistory(
        ws,
        found.runId,
        req.metric_key,
        decodeToken(req.page_token, 'after'),
        req.max_results ?? MLFLOW_LIMITS.historyPageDefault,
      );
      return {
        metrics: page.metrics.map(toMetricJson),
        ...(page.next === undefined ? {} : { next_page_token: encodeToken('after', page.next) }),
      };
    },

    // --- mlflow artifacts ---

    /**
     * MLflow 2 `runs/log-model`: appends the model's summary (the fields MLflow's server keeps, see
     * `summarizeLoggedModel`) to the run's `mlflow.log-model.history` tag, as MLflow's server does.
     */
    async logModel(ws: string, req: LogModelRequest): Promise<object> {
      const summary = summarizeLoggedModel(req.model_json);
      const found = await activeRun(ws, req);
      const previous = lastTag(found.tags, LOGGED_MODELS_HISTORY_TAG)?.value;
      const value = appendToModelHistory(previous, summary, MLFLOW_LIMITS.tagValueLength);
      await writeBatch(ws, found.runId, { metrics: [], params: [], tags: [{ key: LOGGED_MODELS_HISTORY_TAG, value }] });
      return {};
    },

    /** `runs/log-inputs`: the run's dataset inputs (and MLflow 3 model inputs), shown by runs/get. */
    async logInputs(ws: string, req: LogInputsRequest): Promise<object> {
      const store = requireRunInputs(deps.runInputs);
      const found = await activeRun(ws, req);
      await store.add(ws, found.runId, {
        datasetInputs: (req.datasets ?? []).map((d) => ({
          tags: d.tags,
          dataset: {
            name: d.dataset.name,
            digest: d.dataset.digest,
            source_type: d.dataset.source_type,
            source: d.dataset.source,
            ...(d.dataset.schema === undefined ? {} : { schema: d.dataset.schema }),
            ...(d.dataset.profile === undefined ? {} : { profile: d.dataset.profile }),
          },
        })),
        modelInputs: req.models ?? [],
      });
      return {};
    },

    /** `runs/outputs` (MLflow 3): the logged models a run produced, shown by runs/get as `outputs`. */
    async logOutputs(ws: string, req: LogOutputsRequest): Promise<object> {
      const store = requireRunInputs(deps.runInputs);
      const found = await activeRun(ws, req);
      await store.add(ws, found.runId, { modelOutputs: req.models ?? [] });
      return {};
    },
    // --- end mlflow artifacts ---
  };
}

// --- mlflow artifacts -------------------------------------------------------------------------

function requireRunInputs(store: RunInputsStore | undefined): RunInputsStore {
  if (store === undefined) {
    throw new AppError('Unsupported', 'This deployment keeps no run inputs or outputs (no metadata store was wired).');
  }
  return store;
}

/** The MLmodel fields MLflow's server keeps in the history tag (mlflow.models.Model.get_tags_dict). */
const MODEL_HISTORY_FIELDS = ['run_id', 'utc_time_created', 'artifact_path', 'model_uuid'] as const;
/** What MLflow's server requires of a logged model's JSON. */
const MODEL_REQUIRED_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'] as const;

/**
 * Parses `model_json` and reduces it to what MLflow's server records: run_id, utc_time_created,
 * artifact_path, model_uuid and the flavors, each flavor without its `config` entry.
 */
export function summarizeLoggedModel(modelJson: string): Record<string, unknown> {
  let model: unknown;
  try {
    model = JSON.parse(modelJson);
  } catch {
    model = undefined;
  }
  if (model === null || typeof model !== 'object' || Array.isArray(model)) {
    throw new ValidationError(`Malformed model info: model_json is not a JSON object: ${modelJson.slice(0, 200)}`, {
      target: 'model_json',
    });
  }
  const fields = model as Record<string, unknown>;
  const missing = MODEL_REQUIRED_FIELDS.filter((k) => !(k in fields));
  if (missing.length > 0) {
    throw new ValidationError(`Model json is missing mandatory fields: ${missing.join(', ')}.`, {
      target: 'model_json',
    });
  }
  const summary: Record<string, unknown> = {};
  for (const key of MODEL_HISTORY_FIELDS) if (key in fields) summary[key] = fields[key];
  const flavors = fields.flavors;
  summary.flavors =
    flavors !== null && typeof flavors === 'object' && !Array.isArray(flavors)
      ? Object.fromEntries(
          Object.entries(flavors as Record<string, unknown>).map(([name, config]) => [
            name,
            config !== null && typeof config === 'object' && !Array.isArray(config)
              ? Object.fromEntries(Object.entries(config as Record<string, unknown>).filter(([k]) => k !== 'config'))
              : config,
          ]),
        )
      : flavors;
  return summary;
}

/**
 * The history tag's next value: the previous JSON array (an unreadable one is started afresh)
 * with `summary` appended. MLflow's server refuses a history longer than the tag value limit;
 * Tessera drops the oldest entries instead, so a run that logs many models keeps logging them
 * and the tag keeps the most recent ones. A single summary over the limit is refused.
 */
export function appendToModelHistory(previous: string | undefined, summary: unknown, limit: number): string {
  let history: unknown[] = [];
  if (previous !== undefined) {
    try {
      const parsed: unknown = JSON.parse(previous);
      if (Array.isArray(parsed)) history = parsed;
    } catch {
      history = [];
    }
  }
  history.push(summary);
  let value = JSON.stringify(history);
  while (value.length > limit && history.length > 1) {
    history.shift();
    value = JSON.stringify(history);
  }
  if (value.length > limit) {
    throw new ValidationError(
      `The logged model's summary takes ${value.length} characters as the '${LOGGED_MODELS_HISTORY_TAG}' tag; the ` +
        `limit is ${limit}. Log the model with fewer flavors or shorter flavor settings.`,
      { target: 'model_json' },
    );
  }
  return value;
}

// --- end mlflow artifacts ---------------------------------------------------------------------

function lastTag(tags: readonly KeyValue[], key: string): KeyValue | undefined {
  for (let i = tags.length - 1; i >= 0; i--) if (tags[i]?.key === key) return tags[i];
  return undefined;
}

function checkKey(key: string, what: string): void {
  if (key === '' || key.length > MLFLOW_LIMITS.keyLength) {
    throw new ValidationError(
      `Invalid value '${key.slice(0, 40)}' for parameter '${what}' key: keys must be 1 to ${MLFLOW_LIMITS.keyLength} characters.`,
      { target: what },
    );
  }
}

function checkValue(kv: KeyValue, what: string, max: number): void {
  checkKey(kv.key, what);
  if (kv.value.length > max) {
    throw new ValidationError(
      `Value of '${what}' key '${kv.key}' has ${kv.value.length} characters; the limit is ${max}.`,
      { target: what },
    );
  }
}

function limit(count: number, max: number, what: string): void {
  if (count > max) {
    throw new ValidationError(
      `A batch logging request can contain at most ${max} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
      { target: what },
    );
  }
}

function toMetric(m: MetricInput): Metric {
  return { key: m.key, value: m.value, timestamp: m.timestamp, step: m.step ?? 0 };
}

/** Page tokens are opaque to clients: base64url of `{ "<name>": <integer> }`. */
function encodeToken(name: string, value: number): string {
  return Buffer.from(JSON.stringify({ [name]: value })).toString('base64url');
}

function decodeToken(token: string | undefined, name: string): number {
  if (token === undefined || token === '') return 0;
  let value: unknown;
  try {
    value = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>)[name];
  } catch {
    value = undefined;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`Invalid page token '${token}'; pass back a next_page_token unchanged.`, {
      target: 'page_token',
    });
  }
  return value;
}

export function toExperimentJson(e: ExperimentRecord): MlflowExperiment {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    tags: e.tags,
  };
}

export function toMetricJson(m: Metric): MlflowMetric {
  const value = Number.isFinite(m.value) ? m.value : String(m.value);
  return { key: m.key, value, timestamp: m.timestamp, step: m.step };
}

export function toRunJson(r: RunRecord, io?: RunInputs): MlflowRun {
  const datasets = io?.datasetInputs ?? [];
  const modelInputs = io?.modelInputs ?? [];
  const modelOutputs = io?.modelOutputs ?? [];
  return {
    info: {
      run_id: r.runId,
      run_uuid: r.runId,
      run_name: r.runName,
      experiment_id: r.experimentId,
      user_id: r.userId,
      status: r.status,
      start_time: r.startTime,
      ...(r.endTime === undefined ? {} : { end_time: r.endTime }),
      artifact_uri: r.artifactUri,
      lifecycle_stage: r.lifecycleStage,
    },
    data: { metrics: r.metrics.map(toMetricJson), params: r.params, tags: r.tags },
    inputs: {
      ...(datasets.length === 0 ? {} : { dataset_inputs: datasets }),
      ...(modelInputs.length === 0 ? {} : { model_inputs: modelInputs }),
    },
    ...(modelOutputs.length === 0 ? {} : { outputs: { model_outputs: modelOutputs } }),
  };
}
