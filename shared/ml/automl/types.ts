/**
 * The vocabulary of AutoML (see ARCHITECTURE.md in this folder): settings resolved from an Azure ML
 * `type: automl` spec, the prepared dataset every trial of a job reads, trial configurations, fitted
 * pipelines (one featurizer in front of one model or an ensemble) and the manifest that travels
 * with a pipeline's ONNX file.
 */
import type { HolidayCountry } from '../forecast/holidays.js';
import type { Featurizer, FeaturizationPlan } from '../featurize/featurizer.js';
import type { FeaturizationSpec } from '../featurize/settings.js';
import type { MetricName } from '../metrics.js';
import type { FittedModel, Table, Task } from '../types.js';
import type { Split } from '../validation.js';

export type TabularTask = 'classification' | 'regression';
export type ParamValue = number | string | boolean;

/** What one trial trains: an algorithm by its Azure ML name, and its hyperparameters. */
export interface TrialConfig {
  algorithm: string;
  params: Record<string, ParamValue>;
}

export interface ForecastSettings {
  timeColumn: string;
  horizon: number | 'auto';
  seriesIdColumns: string[];
  /** A pandas alias (`MS`, `D`, `QS`, ...); undefined: inferred. */
  frequency?: string;
  targetLags: number[] | 'auto' | 'none';
  rollingWindow: number | 'auto' | 'none';
  seasonality: number | 'auto';
  /** cv_step_size: periods between consecutive backtest origins; unset ('auto'): the horizon. */
  cvStepSize?: number;
  /**
   * short_series_handling_config: what a series too short for the horizon and backtests gets.
   * 'drop' leaves it out; 'auto' (unset) drops short series when some series are long enough;
   * under 'none' a short series is an error; 'pad' is refused when a series is short, as padding
   * would invent history (forecast-data.ts handleShortSeries).
   */
  shortSeries?: 'auto' | 'pad' | 'drop' | 'none';
  /**
   * target_aggregate_function: rows are grouped into the periods of `frequency` (which must be set)
   * and the target of each period is this function of its rows; unset ('none'): one row per period.
   */
  targetAggregate?: 'sum' | 'max' | 'min' | 'mean';
  /**
   * country_or_region_for_holidays: the regression learners get a feature marking that country's
   * public holidays (shared/ml/forecast/holidays.ts), at frequencies of a day or shorter.
   */
  holidays?: HolidayCountry;
}

/** A `type: automl` tabular spec, checked and resolved (shared/ml/automl/settings.ts). */
export interface AutomlSettings {
  task: Task;
  targetColumn: string;
  primaryMetric: MetricName;
  weightColumn?: string;
  featurization?: FeaturizationSpec;
  /**
   * How trials are scored: k-fold CV, a train/validation split of the training data, the job's
   * validation_data, the user's folds (cv_split_column_names), or Azure's default by row count
   * (validation.ts defaultValidationPlan).
   */
  validation:
    | { kind: 'auto' }
    | { kind: 'cv'; folds: number }
    | { kind: 'split'; size: number }
    | { kind: 'data' }
    /** cv_split_column_names: one fold per column of the training data, 1 = train, 0 = validation. */
    | { kind: 'columns'; columns: string[] };
  /** The Azure ML algorithm names trials may use, after allowed/blocked, in the order to try them. */
  algorithms: string[];
  /**
   * The names `allowed_training_algorithms` gave (resolved to Azure's spelling): these run even
   * where a size gate (algorithms.ts maxRows, e.g. KNN above 50,000 rows) would leave them out.
   */
  allowedAlgorithms?: string[];
  enableVoteEnsemble: boolean;
  enableStackEnsemble: boolean;
  maxTrials: number;
  maxConcurrentTrials: number;
  earlyTermination: boolean;
  exitScore?: number;
  timeoutSeconds?: number;
  trialTimeoutSeconds?: number;
  /**
   * training.enable_model_explainability: false leaves out the best model's explanation (and its
   * holdout metrics). Absent or true: the job explains it, as before the setting was read.
   */
  explainBestModel?: boolean;
  /** training.stack_ensemble_settings: the stack's meta-learner (ensemble.ts META_LEARNER_TYPES). */
  stackMetaLearner?: MetaLearnerSpec;
  /**
   * limits.max_cores_per_trial: threads a boosting trial builds its histograms with (-1: every core
   * of the machine; unset: one). The model is the same for any count (models/gbm.ts `threads`).
   */
  coresPerTrial?: number;
  /** test_data_size: the fraction of the training rows held out as test data (dataset.ts). */
  testDataSize?: number;
  /** Classification: the class whose metrics binary averages report. */
  positiveLabel?: string;
  forecasting?: ForecastSettings;
  seed: number;
  /** What was accepted but has no effect here, for the job's notices. */
  notices: string[];
}

/** Azure's stack_meta_learner_type (one of ensemble.ts META_LEARNER_TYPES) and its k_wargs by Azure's names. */
export interface MetaLearnerSpec {
  type: string;
  params: Record<string, number>;
}

/**
 * The training data of a tabular job after setup (dataset.ts prepareDataset): the feature table,
 * the target, the weights, and the folds every trial scores on. Stored once by the setup step
 * (snapshot.ts) and read by every trial.
 */
export interface PreparedDataset {
  task: TabularTask;
  settings: AutomlSettings;
  /** Training rows without the target and weight columns (validation_data rows appended last). */
  features: Table;
  /** Regression: numbers; classification: labels as strings. */
  y: Float64Array | string[];
  weights?: Float64Array;
  /** Classification: the labels in class-labels.ts compareLabels order (the probability columns). */
  classes?: string[];
  /** CV folds, or one train/validation split, over the rows of `features`. */
  folds: Split[];
  /** The job's test_data (or the rows test_data_size held out), scored by the final model only. */
  test?: { features: Table; y: Float64Array | string[] };
  /** Range of the training target, for Azure's normalized regression metrics. */
  yMin?: number;
  yMax?: number;
  /** The featurization decided on the full training rows (what `tessera job show` prints). */
  featurization: FeaturizationPlan;
  notices: string[];
}

/**
 * The model part of a pipeline. Every member reads the same features (one featurizer: its fit is
 * deterministic on the training rows, so every trial of a job has the same one).
 */
export type PipelineHead =
  | { kind: 'single'; config: TrialConfig; model: FittedModel }
  | { kind: 'vote'; members: { config: TrialConfig; model: FittedModel; weight: number }[] }
  | {
      kind: 'stack';
      members: { config: TrialConfig; model: FittedModel }[];
      /** Reads the members' outputs side by side: class probabilities (classification) or predictions. */
      meta: FittedModel;
      metaConfig: TrialConfig;
    };

export interface FittedPipeline {
  task: TabularTask;
  featurizer: Featurizer;
  head: PipelineHead;
  classes?: readonly string[];
}

/** A pipeline's predictions on a table: regression values, or class probabilities [rows, classes]. */
export interface PipelinePrediction {
  prediction?: Float64Array;
  probabilities?: Float64Array;
}

/** One graph input of an exported pipeline: a raw column and how it travels (featurize/onnx-io.ts). */
export interface ManifestInput {
  column: string;
  kind: 'numeric' | 'categorical' | 'datetime' | 'text';
  /** The ONNX input's name and element type; text columns travel as tokens (string [N, T]). */
  onnxName: string;
  onnxType: 'float' | 'double' | 'string';
  encoding: 'float32' | 'epoch-ms' | 'string' | 'tokens';
}

/** manifest.json beside model.onnx: what a scorer needs to call the graph and read its outputs. */
export interface ModelManifest {
  format: 'tessera.automl.v1';
  task: Task;
  target: string;
  algorithm: string;
  params: Record<string, ParamValue>;
  /**
   * How many models, each fitted on the training rows of one fold, the model averages (a fold
   * bag: automl/trial.ts); absent for one model fitted on every training row.
   */
  foldModels?: number;
  members?: { algorithm: string; params: Record<string, ParamValue>; weight?: number; foldModels?: number }[];
  primaryMetric: MetricName;
  /** The primary metric's validation score (CV mean or holdout). */
  score?: number;
  inputs: ManifestInput[];
  /** Graph output names: regression `prediction` float [N,1]; classification `label` string [N] and `probabilities` float [N, classes]. */
  outputs: { prediction?: string; label?: string; probabilities?: string };
  classes?: string[];
  featurization: FeaturizationPlan;
  trainingRows: number;
  /** Forecasting models: how rows map to forecasts (forecast-onnx.ts). */
  forecast?: ForecastManifest;
}

/** What a forecasting graph answers: the row's series and period, after the training data. */
export interface ForecastManifest {
  timeColumn: string;
  seriesIdColumns: string[];
  /** The grid's pandas alias (MS, QS, D, ...). */
  frequency: string;
  /** forecast_horizon; the graph answers any step up to maxSteps. */
  horizon: number;
  /** Per series: its ids and the last training period (ISO 8601); forecasts start one period later. */
  series: { ids: string[]; lastTime: string }[];
  maxSteps: number;
}

/** A trial's history entry, as the proposer sees it. */
export interface TrialRecord {
  config: TrialConfig;
  /** The primary metric; undefined if the trial failed or was canceled. */
  score?: number;
  seconds?: number;
}

export type { Task, Table };

/**
 * What the setup step writes beside the prepared data: the notices of reading and checking it (a
 * JSON array of strings), which the job adds to its own notices.
 */
export const SETUP_NOTICES_FILE = 'notices.json';
