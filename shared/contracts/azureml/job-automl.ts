import { z } from 'zod';
import {
  assetInput,
  binding,
  byShape,
  byType,
  ciEnum,
  isRecord,
  jobOutputs,
  nodeOutputs,
  jobResources,
  literalValue,
  queueSettings,
  yamlBoolean,
  yamlCount,
  yamlInt,
  yamlNumber,
} from './common.js';
import { baseJobFields } from './job-command.js';
import { earlyTermination, samplingAlgorithm, searchDistribution } from './job-sweep.js';

/**
 * AutoML jobs: Tessera picks and tunes the model. `task` chooses the family — tabular
 * (classification, regression, forecasting), image (classification, multilabel, object detection,
 * instance segmentation) or text (classification, multilabel, NER) — and each family has its own
 * limits, featurization, training settings and, for image and text, a model search space.
 */

/** `training_data:` and friends: an MLTable input, or (in a pipeline) a binding to one. */
export const automlData = byShape([binding, assetInput], (v) => (typeof v === 'string' ? binding : assetInput));

const logVerbosity = ciEnum(['not_set', 'debug', 'info', 'warning', 'error', 'critical']);

const common = {
  type: z.literal('automl'),
  ...baseJobFields,
  log_verbosity: logVerbosity.optional(),
  target_column_name: z.string().min(1).optional(),
  training_data: automlData,
  validation_data: automlData.optional(),
  test_data: automlData.optional(),
  validation_data_size: yamlNumber.optional(),
  test_data_size: yamlNumber.optional(),
  resources: jobResources.optional(),
  queue_settings: queueSettings.optional(),
};

// ---------------------------------------------------------------------------------------------
// Tabular: classification, regression, forecasting.
// ---------------------------------------------------------------------------------------------

const CLASSIFICATION_METRICS = [
  'accuracy',
  'auc_weighted',
  'average_precision_score_weighted',
  'norm_macro_recall',
  'precision_score_weighted',
] as const;
const REGRESSION_METRICS = [
  'spearman_correlation',
  'normalized_root_mean_squared_error',
  'r2_score',
  'normalized_mean_absolute_error',
] as const;

/** `limits:` of a tabular AutoML job. */
export const tabularLimits = z.strictObject({
  enable_early_termination: yamlBoolean.optional(),
  exit_score: yamlNumber.optional(),
  max_concurrent_trials: yamlCount.optional(),
  max_cores_per_trial: yamlInt.optional(),
  max_nodes: yamlCount.optional(),
  max_trials: yamlCount.optional(),
  timeout_minutes: yamlCount.optional(),
  trial_timeout_minutes: yamlCount.optional(),
});

/** `featurization:` of a tabular AutoML job. In YAML 1.1 an unquoted `mode: off` is `false`; both mean off. */
export const tabularFeaturization = z.strictObject({
  mode: z.preprocess((v) => (v === false ? 'off' : v), ciEnum(['auto', 'off', 'custom'])).optional(),
  blocked_transformers: z.array(z.string()).optional(),
  column_name_and_types: z.record(z.string(), z.string()).optional(),
  dataset_language: z.string().optional(),
  enable_dnn_featurization: yamlBoolean.optional(),
  transformer_params: z
    .record(
      z.string(),
      z.array(
        z.strictObject({
          fields: z.array(z.string()),
          parameters: z.record(z.string(), z.union([literalValue, z.null()])).optional(),
        }),
      ),
    )
    .optional(),
});

/** `training:` of a tabular AutoML job: which algorithms, ensembles and explanations (and Tessera's `random_seed`). */
export const tabularTraining = z.strictObject({
  allowed_training_algorithms: z.array(z.string()).optional(),
  blocked_training_algorithms: z.array(z.string()).optional(),
  enable_dnn_training: yamlBoolean.optional(),
  enable_model_explainability: yamlBoolean.optional(),
  enable_onnx_compatible_models: yamlBoolean.optional(),
  enable_stack_ensemble: yamlBoolean.optional(),
  enable_vote_ensemble: yamlBoolean.optional(),
  ensemble_model_download_timeout: yamlCount.optional(),
  stack_ensemble_settings: z
    .strictObject({
      stack_meta_learner_type: z.string().optional(),
      stack_meta_learner_train_percentage: yamlNumber.optional(),
      stack_meta_learner_k_wargs: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  training_mode: ciEnum(['auto', 'distributed', 'non_distributed']).optional(),
  /**
   * Tessera extension (not in Azure ML's schema): the seed of every random choice of the job (folds,
   * trees, the proposer), so a job re-run on the same data gives the same leaderboard. Default 0.
   */
  random_seed: yamlInt.optional(),
});

const autoOrInt = z.union([z.literal('auto'), yamlInt]);

/** `forecasting:` — the time axis, horizon and lags of a forecasting job. */
export const forecastingSettings = z.strictObject({
  time_column_name: z.string().min(1),
  forecast_horizon: autoOrInt.optional(),
  time_series_id_column_names: z.union([z.string(), z.array(z.string())]).optional(),
  frequency: z.string().optional(),
  feature_lags: ciEnum(['auto', 'none']).optional(),
  country_or_region_for_holidays: z.string().optional(),
  cv_step_size: autoOrInt.optional(),
  seasonality: autoOrInt.optional(),
  short_series_handling_config: ciEnum(['auto', 'pad', 'drop', 'none']).optional(),
  target_aggregate_function: ciEnum(['sum', 'max', 'min', 'mean', 'none']).optional(),
  target_lags: z.union([z.literal('auto'), yamlInt, z.array(yamlInt)]).optional(),
  target_rolling_window_size: autoOrInt.optional(),
  use_stl: ciEnum(['season', 'season_trend', 'none']).optional(),
  features_unknown_at_forecast_time: z.union([z.string(), z.array(z.string())]).optional(),
});

const tabularCommon = {
  ...common,
  limits: tabularLimits.optional(),
  featurization: tabularFeaturization.optional(),
  training: tabularTraining.optional(),
  n_cross_validations: autoOrInt.optional(),
  cv_split_column_names: z.array(z.string()).optional(),
  weight_column_name: z.string().optional(),
};

export const classificationJob = z.strictObject({
  ...tabularCommon,
  task: z.literal('classification'),
  primary_metric: ciEnum(CLASSIFICATION_METRICS).optional(),
  positive_label: literalValue.optional(),
});
export const regressionJob = z.strictObject({
  ...tabularCommon,
  task: z.literal('regression'),
  primary_metric: ciEnum(REGRESSION_METRICS).optional(),
});
export const forecastingJob = z.strictObject({
  ...tabularCommon,
  task: z.literal('forecasting'),
  primary_metric: ciEnum(REGRESSION_METRICS).optional(),
  forecasting: forecastingSettings.optional(),
});

// ---------------------------------------------------------------------------------------------
// Sweeps over models (image and text tasks).
// ---------------------------------------------------------------------------------------------

/** `sweep:` of an image or text AutoML job. */
export const automlSweep = z.strictObject({
  sampling_algorithm: samplingAlgorithm,
  early_termination: earlyTermination.optional(),
});

const tunable = byShape([searchDistribution, literalValue], (v) => (isRecord(v) ? searchDistribution : literalValue));

/** A search space over the given training parameters: each a distribution or a fixed value. */
function modelSearchSpace(keys: readonly string[]) {
  const shape: Record<string, z.ZodOptional<typeof tunable>> = {};
  for (const key of keys) shape[key] = tunable.optional();
  return z.array(z.strictObject(shape));
}

// ---------------------------------------------------------------------------------------------
// Image tasks.
// ---------------------------------------------------------------------------------------------

const str = z.string();
const num = yamlNumber;
const int = yamlInt;
const bool = yamlBoolean;

const imageCommonParameters = {
  advanced_settings: str,
  ams_gradient: bool,
  beta1: num,
  beta2: num,
  checkpoint_frequency: int,
  checkpoint_run_id: str,
  checkpoint_model: z.unknown(),
  distributed: bool,
  early_stopping: bool,
  early_stopping_delay: int,
  early_stopping_patience: int,
  enable_onnx_normalization: bool,
  evaluation_frequency: int,
  gradient_accumulation_step: int,
  layers_to_freeze: int,
  learning_rate: num,
  learning_rate_scheduler: ciEnum(['none', 'warmup_cosine', 'step']),
  model_name: str,
  momentum: num,
  nesterov: bool,
  number_of_epochs: int,
  number_of_workers: int,
  optimizer: ciEnum(['none', 'sgd', 'adam', 'adamw']),
  random_seed: int,
  step_lr_gamma: num,
  step_lr_step_size: int,
  training_batch_size: int,
  validation_batch_size: int,
  warmup_cosine_lr_cycles: num,
  warmup_cosine_lr_warmup_epochs: int,
  weight_decay: num,
};
const imageClassificationParameters = {
  ...imageCommonParameters,
  training_crop_size: int,
  validation_crop_size: int,
  validation_resize_size: int,
  weighted_loss: int,
};
const imageDetectionParameters = {
  ...imageCommonParameters,
  box_detections_per_image: int,
  box_score_threshold: num,
  image_size: int,
  log_training_metrics: ciEnum(['enable', 'disable']),
  log_validation_loss: ciEnum(['enable', 'disable']),
  max_size: int,
  min_size: int,
  model_size: ciEnum(['none', 'small', 'medium', 'large', 'extra_large']),
  multi_scale: bool,
  nms_iou_threshold: num,
  tile_grid_size: str,
  tile_overlap_ratio: num,
  tile_predictions_nms_threshold: num,
  validation_iou_threshold: num,
  validation_metric_type: ciEnum(['none', 'coco', 'voc', 'coco_voc']),
};

function optionalShape<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  const out: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(shape)) out[k] = v.optional();
  return out as { [K in keyof T]: z.ZodOptional<T[K]> };
}

/** `limits:` of an image AutoML job. */
export const imageLimits = z.strictObject({
  max_concurrent_trials: yamlCount.optional(),
  max_trials: yamlCount.optional(),
  timeout_minutes: yamlCount.optional(),
});

function imageTask<T extends string, M extends readonly [string, ...string[]]>(
  task: T,
  metrics: M,
  parameters: Record<string, z.ZodType>,
) {
  return z.strictObject({
    ...common,
    task: z.literal(task),
    primary_metric: ciEnum(metrics).optional(),
    limits: imageLimits.optional(),
    training_parameters: z.strictObject(optionalShape(parameters)).optional(),
    search_space: modelSearchSpace(Object.keys(parameters)).optional(),
    sweep: automlSweep.optional(),
  });
}

export const imageClassificationJob = imageTask('image_classification', ['accuracy'], imageClassificationParameters);
export const imageClassificationMultilabelJob = imageTask(
  'image_classification_multilabel',
  ['iou', 'accuracy'],
  imageClassificationParameters,
);
export const imageObjectDetectionJob = imageTask(
  'image_object_detection',
  ['mean_average_precision'],
  imageDetectionParameters,
);
export const imageInstanceSegmentationJob = imageTask(
  'image_instance_segmentation',
  ['mean_average_precision'],
  imageDetectionParameters,
);

// ---------------------------------------------------------------------------------------------
// Text tasks.
// ---------------------------------------------------------------------------------------------

const nlpParameters = {
  gradient_accumulation_steps: int,
  learning_rate: num,
  learning_rate_scheduler: ciEnum([
    'none',
    'linear',
    'cosine',
    'cosine_with_restarts',
    'polynomial',
    'constant',
    'constant_with_warmup',
  ]),
  model_name: str,
  number_of_epochs: int,
  training_batch_size: int,
  validation_batch_size: int,
  warmup_ratio: num,
  weight_decay: num,
};

/** `limits:` of a text AutoML job. */
export const nlpLimits = z.strictObject({
  max_concurrent_trials: yamlCount.optional(),
  max_nodes: yamlCount.optional(),
  max_trials: yamlCount.optional(),
  timeout_minutes: yamlCount.optional(),
  trial_timeout_minutes: yamlCount.optional(),
});

function nlpTask<T extends string, M extends readonly [string, ...string[]]>(task: T, metrics: M) {
  return z.strictObject({
    ...common,
    task: z.literal(task),
    primary_metric: ciEnum(metrics).optional(),
    limits: nlpLimits.optional(),
    featurization: z.strictObject({ dataset_language: z.string().optional() }).optional(),
    training_parameters: z.strictObject(optionalShape(nlpParameters)).optional(),
    search_space: modelSearchSpace(Object.keys(nlpParameters)).optional(),
    sweep: automlSweep.optional(),
  });
}

export const textClassificationJob = nlpTask('text_classification', CLASSIFICATION_METRICS);
export const textClassificationMultilabelJob = nlpTask('text_classification_multilabel', ['accuracy']);
export const textNerJob = nlpTask('text_ner', ['accuracy']);

const TASKS = {
  classification: classificationJob,
  regression: regressionJob,
  forecasting: forecastingJob,
  image_classification: imageClassificationJob,
  image_classification_multilabel: imageClassificationMultilabelJob,
  image_object_detection: imageObjectDetectionJob,
  image_instance_segmentation: imageInstanceSegmentationJob,
  text_classification: textClassificationJob,
  text_classification_multilabel: textClassificationMultilabelJob,
  text_ner: textNerJob,
};

/** The AutoML union with the given `outputs:` schema (jobs write outputs; pipeline nodes may bind them). */
function automlUnion<O extends z.ZodType>(outputs: O) {
  const withOutputs = <S extends z.ZodObject>(schema: S) => schema.extend({ outputs: outputs.optional() });
  return byType(
    {
      classification: withOutputs(TASKS.classification),
      regression: withOutputs(TASKS.regression),
      forecasting: withOutputs(TASKS.forecasting),
      image_classification: withOutputs(TASKS.image_classification),
      image_classification_multilabel: withOutputs(TASKS.image_classification_multilabel),
      image_object_detection: withOutputs(TASKS.image_object_detection),
      image_instance_segmentation: withOutputs(TASKS.image_instance_segmentation),
      text_classification: withOutputs(TASKS.text_classification),
      text_classification_multilabel: withOutputs(TASKS.text_classification_multilabel),
      text_ner: withOutputs(TASKS.text_ner),
    },
    { key: 'task' },
  );
}

/** An AutoML job of any task, chosen by `task`. */
export const automlJobSchema = automlUnion(jobOutputs);
export type AutomlJobSpec = z.output<typeof automlJobSchema>;

/** An AutoML node of a pipeline: as a job, but outputs may bind to the pipeline's outputs. */
export const automlNodeSchema = automlUnion(nodeOutputs);
export type AutomlNodeSpec = z.output<typeof automlNodeSchema>;
