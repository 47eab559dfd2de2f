import { createHash, randomUUID } from 'node:crypto';
import { MLFLOW_LOGGED_MODELS_CONTAINER, loggedModelDocumentSchema } from '../contracts/mlflow-artifacts.js';
import type {
  CreateLoggedModelRequest,
  LoggedModelDocument,
  MlflowLoggedModel,
  SearchLoggedModelsRequest,
} from '../contracts/mlflow-artifacts.js';
import type { MlflowKeyValue } from '../contracts/mlflow.js';
import {
  loggedModelOrder,
  matchesLoggedModel,
  parseLoggedModelFilter,
  storeFiltersOf,
} from '../domain/logged-model-search.js';
import { loggedModelArtifactLocation, proxiedPathOfArtifactUri } from '../domain/mlflow-artifacts.js';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentContainer, MetadataStore, WithMeta } from '../ports/metadata-store.js';
import { readTokenFields } from '../domain/continuation-token.js';

export interface LoggedModelServiceDeps {
  store: MetadataStore;
  clock: Clock;
  /** The experiment as `experiments/get` answers it; NotFoundError when it does not exist. */
  getExperiment(ws: string, experimentId: string): Promise<{ lifecycle_stage: string; artifact_location: string }>;
  /** NotFoundError when the run does not exist (checks `source_run_id`). */
  getRun?(ws: string, runId: string): Promise<unknown>;
  /** Throws NotFoundError when the workspace does not exist (checked once per workspace and process). */
  requireWorkspace?(ws: string): Promise<unknown>;
  /** Model ids; default `m-` and 32 random hex digits, as MLflow makes them. */
  newId?: () => string;
}

/** MLflow's limits on logged model params and tags (those of runs). */
export const LOGGED_MODEL_LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  searchPageDefault: 50,
} as const;

/** Characters MLflow refuses in a logged model's name (it is a path segment of runs:/<run>/<name>). */
const NAME_FORBIDDEN = ['/', ':', '.', '%', '"', "'"];
const MAX_ATTEMPTS = 16;
/** Stored models read per query while a search filters them. */
const SEARCH_BATCH = 200;

/**
 * MLflow 3 logged models of each workspace: create (PENDING), finalize (READY or UPLOAD_FAILED),
 * get, search, tags, delete, speaking MLflow's request and response shapes. Stored in the metadata
 * store container `mlflowLoggedModels`, partitioned by workspace; a model's artifacts live at
 * `mlflow-artifacts:/workspaces/<ws>/experiments/<exp>/models/<id>/artifacts`. Metrics are not
 * linked to models yet: `data.metrics` is always empty.
 */
export type LoggedModelService = ReturnType<typeof createLoggedModelService>;

export function createLoggedModelService(deps: LoggedModelServiceDeps) {
  const { clock } = deps;
  const newId = deps.newId ?? (() => `m-${randomUUID().replaceAll('-', '')}`);
  let containerPromise: Promise<DocumentContainer> | undefined;
  const documents = (): Promise<DocumentContainer> => {
    containerPromise ??= deps.store.container(MLFLOW_LOGGED_MODELS_CONTAINER).catch((err: unknown) => {
      containerPromise = undefined;
      throw err;
    });
    return containerPromise;
  };
  const ready = new Map<string, Promise<unknown>>();
  const requireWorkspace = (ws: string): Promise<unknown> => {
    if (deps.requireWorkspace === undefined) return Promise.resolve();
    let p = ready.get(ws);
    if (p === undefined) {
      p = deps.requireWorkspace(ws);
      p.catch(() => ready.delete(ws));
      ready.set(ws, p);
    }
    return p;
  };

  /** The active model, with its etag; NotFoundError for an unknown or deleted one. */
  const read = async (ws: string, modelId: string): Promise<{ doc: LoggedModelDocument; etag: string }> => {
    await requireWorkspace(ws);
    const found = await (await documents()).read<LoggedModelDocument>(ws, modelId);
    const doc = found === undefined ? undefined : parseStored(found);
    if (found === undefined || doc?.lifecycleStage !== 'active') {
      throw new NotFoundError(`Logged model with ID '${modelId}' not found.`, { target: 'model_id' });
    }
    return { doc, etag: found._etag };
  };

  /** Read, change, write conditioned on the etag; a lost race reads again. */
  const update = async (
    ws: string,
    modelId: string,
    change: (doc: LoggedModelDocument) => LoggedModelDocument,
  ): Promise<LoggedModelDocument> => {
    const container = await documents();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { doc, etag } = await read(ws, modelId);
      const next = { ...change(doc), lastUpdatedTimestampMs: clock.now() };
      try {
        await container.replace(next, { ifMatch: etag });
        return next;
      } catch (err) {
        if (err instanceof PreconditionFailedError) continue;
        throw err;
      }
    }
    throw new ConflictError(`Logged model '${modelId}' is being changed by too many writers at once; try again.`, {
      target: 'model_id',
      retryable: true,
    });
  };

  return {
    async createLoggedModel(ws: string, req: CreateLoggedModelRequest): Promise<{ model: MlflowLoggedModel }> {
      await requireWorkspace(ws);
      if (req.name !== undefined) checkName(req.name);
      const params = uniqueByKey(req.params ?? []);
      const tags = uniqueByKey(req.tags ?? []);
      for (const p of params) checkKeyValue(p, 'params', LOGGED_MODEL_LIMITS.paramValueLength);
      for (const t of tags) checkKeyValue(t, 'tags', LOGGED_MODEL_LIMITS.tagValueLength);
      const experiment = await deps.getExperiment(ws, req.experiment_id);
      if (experiment.lifecycle_stage !== 'active') {
        throw new ValidationError(
          `The experiment ${req.experiment_id} must be in the 'active' state. Current state is ${experiment.lifecycle_stage}.`,
          { target: 'experiment_id' },
        );
      }
      if (req.source_run_id !== undefined && req.source_run_id !== '') await deps.getRun?.(ws, req.source_run_id);
      const modelId = newId();
      const now = clock.now();
      const doc: LoggedModelDocument = {
        id: modelId,
        pk: ws,
        kind: 'mlflowLoggedModel',
        schemaVersion: 1,
        experimentId: req.experiment_id,
        name: req.name ?? `model-${modelId.replace(/^m-/, '').slice(0, 8)}`,
        ...(req.model_type === undefined || req.model_type === '' ? {} : { modelType: req.model_type }),
        ...(req.source_run_id === undefined || req.source_run_id === '' ? {} : { sourceRunId: req.source_run_id }),
        status: 'LOGGED_MODEL_PENDING',
        artifactLocation: artifactLocationOf(ws, req.experiment_id, experiment.artifact_location, modelId),
        creationTimestampMs: now,
        lastUpdatedTimestampMs: now,
        lifecycleStage: 'active',
        tags,
        params,
      };
      await (await documents()).create(doc);
      return { model: toLoggedModelJson(doc) };
    },

    async getLoggedModel(ws: string, modelId: string): Promise<{ model: MlflowLoggedModel }> {
      return { model: toLoggedModelJson((await read(ws, modelId)).doc) };
    },

    /** Sets the final status: LOGGED_MODEL_READY once the artifacts are uploaded, or LOGGED_MODEL_UPLOAD_FAILED. */
    async finalizeLoggedModel(
      ws: string,
      modelId: string,
      status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED',
    ): Promise<{ model: MlflowLoggedModel }> {
      const doc = await update(ws, modelId, (d) => ({ ...d, status }));
      return { model: toLoggedModelJson(doc) };
    },

    /**
     * Deletes the model as MLflow does: it is no longer found or searched, and its document is
     * kept, marked deleted, so that its artifacts can still be traced and removed later.
     */
    async deleteLoggedModel(ws: string, modelId: string): Promise<object> {
      await update(ws, modelId, (d) => ({ ...d, lifecycleStage: 'deleted' }));
      return {};
    },

    async setLoggedModelTags(
      ws: string,
      modelId: string,
      tags: readonly MlflowKeyValue[],
    ): Promise<{ model: MlflowLoggedModel }> {
      const added = uniqueByKey(tags);
      for (const t of added) checkKeyValue(t, 'tags', LOGGED_MODEL_LIMITS.tagValueLength);
      const doc = await update(ws, modelId, (d) => ({ ...d, tags: uniqueByKey([...d.tags, ...added]) }));
      return { model: toLoggedModelJson(doc) };
    },

    /** Adds params; like a run's, a param once logged keeps its value (the same value again is fine). */
    async logLoggedModelParams(ws: string, modelId: string, params: readonly MlflowKeyValue[]): Promise<object> {
      const added = uniqueByKey(params);
      for (const p of added) checkKeyValue(p, 'params', LOGGED_MODEL_LIMITS.paramValueLength);
      await update(ws, modelId, (d) => {
        const existing = new Map(d.params.map((p) => [p.key, p.value]));
        const changed = added.find((p) => existing.has(p.key) && existing.get(p.key) !== p.value);
        if (changed !== undefined) {
          throw new ValidationError(
            `Changing param values is not allowed. Param with key='${changed.key}' was already logged with ` +
              `value='${existing.get(changed.key) ?? ''}' for logged model '${modelId}'. Attempted logging new value '${changed.value}'.`,
            { target: 'params' },
          );
        }
        return { ...d, params: uniqueByKey([...d.params, ...added]) };
      });
      return {};
    },

    async deleteLoggedModelTag(ws: string, modelId: string, key: string): Promise<object> {
      await update(ws, modelId, (d) => {
        if (!d.tags.some((t) => t.key === key)) {
          throw new NotFoundError(`No tag with key '${key}' found on logged model '${modelId}'.`, {
            target: 'tag_key',
          });
        }
        return { ...d, tags: d.tags.filter((t) => t.key !== key) };
      });
      return {};
    },

    /**
     * Active models of the experiments (all of the workspace when none are named), filtered by
     * MLflow's filter syntax and ordered newest first unless `order_by` says otherwise. The
     * `datasets` field only scopes metric clauses, which are refused, so it is ignored.
     */
    async searchLoggedModels(
      ws: string,
      req: SearchLoggedModelsRequest,
    ): Promise<{ models: MlflowLoggedModel[]; next_page_token?: string }> {
      await requireWorkspace(ws);
      const experimentIds = [...new Set(req.experiment_ids ?? [])];
      if (experimentIds.length > 256) {
        throw new ValidationError(`Search at most 256 experiments at once; got ${experimentIds.length}.`, {
          target: 'experiment_ids',
        });
      }
      const clauses = parseLoggedModelFilter(req.filter);
      const orderBy = loggedModelOrder(req.order_by);
      const maxResults = req.max_results ?? LOGGED_MODEL_LIMITS.searchPageDefault;
      const binding = createHash('sha256')
        .update(JSON.stringify([experimentIds, req.filter ?? '', orderBy]))
        .digest('base64url')
        .slice(0, 16);
      let { continuation, skip } = decodeSearchToken(req.page_token, binding);
      const filters = [
        { path: 'lifecycleStage', op: '=' as const, value: 'active' },
        ...(experimentIds.length === 0 ? [] : [{ path: 'experimentId', op: 'in' as const, value: experimentIds }]),
        ...storeFiltersOf(clauses),
      ];
      const container = await documents();
      const models: MlflowLoggedModel[] = [];
      for (;;) {
        const page = await container.query<LoggedModelDocument>({
          partitionKey: ws,
          filters,
          orderBy,
          limit: SEARCH_BATCH,
          ...(continuation === undefined ? {} : { continuation }),
        });
        for (let i = skip; i < page.items.length; i++) {
          const doc = parseStored(page.items[i] as WithMeta<LoggedModelDocument>);
          if (!matchesLoggedModel(clauses, doc)) continue;
          if (models.length === maxResults) {
            // One more match exists: the next page starts at it.
            return { models, next_page_token: encodeSearchToken(binding, continuation, i) };
          }
          models.push(toLoggedModelJson(doc));
        }
        skip = 0;
        if (page.continuation === undefined) return { models };
        continuation = page.continuation;
      }
    },
  };
}

/** Where a new model's artifacts go: ours for a proxied experiment, else beside the experiment's own location. */
function artifactLocationOf(ws: string, experimentId: string, experimentLocation: string, modelId: string): string {
  return proxiedPathOfArtifactUri(experimentLocation) === undefined
    ? `${experimentLocation.replace(/\/+$/, '')}/models/${modelId}/artifacts`
    : loggedModelArtifactLocation(ws, experimentId, modelId);
}

export function toLoggedModelJson(doc: LoggedModelDocument): MlflowLoggedModel {
  return {
    info: {
      model_id: doc.id,
      experiment_id: doc.experimentId,
      name: doc.name,
      creation_timestamp_ms: doc.creationTimestampMs,
      last_updated_timestamp_ms: doc.lastUpdatedTimestampMs,
      artifact_uri: doc.artifactLocation,
      status: doc.status,
      ...(doc.modelType === undefined ? {} : { model_type: doc.modelType }),
      ...(doc.sourceRunId === undefined ? {} : { source_run_id: doc.sourceRunId }),
      ...(doc.statusMessage === undefined ? {} : { status_message: doc.statusMessage }),
      tags: doc.tags,
      registrations: [],
    },
    data: { params: doc.params, metrics: [] },
  };
}

function checkName(name: string): void {
  if (name === '' || NAME_FORBIDDEN.some((c) => name.includes(c))) {
    throw new ValidationError(
      `Invalid model name ${JSON.stringify(name)}: a logged model's name must be non-empty and cannot contain ` +
        `${NAME_FORBIDDEN.map((c) => `'${c}'`).join(', ')}.`,
      { target: 'name' },
    );
  }
}

function checkKeyValue(kv: MlflowKeyValue, what: string, maxValue: number): void {
  if (kv.key === '' || kv.key.length > LOGGED_MODEL_LIMITS.keyLength) {
    throw new ValidationError(
      `Invalid ${what} key '${kv.key.slice(0, 40)}': keys must be 1 to ${LOGGED_MODEL_LIMITS.keyLength} characters.`,
      { target: what },
    );
  }
  if (kv.value.length > maxValue) {
    throw new ValidationError(
      `Value of ${what} key '${kv.key}' has ${kv.value.length} characters; the limit is ${maxValue}.`,
      { target: what },
    );
  }
}

/** One entry per key, the last one given winning, in first-seen order. */
function uniqueByKey(list: readonly MlflowKeyValue[]): MlflowKeyValue[] {
  const byKey = new Map<string, string>();
  for (const kv of list) byKey.set(kv.key, kv.value);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/**
 * Search page tokens: base64url of { b: binding, c: the store continuation the page starts from,
 * s: how many stored models of that store page to skip }, refused for another search.
 */
function encodeSearchToken(binding: string, continuation: string | undefined, skip: number): string {
  return Buffer.from(JSON.stringify({ b: binding, c: continuation ?? null, s: skip })).toString('base64url');
}

function decodeSearchToken(token: string | undefined, binding: string): { continuation?: string; skip: number } {
  if (token === undefined || token === '') return { skip: 0 };
  const t = readTokenFields(token) ?? {};
  const c = t.c;
  if (
    t.b !== binding ||
    (c !== null && typeof c !== 'string') ||
    typeof t.s !== 'number' ||
    !Number.isSafeInteger(t.s) ||
    t.s < 0
  ) {
    throw new ValidationError(
      `Invalid page token '${token}'; pass back the next_page_token of the same search (experiments, filter, order) unchanged.`,
      { target: 'page_token' },
    );
  }
  return { ...(typeof c === 'string' ? { continuation: c } : {}), skip: t.s };
}

/** Stored documents are parsed again; one that does not parse is our fault (a 500), not the caller's. */
function parseStored(value: unknown): LoggedModelDocument {
  const result = loggedModelDocumentSchema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `A stored ${MLFLOW_LOGGED_MODELS_CONTAINER} document does not match its schema: ${result.error.message}`,
    );
  }
  return result.data;
}
