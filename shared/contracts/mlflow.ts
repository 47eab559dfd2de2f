import { z } from 'zod';

/**
 * Request bodies and query strings of the MLflow REST API 2.0 (snake_case, as MLflow clients send
 * them). Proto3 JSON may carry int64 fields as strings, so integers accept both.
 */

export const int64 = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'an integer')]).transform(Number);
/** A metric value: a number, or "NaN" / "Infinity" / "-Infinity" as proto3 JSON writes them. */
const metricValue = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']), z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)])
  .transform(Number);
const keyValue = z.object({ key: z.string(), value: z.string() });
const id = z.string().min(1);
const viewType = z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']);
const maxResults = int64.pipe(z.number().int().min(1).max(50000));
const orderBy = z.union([z.array(z.string()), z.string().transform((s) => [s])]);

export const createExperimentSchema = z.object({
  name: z.string().min(1, 'experiment name must be a non-empty string'),
  artifact_location: z.string().optional(),
  tags: z.array(keyValue).optional(),
});

export const experimentIdSchema = z.object({ experiment_id: id });
export const experimentNameSchema = z.object({ experiment_name: z.string().min(1) });
export const updateExperimentSchema = z.object({ experiment_id: id, new_name: z.string().min(1) });

export const searchExperimentsSchema = z
  .object({
    max_results: maxResults.optional(),
    page_token: z.string().optional(),
    filter: z.string().optional(),
    order_by: orderBy.optional(),
    view_type: viewType.optional(),
  })
  .default({});

export const createRunSchema = z.object({
  experiment_id: id.optional(),
  user_id: z.string().optional(),
  run_name: z.string().optional(),
  start_time: int64.optional(),
  tags: z.array(keyValue).optional(),
});

const runRef = { run_id: z.string().optional(), run_uuid: z.string().optional() };
export const runIdSchema = z.object(runRef);

export const runStatusSchema = z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);
export const updateRunSchema = z.object({
  ...runRef,
  status: runStatusSchema.optional(),
  end_time: int64.optional(),
  run_name: z.string().optional(),
});

export const searchRunsSchema = z
  .object({
    experiment_ids: z.array(z.string()).optional(),
    filter: z.string().optional(),
    run_view_type: viewType.optional(),
    max_results: maxResults.optional(),
    order_by: orderBy.optional(),
    page_token: z.string().optional(),
  })
  .default({});

export const metricSchema = z.object({
  key: z.string(),
  value: metricValue,
  timestamp: int64,
  step: int64.optional(),
});

export const logMetricSchema = z.object({ ...runRef, ...metricSchema.shape });
export const logParamSchema = z.object({ ...runRef, key: z.string(), value: z.string() });
export const setTagSchema = z.object({ ...runRef, key: z.string(), value: z.string() });
export const deleteTagSchema = z.object({ ...runRef, key: z.string() });

export const logBatchSchema = z.object({
  ...runRef,
  metrics: z.array(metricSchema).optional(),
  params: z.array(keyValue).optional(),
  tags: z.array(keyValue).optional(),
});

export const metricHistorySchema = z.object({
  ...runRef,
  metric_key: z.string().min(1),
  max_results: maxResults.optional(),
  page_token: z.string().optional(),
});

export type CreateExperimentRequest = z.output<typeof createExperimentSchema>;
export type SearchExperimentsRequest = z.output<typeof searchExperimentsSchema>;
export type CreateRunRequest = z.output<typeof createRunSchema>;
export type UpdateRunRequest = z.output<typeof updateRunSchema>;
export type SearchRunsRequest = z.output<typeof searchRunsSchema>;
export type MetricInput = z.output<typeof metricSchema>;
export type LogBatchRequest = z.output<typeof logBatchSchema>;
export type MetricHistoryRequest = z.output<typeof metricHistorySchema>;

/** MLflow's wire shapes of what the service returns. */
export interface MlflowKeyValue {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags: MlflowKeyValue[];
}

export interface MlflowMetric {
  key: string;
  /** NaN and infinities are written as proto3 JSON strings. */
  value: number | string;
  timestamp: number;
  step: number;
}

export interface MlflowRunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

/** A dataset a run used (MLflow's DatasetInput); schema and profile are JSON text as the client sent them. */
export interface MlflowDatasetInput {
  tags: MlflowKeyValue[];
  dataset: {
    name: string;
    digest: string;
    source_type: string;
    source: string;
    schema?: string;
    profile?: string;
  };
}

/** Run inputs: empty lists are left out, as proto3 JSON writes them. */
export interface MlflowRunInputs {
  dataset_inputs?: MlflowDatasetInput[];
  model_inputs?: { model_id: string }[];
}

export interface MlflowRunOutputs {
  model_outputs?: { model_id: string; step: number }[];
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] };
  inputs: MlflowRunInputs;
  /** Present only when the run has outputs (MLflow 3 logged models), so MLflow 2 clients see what they know. */
  outputs?: MlflowRunOutputs;
}
