/**
 * An Azure ML `type: automl` tabular spec (shared/contracts/azureml/job-automl.ts, already parsed)
 * → AutomlSettings: Azure's defaults filled in, the algorithm lists resolved against Tessera's
 * registry (algorithms.ts), and every setting Tessera accepts but does not act on written down as a
 * notice. A problem is a ValidationError whose `target` is the YAML key path and whose message says
 * what was found and what to write instead.
 */
import type { z } from 'zod';
import type {
  AutomlJobSpec,
  classificationJob,
  forecastingJob,
  regressionJob,
} from '../../contracts/azureml/job-automl.js';
import { QUEUE_SETTINGS_NOTICE } from '../../contracts/azureml/common.js';
import { ValidationError } from '../../errors.js';
import { PRIMARY_METRICS } from '../metrics.js';
import type { MetricName } from '../metrics.js';
import type { Task } from '../types.js';
import { ALGORITHMS, FORECASTING_ALGORITHMS, UNIMPLEMENTED_ALGORITHMS, algorithmKey } from './algorithms.js';
import { HOLIDAY_COUNTRIES, holidayCountry } from '../forecast/holidays.js';
import { META_LEARNER_KWARGS, META_LEARNER_TYPES } from './ensemble.js';
import type { AutomlSettings, ForecastSettings, MetaLearnerSpec } from './types.js';

/** Azure ML's default of `limits.max_trials`. */
export const DEFAULT_MAX_TRIALS = 1000;
/** Tessera's default of `limits.max_concurrent_trials` (Azure's is 1; trials here are small processes). */
export const DEFAULT_MAX_CONCURRENT_TRIALS = 2;
/** The seed when `training.random_seed` (a Tessera extension) is not set. */
export const DEFAULT_SEED = 0;

export interface ResolveSettingsOptions {
  /** max_concurrent_trials when the spec leaves it out (default 2). */
  defaultConcurrency?: number;
}

/** A tabular AutoML spec as its contract parses it (automlJobSchema picks the branch by `task`). */
export type TabularAutomlSpec =
  z.output<typeof classificationJob> | z.output<typeof regressionJob> | z.output<typeof forecastingJob>;
type TabularSpec = TabularAutomlSpec;

/**
 * Resolves a parsed `type: automl` spec. `spec` is the output of automlJobSchema (whose static
 * type is a plain record) or of one tabular branch; image and text tasks are a ValidationError.
 */
export function resolveAutomlSettings(
  parsed: AutomlJobSpec | TabularAutomlSpec,
  options: ResolveSettingsOptions = {},
): AutomlSettings {
  const kind = parsed['task'];
  if (kind !== 'classification' && kind !== 'regression' && kind !== 'forecasting') {
    throw new ValidationError(
      `task: AutoML task '${String(kind)}' is not supported yet; Tessera runs classification, regression and forecasting.`,
      { target: 'task' },
    );
  }
  // automlJobSchema parsed the branch named by `task`, so the record has that branch's shape.
  const spec = parsed as TabularSpec;
  const task: Task = spec.task;
  const notices: string[] = [];

  const targetColumn = spec.target_column_name;
  if (targetColumn === undefined || targetColumn.trim() === '') {
    throw new ValidationError(
      'target_column_name is required for a tabular AutoML job: name the column of training_data to predict.',
      { target: 'target_column_name' },
    );
  }

  const limits = spec.limits ?? {};
  const training = spec.training ?? {};

  const maxTrials = limits.max_trials ?? DEFAULT_MAX_TRIALS;
  if (maxTrials < 1) {
    throw new ValidationError(`limits.max_trials must be at least 1; got ${maxTrials}.`, {
      target: 'limits.max_trials',
    });
  }
  const maxConcurrentTrials =
    limits.max_concurrent_trials ?? options.defaultConcurrency ?? DEFAULT_MAX_CONCURRENT_TRIALS;
  if (maxConcurrentTrials < 1) {
    throw new ValidationError(`limits.max_concurrent_trials must be at least 1; got ${maxConcurrentTrials}.`, {
      target: 'limits.max_concurrent_trials',
    });
  }
  const timeoutMinutes = limits.timeout_minutes;
  if (timeoutMinutes !== undefined && timeoutMinutes < 1) {
    throw new ValidationError(`limits.timeout_minutes must be at least 1; got ${timeoutMinutes}.`, {
      target: 'limits.timeout_minutes',
    });
  }
  const trialTimeoutMinutes = limits.trial_timeout_minutes;
  if (trialTimeoutMinutes !== undefined && trialTimeoutMinutes < 1) {
    throw new ValidationError(`limits.trial_timeout_minutes must be at least 1; got ${trialTimeoutMinutes}.`, {
      target: 'limits.trial_timeout_minutes',
    });
  }
  const cores = limits.max_cores_per_trial;
  if (cores !== undefined && cores !== -1 && cores < 1) {
    throw new ValidationError(
      `limits.max_cores_per_trial must be -1 (every core) or a number of threads of at least 1; got ${cores}.`,
      { target: 'limits.max_cores_per_trial' },
    );
  }
  if (limits.max_nodes !== undefined) notices.push('limits.max_nodes has no effect: trials are not distributed.');
  if (spec.resources !== undefined) {
    notices.push(
      "resources has no effect: the trials run on the job's compute, limits.max_concurrent_trials at a time.",
    );
  }
  if (spec.queue_settings !== undefined) notices.push(QUEUE_SETTINGS_NOTICE);
  if (spec.log_verbosity !== undefined) {
    notices.push("log_verbosity has no effect: the job's log lists every trial as it ends, at any verbosity.");
  }

  const seed = training.random_seed ?? DEFAULT_SEED;
  if (seed < 0 || seed > 0xffffffff) {
    throw new ValidationError(`training.random_seed must be an integer from 0 to 4294967295; got ${seed}.`, {
      target: 'training.random_seed',
    });
  }
  if (training.enable_dnn_training === true)
    notices.push('training.enable_dnn_training has no effect: Tessera has no DNN models.');
  if (training.enable_onnx_compatible_models !== undefined)
    notices.push('training.enable_onnx_compatible_models has no effect: every Tessera model exports to ONNX.');
  if (training.training_mode !== undefined)
    notices.push('training.training_mode has no effect: trials are not distributed.');
  if (training.ensemble_model_download_timeout !== undefined)
    notices.push('training.ensemble_model_download_timeout has no effect.');
  const explain = training.enable_model_explainability;
  if (task === 'forecasting' && explain === true) {
    notices.push(
      'training.enable_model_explainability has no effect for forecasting: Tessera explains tabular models only (permutation importance of their columns).',
    );
  }
  const stackMetaLearner = metaLearner(task, training.stack_ensemble_settings, notices);

  const testDataSize = testSplit(spec);

  const featurization = spec.featurization;
  const settings: AutomlSettings = {
    task,
    targetColumn,
    primaryMetric: primaryMetric(task, spec.primary_metric),
    validation: validationPlan(spec),
    algorithms: resolveAlgorithms(
      task,
      training.allowed_training_algorithms,
      training.blocked_training_algorithms,
      notices,
    ),
    enableVoteEnsemble: training.enable_vote_ensemble ?? true,
    enableStackEnsemble: training.enable_stack_ensemble ?? task !== 'forecasting',
    maxTrials,
    maxConcurrentTrials,
    earlyTermination: limits.enable_early_termination ?? true,
    seed,
    notices,
  };
  if ((training.allowed_training_algorithms ?? []).length > 0) {
    const byKey = new Map(settings.algorithms.map((n) => [algorithmKey(n), n]));
    settings.allowedAlgorithms = [
      ...new Set((training.allowed_training_algorithms ?? []).flatMap((raw) => byKey.get(algorithmKey(raw)) ?? [])),
    ];
  }
  if (spec.weight_column_name !== undefined) {
    if (spec.weight_column_name === targetColumn) {
      throw new ValidationError(
        `weight_column_name '${spec.weight_column_name}' is the target column; name a column of sample weights.`,
        { target: 'weight_column_name' },
      );
    }
    settings.weightColumn = spec.weight_column_name;
  }
  if (featurization !== undefined) settings.featurization = featurization;
  if (limits.exit_score !== undefined) settings.exitScore = limits.exit_score;
  if (timeoutMinutes !== undefined) settings.timeoutSeconds = timeoutMinutes * 60;
  if (trialTimeoutMinutes !== undefined) settings.trialTimeoutSeconds = trialTimeoutMinutes * 60;
  if (testDataSize !== undefined) settings.testDataSize = testDataSize;
  if (cores !== undefined) settings.coresPerTrial = cores;
  if (explain !== undefined) settings.explainBestModel = explain;
  if (stackMetaLearner !== undefined) {
    settings.stackMetaLearner = stackMetaLearner;
    if (!settings.enableStackEnsemble) {
      notices.push('training.stack_ensemble_settings has no effect: training.enable_stack_ensemble is false.');
    }
  }
  if (spec.task === 'classification' && spec.positive_label !== undefined && spec.positive_label !== null) {
    settings.positiveLabel = String(spec.positive_label);
  }
  if (spec.task === 'forecasting') {
    settings.forecasting = forecastSettings(spec, notices);
  }
  return settings;
}

/** Azure's primary metric names are case-insensitive in YAML (the contract lowercases them). */
function primaryMetric(task: Task, given: string | undefined): MetricName {
  const allowed = PRIMARY_METRICS[task];
  if (given === undefined) return task === 'classification' ? 'accuracy' : 'normalized_root_mean_squared_error';
  const found = allowed.find((m) => m.toLowerCase() === given.toLowerCase());
  if (found === undefined) {
    throw new ValidationError(`primary_metric '${given}' is not a ${task} metric; use one of ${allowed.join(', ')}.`, {
      target: 'primary_metric',
    });
  }
  return found;
}

/**
 * training.stack_ensemble_settings: the meta-learner by Azure's name (any case) and its k_wargs,
 * checked against what that learner takes. Forecasting has no stack ensemble.
 */
function metaLearner(
  task: Task,
  given: NonNullable<TabularSpec['training']>['stack_ensemble_settings'],
  notices: string[],
): MetaLearnerSpec | undefined {
  if (given === undefined) return undefined;
  const key = 'training.stack_ensemble_settings';
  if (given.stack_meta_learner_train_percentage !== undefined) {
    notices.push(
      `${key}.stack_meta_learner_train_percentage has no effect: the meta-learner trains on the members' out-of-fold predictions, so no training rows are set aside for it.`,
    );
  }
  const type = given.stack_meta_learner_type;
  const kwargs = given.stack_meta_learner_k_wargs ?? {};
  if (type === undefined || type.toLowerCase() === 'none') {
    if (Object.keys(kwargs).length > 0) {
      throw new ValidationError(`${key}.stack_meta_learner_k_wargs needs a stack_meta_learner_type to apply to.`, {
        target: `${key}.stack_meta_learner_type`,
      });
    }
    return undefined;
  }
  if (task === 'forecasting') {
    throw new ValidationError(`${key}: forecasting jobs have no stack ensemble; remove stack_ensemble_settings.`, {
      target: key,
    });
  }
  const types = META_LEARNER_TYPES[task];
  const name = Object.keys(types).find((t) => t.toLowerCase() === type.toLowerCase());
  if (name === undefined) {
    throw new ValidationError(
      `${key}.stack_meta_learner_type '${type}' is not a ${task} meta-learner; use one of ${Object.keys(types).join(', ')}.`,
      { target: `${key}.stack_meta_learner_type` },
    );
  }
  const accepted = META_LEARNER_KWARGS[(types[name] as { kind: keyof typeof META_LEARNER_KWARGS }).kind];
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    const range = accepted[k];
    const target = `${key}.stack_meta_learner_k_wargs.${k}`;
    if (range === undefined) {
      const list = Object.keys(accepted);
      throw new ValidationError(
        `${target}: ${name} takes ${list.length === 0 ? 'no k_wargs' : `only ${list.join(', ')}`} in Tessera.`,
        { target },
      );
    }
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < range.min ||
      v > range.max ||
      (range.integer === true && !Number.isInteger(v))
    ) {
      const low = range.min === Number.MIN_VALUE ? 'above 0' : `at least ${range.min}`;
      const high = range.max === Number.MAX_VALUE ? '' : ` and at most ${range.max}`;
      throw new ValidationError(
        `${target} must be ${range.integer === true ? 'an integer' : 'a number'} ${low}${high}; got ${JSON.stringify(v)}.`,
        { target },
      );
    }
    params[k] = v;
  }
  return { type: name, params };
}

/**
 * test_data_size: the fraction of training_data held out as test data before anything else (Azure:
 * stratified for classification, random for regression; not for forecasting, whose models are
 * scored by backtests). Not with test_data, which is the other way to give test rows.
 */
function testSplit(spec: TabularSpec): number | undefined {
  const size = spec.test_data_size;
  if (size === undefined) return undefined;
  if (spec.task === 'forecasting') {
    throw new ValidationError(
      'test_data_size is not supported for forecasting: forecasting models are scored by rolling-origin backtests on training_data. Remove test_data_size.',
      { target: 'test_data_size' },
    );
  }
  if (spec.test_data !== undefined) {
    throw new ValidationError(
      'test_data and test_data_size cannot both be set: test_data_size holds out part of training_data when there is no test_data.',
      { target: 'test_data_size' },
    );
  }
  if (!(size > 0 && size < 1)) {
    throw new ValidationError(`test_data_size must be a fraction between 0 and 1 (e.g. 0.1); got ${size}.`, {
      target: 'test_data_size',
    });
  }
  return size;
}

function validationPlan(spec: TabularSpec): AutomlSettings['validation'] {
  const folds = spec.n_cross_validations;
  const size = spec.validation_data_size;
  const data = spec.validation_data !== undefined;
  if (spec.cv_split_column_names !== undefined) return splitColumns(spec);
  if (data && folds !== undefined) {
    throw new ValidationError(
      'validation_data and n_cross_validations cannot both be set: give validation_data to score on it, or n_cross_validations to cross-validate the training data.',
      { target: 'n_cross_validations' },
    );
  }
  if (data && size !== undefined) {
    throw new ValidationError(
      'validation_data and validation_data_size cannot both be set: validation_data_size splits the training data when there is no validation_data.',
      { target: 'validation_data_size' },
    );
  }
  if (folds !== undefined && folds !== 'auto' && size !== undefined) {
    throw new ValidationError(
      'n_cross_validations and validation_data_size cannot both be set; choose cross-validation or one train/validation split.',
      { target: 'validation_data_size' },
    );
  }
  if (data) return { kind: 'data' };
  if (size !== undefined) {
    if (!(size > 0 && size < 1)) {
      throw new ValidationError(`validation_data_size must be a fraction between 0 and 1 (e.g. 0.2); got ${size}.`, {
        target: 'validation_data_size',
      });
    }
    return { kind: 'split', size };
  }
  if (folds === undefined || folds === 'auto') return { kind: 'auto' };
  if (folds < 2) {
    throw new ValidationError(`n_cross_validations must be 'auto' or an integer of at least 2; got ${folds}.`, {
      target: 'n_cross_validations',
    });
  }
  return { kind: 'cv', folds };
}

/**
 * cv_split_column_names: the user's folds, one per column of training_data (1: a training row of
 * that fold, 0: a validation row), instead of the folds Tessera draws; dataset.ts checks the values.
 */
function splitColumns(spec: TabularSpec): AutomlSettings['validation'] {
  const columns = spec.cv_split_column_names ?? [];
  const target = 'cv_split_column_names';
  if (spec.task === 'forecasting') {
    throw new ValidationError(
      'cv_split_column_names is not supported for forecasting: trials are scored by rolling-origin backtests (n_cross_validations, cv_step_size).',
      { target },
    );
  }
  const other =
    spec.validation_data !== undefined
      ? 'validation_data'
      : spec.validation_data_size !== undefined
        ? 'validation_data_size'
        : spec.n_cross_validations !== undefined && spec.n_cross_validations !== 'auto'
          ? 'n_cross_validations'
          : undefined;
  if (other !== undefined) {
    throw new ValidationError(
      `cv_split_column_names and ${other} cannot both be set: the split columns are the folds. Remove one of them.`,
      { target },
    );
  }
  if (columns.length === 0) {
    throw new ValidationError('cv_split_column_names is empty: name one column of training_data per fold.', {
      target,
    });
  }
  const seen = new Set<string>();
  for (const [i, name] of columns.entries()) {
    if (name.trim() === '') throw new ValidationError(`cv_split_column_names[${i}] is empty.`, { target });
    if (seen.has(name)) throw new ValidationError(`cv_split_column_names names '${name}' twice.`, { target });
    seen.add(name);
    const role =
      name === spec.target_column_name
        ? 'target_column_name'
        : name === spec.weight_column_name
          ? 'weight_column_name'
          : '';
    if (role !== '') {
      throw new ValidationError(`cv_split_column_names[${i}] '${name}' is the ${role}; name a column of 0s and 1s.`, {
        target,
      });
    }
  }
  return { kind: 'columns', columns: [...columns] };
}

/** allowed/blocked by Azure name → the names trials may use, in registry (cheap-first) order. */
function resolveAlgorithms(
  task: Task,
  allowed: readonly string[] | undefined,
  blocked: readonly string[] | undefined,
  notices: string[],
): string[] {
  const implemented =
    task === 'forecasting'
      ? FORECASTING_ALGORITHMS.map((name) => ({ name, extension: false, maxRows: undefined }))
      : ALGORITHMS[task];
  const byKey = new Map(implemented.map((a) => [algorithmKey(a.name), a.name]));
  const missing = new Map(UNIMPLEMENTED_ALGORITHMS[task].map((n) => [algorithmKey(n), n]));
  const available = implemented.map((a) => a.name).join(', ');

  let chosen: string[];
  if (allowed !== undefined && allowed.length > 0) {
    const names = new Set<string>();
    allowed.forEach((raw, i) => {
      const target = `training.allowed_training_algorithms[${i}]`;
      const name = byKey.get(algorithmKey(raw));
      if (name !== undefined) {
        names.add(name);
        return;
      }
      const azure = missing.get(algorithmKey(raw));
      throw new ValidationError(
        azure !== undefined
          ? `${target}: Azure ML's ${azure} is not implemented in Tessera; the ${task} algorithms available are ${available}.`
          : `${target}: '${raw}' is not a ${task} algorithm; the ones available are ${available}.`,
        { target },
      );
    });
    chosen = implemented.filter((a) => names.has(a.name)).map((a) => a.name);
  } else {
    chosen = implemented.filter((a) => a.extension !== true).map((a) => a.name);
  }

  const drop = new Set<string>();
  (blocked ?? []).forEach((raw, i) => {
    const name = byKey.get(algorithmKey(raw));
    if (name !== undefined) {
      drop.add(name);
      return;
    }
    const azure = missing.get(algorithmKey(raw));
    notices.push(
      azure !== undefined
        ? `training.blocked_training_algorithms[${i}]: ${azure} is not implemented in Tessera, so it never runs anyway.`
        : `training.blocked_training_algorithms[${i}]: '${raw}' is not a ${task} algorithm Tessera knows; ignored.`,
    );
  });
  const result = chosen.filter((n) => !drop.has(n));
  if (result.length === 0) {
    throw new ValidationError(
      `training: every ${task} algorithm is blocked or not allowed, so no trial can run; the algorithms available are ${available}.`,
      { target: 'training.blocked_training_algorithms' },
    );
  }
  return result;
}

function forecastSettings(spec: Extract<TabularSpec, { task: 'forecasting' }>, notices: string[]): ForecastSettings {
  const f = spec.forecasting;
  if (f === undefined) {
    throw new ValidationError(
      'forecasting.time_column_name is required for a forecasting job: add a forecasting: block naming the time column.',
      { target: 'forecasting.time_column_name' },
    );
  }
  const horizon = f.forecast_horizon ?? 1;
  if (horizon !== 'auto' && horizon < 1) {
    throw new ValidationError(`forecasting.forecast_horizon must be 'auto' or a positive integer; got ${horizon}.`, {
      target: 'forecasting.forecast_horizon',
    });
  }
  const ids = f.time_series_id_column_names;
  const seriesIdColumns = ids === undefined ? [] : typeof ids === 'string' ? [ids] : [...ids];

  // Unset lags and window are chosen by the proposer ('auto'): Azure's default (no lags) would leave
  // the learners on lag features nothing to learn from.
  let targetLags: ForecastSettings['targetLags'] = 'auto';
  const lags = f.target_lags;
  if (lags !== undefined) {
    const list: number[] | 'auto' = lags === 'auto' ? 'auto' : typeof lags === 'number' ? [lags] : lags;
    if (list !== 'auto' && list.some((l) => l < 1)) {
      throw new ValidationError(
        `forecasting.target_lags must be 'auto' or positive integers; got ${JSON.stringify(lags)}.`,
        {
          target: 'forecasting.target_lags',
        },
      );
    }
    targetLags = list === 'auto' ? 'auto' : [...new Set(list)].sort((a, b) => a - b);
  }
  const window = f.target_rolling_window_size;
  if (window !== undefined && window !== 'auto' && window < 2) {
    throw new ValidationError(
      `forecasting.target_rolling_window_size must be 'auto' or an integer of at least 2; got ${window}.`,
      { target: 'forecasting.target_rolling_window_size' },
    );
  }
  const seasonality = f.seasonality ?? 'auto';
  if (seasonality !== 'auto' && seasonality < 1) {
    throw new ValidationError(`forecasting.seasonality must be 'auto' or a positive integer; got ${seasonality}.`, {
      target: 'forecasting.seasonality',
    });
  }
  const step = f.cv_step_size;
  if (step !== undefined && step !== 'auto' && step < 1) {
    throw new ValidationError(
      `forecasting.cv_step_size must be 'auto' or a positive integer (periods between backtest origins); got ${step}.`,
      { target: 'forecasting.cv_step_size' },
    );
  }
  const aggregate = f.target_aggregate_function;
  if (aggregate !== undefined && aggregate !== 'none' && f.frequency === undefined) {
    throw new ValidationError(
      `forecasting.target_aggregate_function: ${aggregate} needs forecasting.frequency, the period to aggregate ` +
        'the rows into (for example D, W or MS).',
      { target: 'forecasting.target_aggregate_function' },
    );
  }
  const country = f.country_or_region_for_holidays;
  let holidays: ForecastSettings['holidays'];
  if (country !== undefined && country !== null) {
    const code = holidayCountry(String(country));
    if (code === undefined) {
      throw new ValidationError(
        `forecasting.country_or_region_for_holidays: Tessera has no holiday calendar for '${String(country)}'; ` +
          `it has ${HOLIDAY_COUNTRIES.join(', ')} (ISO 3166 codes). Remove the setting to forecast without holidays.`,
        { target: 'forecasting.country_or_region_for_holidays' },
      );
    }
    holidays = code;
  }
  const ignored = ['feature_lags', 'use_stl', 'features_unknown_at_forecast_time'] as const;
  for (const key of ignored) {
    if (f[key] !== undefined) notices.push(`forecasting.${key} has no effect yet.`);
  }
  const out: ForecastSettings = {
    timeColumn: f.time_column_name,
    horizon,
    seriesIdColumns,
    targetLags,
    rollingWindow: window ?? 'auto',
    seasonality,
  };
  if (f.frequency !== undefined) out.frequency = f.frequency;
  if (step !== undefined && step !== 'auto') out.cvStepSize = step;
  if (f.short_series_handling_config !== undefined) out.shortSeries = f.short_series_handling_config;
  if (aggregate !== undefined && aggregate !== 'none') out.targetAggregate = aggregate;
  if (holidays !== undefined) out.holidays = holidays;
  return out;
}
