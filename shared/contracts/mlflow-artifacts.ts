import { z } from 'zod';
import { int64 } from './mlflow.js';
import type { MlflowKeyValue, MlflowMetric } from './mlflow.js';

/**
 * MLflow artifacts, run inputs/outputs and logged models (MLflow 3): the REST bodies and query
 * strings as MLflow clients send them (snake_case, proto JSON), the documents Tessera stores, and
 * the wire shapes it answers with.
 */

/** MetadataStore container of each run's dataset/model inputs and model outputs (one document per run). */
export const MLFLOW_RUN_INPUTS_CONTAINER = 'mlflowRunInputs';
/** MetadataStore container of MLflow 3 logged models (partition key: workspace). */
export const MLFLOW_LOGGED_MODELS_CONTAINER = 'mlflowLoggedModels';

const id = z.string().min(1);
const keyValue = z.object({ key: z.string(), value: z.string() });

// ---------------------------------------------------------------------------------------------
// Artifacts
// ---------------------------------------------------------------------------------------------

/** `GET /api/2.0/mlflow/artifacts/list`. */
export const listArtifactsSchema = z.object({
  run_id: z.string().optional(),
  run_uuid: z.string().optional(),
  path: z.string().optional(),
  page_token: z.string().optional(),
});
export type ListArtifactsRequest = z.output<typeof listArtifactsSchema>;

/** `GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>`. */
export const listProxiedArtifactsSchema = z.object({ path: z.string().optional() });

/** One artifact of a listing; MLflow leaves `file_size` out for folders. */
export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

// ---------------------------------------------------------------------------------------------
// Run inputs and outputs, MLflow 2 log-model
// ---------------------------------------------------------------------------------------------

/** MLflow's limits on dataset inputs (mlflow/utils/validation.py). */
export const DATASET_LIMITS = {
  nameLength: 500,
  digestLength: 36,
  sourceLength: 65535,
  schemaLength: 1048575,
  profileLength: 16777215,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
} as const;

const max = (n: number, what: string) => ({ error: `${what} can have at most ${n} characters` });

export const datasetSchema = z.object({
  name: z.string().min(1).max(DATASET_LIMITS.nameLength, max(DATASET_LIMITS.nameLength, 'a dataset name')),
  digest: z.string().min(1).max(DATASET_LIMITS.digestLength, max(DATASET_LIMITS.digestLength, 'a dataset digest')),
  source_type: z.string().min(1),
  source: z.string().max(DATASET_LIMITS.sourceLength, max(DATASET_LIMITS.sourceLength, 'a dataset source')),
  schema: z.string().max(DATASET_LIMITS.schemaLength, max(DATASET_LIMITS.schemaLength, 'a dataset schema')).optional(),
  profile: z
    .string()
    .max(DATASET_LIMITS.profileLength, max(DATASET_LIMITS.profileLength, 'a dataset profile'))
    .optional(),
});

export const inputTagSchema = z.object({
  key: z
    .string()
    .min(1)
    .max(DATASET_LIMITS.inputTagKeyLength, max(DATASET_LIMITS.inputTagKeyLength, 'an input tag key')),
  value: z
    .string()
    .max(DATASET_LIMITS.inputTagValueLength, max(DATASET_LIMITS.inputTagValueLength, 'an input tag value')),
});

export const datasetInputSchema = z.object({
  tags: z.array(inputTagSchema).default([]),
  dataset: datasetSchema,
});

export const modelInputSchema = z.object({ model_id: id });
export const modelOutputSchema = z.object({ model_id: id, step: int64.default(0) });

/** `POST /api/2.0/mlflow/runs/log-inputs`. */
export const logInputsSchema = z.object({
  run_id: id,
  datasets: z.array(datasetInputSchema).optional(),
  models: z.array(modelInputSchema).optional(),
});
export type LogInputsRequest = z.output<typeof logInputsSchema>;

/** `POST /api/2.0/mlflow/runs/outputs` (MLflow 3 `log_model` links the logged model to its run). */
export const logOutputsSchema = z.object({
  run_id: id,
  models: z.array(modelOutputSchema).optional(),
});
export type LogOutputsRequest = z.output<typeof logOutputsSchema>;

/** `POST /api/2.0/mlflow/runs/log-model` (MLflow 2): `model_json` is the MLmodel as JSON text. */
export const logModelSchema = z.object({
  run_id: id,
  model_json: z.string().min(1, 'model_json must be the MLmodel as a JSON string'),
});
export type LogModelRequest = z.output<typeof logModelSchema>;

/** A run's inputs and outputs, one document per run (id = run id), partitioned by workspace. */
export const runInputsDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowRunInputs'),
  schemaVersion: z.literal(1),
  datasetInputs: z.array(datasetInputSchema),
  modelInputs: z.array(modelInputSchema),
  modelOutputs: z.array(z.object({ model_id: z.string(), step: z.number().int() })),
});
export type RunInputsDocument = z.output<typeof runInputsDocumentSchema>;

// ---------------------------------------------------------------------------------------------
// Logged models (MLflow 3)
// ---------------------------------------------------------------------------------------------

export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** The two states a model is finalized to, by name or by proto enum number (2, 3). */
export const finalStatusSchema = z
  .union([z.enum(['LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED']), z.literal(2), z.literal(3)], {
    error: 'status must be LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED',
  })
  .transform((s): 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED' =>
    s === 2 ? 'LOGGED_MODEL_READY' : s === 3 ? 'LOGGED_MODEL_UPLOAD_FAILED' : s,
  );

/** `POST /api/2.0/mlflow/logged-models`. */
export const createLoggedModelSchema = z.object({
  experiment_id: id,
  name: z.string().optional(),
  model_type: z.string().optional(),
  source_run_id: z.string().optional(),
  params: z.array(keyValue).optional(),
  tags: z.array(keyValue).optional(),
});
export type CreateLoggedModelRequest = z.output<typeof createLoggedModelSchema>;

/** GET / DELETE `/logged-models/{model_id}` (the id comes from the route). */
export const loggedModelIdSchema = z.object({ model_id: id });

/** `PATCH /logged-models/{model_id}`. */
export const finalizeLoggedModelSchema = z.object({ model_id: id, status: finalStatusSchema });

/** `PATCH /logged-models/{model_id}/tags`. */
export const setLoggedModelTagsSchema = z.object({ model_id: id, tags: z.array(keyValue).default([]) });

/** `POST /logged-models/{model_id}/params`: params past the first batch of a create (MLflow sends 100 per request). */
export const logLoggedModelParamsSchema = z.object({ model_id: id, params: z.array(keyValue).default([]) });

/** `DELETE /logged-models/{model_id}/tags/{tag_key}`. */
export const deleteLoggedModelTagSchema = z.object({ model_id: id, tag_key: z.string().min(1) });

/** `POST /logged-models/search`. */
export const searchLoggedModelsSchema = z
  .object({
    experiment_ids: z.array(z.string()).optional(),
    filter: z.string().optional(),
    datasets: z.array(z.object({ dataset_name: z.string(), dataset_digest: z.string().optional() })).optional(),
    max_results: int64.pipe(z.number().int().min(1).max(1000)).optional(),
    order_by: z
      .array(
        z.object({
          field_name: z.string().min(1),
          ascending: z.boolean().optional(),
          dataset_name: z.string().optional(),
          dataset_digest: z.string().optional(),
        }),
      )
      .optional(),
    page_token: z.string().optional(),
  })
  .default({});
export type SearchLoggedModelsRequest = z.output<typeof searchLoggedModelsSchema>;

export const loggedModelDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('mlflowLoggedModel'),
  schemaVersion: z.literal(1),
  experimentId: z.string(),
  name: z.string(),
  modelType: z.string().optional(),
  sourceRunId: z.string().optional(),
  status: z.enum(LOGGED_MODEL_STATUSES),
  statusMessage: z.string().optional(),
  artifactLocation: z.string(),
  /** Epoch milliseconds. */
  creationTimestampMs: z.number().int(),
  lastUpdatedTimestampMs: z.number().int(),
  /** Deleted models are kept (their artifacts stay until removed) but no longer found, as in MLflow. */
  lifecycleStage: z.enum(['active', 'deleted']),
  tags: z.array(keyValue),
  params: z.array(keyValue),
});
export type LoggedModelDocument = z.output<typeof loggedModelDocumentSchema>;

/** MLflow's LoggedModel as proto JSON. */
export interface MlflowLoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: LoggedModelStatus;
    model_type?: string;
    source_run_id?: string;
    status_message?: string;
    tags: MlflowKeyValue[];
    registrations: { name: string; version: string }[];
  };
  data: { params: MlflowKeyValue[]; metrics: MlflowMetric[] };
}
