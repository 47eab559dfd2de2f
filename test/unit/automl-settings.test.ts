// resolveAutomlSettings: Azure's defaults, the algorithm lists by Azure name, and a ValidationError
// naming the YAML key for each bad setting. Specs go through the real contract (automlJobSchema).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { automlJobSchema } from '../../shared/contracts/azureml/job-automl.js';
import { ALGORITHMS } from '../../shared/ml/automl/algorithms.js';
import { resolveAutomlSettings } from '../../shared/ml/automl/settings.js';
import { assertInvalid } from './app-error-assertions.js';

const base = {
  type: 'automl',
  training_data: { type: 'mltable', path: './train' },
  target_column_name: 'y',
};

function resolve(extra: Record<string, unknown>, options?: { defaultConcurrency?: number }) {
  return resolveAutomlSettings(automlJobSchema.parse({ ...base, ...extra }), options);
}

describe('resolveAutomlSettings', () => {
  test('classification defaults are Azure’s (Tessera’s for concurrency and the seed)', () => {
    const s = resolve({ task: 'classification' });
    assert.equal(s.task, 'classification');
    assert.equal(s.targetColumn, 'y');
    assert.equal(s.primaryMetric, 'accuracy');
    assert.equal(s.maxTrials, 1000);
    assert.equal(s.maxConcurrentTrials, 2);
    assert.equal(s.earlyTermination, true);
    assert.equal(s.enableVoteEnsemble, true);
    assert.equal(s.enableStackEnsemble, true);
    assert.deepEqual(s.validation, { kind: 'auto' });
    assert.equal(s.seed, 0);
    assert.equal(s.timeoutSeconds, undefined);
    // Every Azure algorithm Tessera implements, not the GaussianNaiveBayes extension.
    assert.deepEqual(
      s.algorithms,
      ALGORITHMS.classification.filter((a) => a.extension !== true).map((a) => a.name),
    );
    assert.ok(!s.algorithms.includes('GaussianNaiveBayes'));
  });

  test('regression and forecasting default to normalized RMSE', () => {
    assert.equal(resolve({ task: 'regression' }).primaryMetric, 'normalized_root_mean_squared_error');
    const f = resolve({ task: 'forecasting', forecasting: { time_column_name: 'date' } });
    assert.equal(f.primaryMetric, 'normalized_root_mean_squared_error');
    assert.equal(f.enableStackEnsemble, false);
    assert.deepEqual(f.forecasting, {
      timeColumn: 'date',
      horizon: 1,
      seriesIdColumns: [],
      targetLags: 'auto',
      rollingWindow: 'auto',
      seasonality: 'auto',
    });
  });

  test('limits, metrics, weights, positive label, seed and featurization are carried over', () => {
    const s = resolve(
      {
        task: 'classification',
        primary_metric: 'AUC_weighted',
        weight_column_name: 'w',
        positive_label: 1,
        limits: {
          max_trials: 20,
          max_concurrent_trials: 4,
          timeout_minutes: 15,
          trial_timeout_minutes: 2,
          exit_score: 0.99,
          enable_early_termination: false,
          max_nodes: 3,
          max_cores_per_trial: 2,
        },
        training: { enable_stack_ensemble: false, random_seed: 42 },
        featurization: { mode: 'custom', column_name_and_types: { a: 'Ignore' } },
        n_cross_validations: 5,
      },
      { defaultConcurrency: 7 },
    );
    assert.equal(s.primaryMetric, 'AUC_weighted');
    assert.equal(s.weightColumn, 'w');
    assert.equal(s.positiveLabel, '1');
    assert.equal(s.maxTrials, 20);
    assert.equal(s.maxConcurrentTrials, 4);
    assert.equal(s.timeoutSeconds, 900);
    assert.equal(s.trialTimeoutSeconds, 120);
    assert.equal(s.exitScore, 0.99);
    assert.equal(s.earlyTermination, false);
    assert.equal(s.enableStackEnsemble, false);
    assert.equal(s.seed, 42);
    assert.deepEqual(s.validation, { kind: 'cv', folds: 5 });
    assert.deepEqual(s.featurization?.column_name_and_types, { a: 'Ignore' });
    assert.ok(s.notices.some((n) => n.includes('max_nodes')));
    const quiet = resolve({
      task: 'classification',
      resources: { instance_type: 'Standard_E4s_v3', instance_count: 5 },
      queue_settings: { job_tier: 'spot' },
      log_verbosity: 'debug',
    }).notices;
    for (const key of ['resources', 'queue_settings', 'log_verbosity']) {
      assert.ok(
        quiet.some((n) => n.startsWith(`${key} has no effect`)),
        `${key}: ${quiet.join(' | ')}`,
      );
    }
    assert.deepEqual(resolve({ task: 'classification' }).notices, []);
    assert.equal(s.coresPerTrial, 2);
    assert.ok(!s.notices.some((n) => n.includes('max_cores_per_trial')));
    assert.equal(resolve({ task: 'regression', limits: { max_cores_per_trial: -1 } }).coresPerTrial, -1);
    assert.equal(resolve({ task: 'regression' }, { defaultConcurrency: 7 }).maxConcurrentTrials, 7);
  });

  test('validation: size, data, auto', () => {
    assert.deepEqual(resolve({ task: 'regression', validation_data_size: 0.2 }).validation, {
      kind: 'split',
      size: 0.2,
    });
    assert.deepEqual(resolve({ task: 'regression', validation_data: { type: 'mltable', path: './v' } }).validation, {
      kind: 'data',
    });
    assert.deepEqual(resolve({ task: 'regression', n_cross_validations: 'auto' }).validation, { kind: 'auto' });
  });

  test("cv_split_column_names: the user's folds, one per column", () => {
    assert.deepEqual(resolve({ task: 'regression', cv_split_column_names: ['f1', 'f2'] }).validation, {
      kind: 'columns',
      columns: ['f1', 'f2'],
    });
    assert.deepEqual(
      resolve({ task: 'classification', cv_split_column_names: ['f1'], n_cross_validations: 'auto' }).validation,
      { kind: 'columns', columns: ['f1'] },
    );
  });

  test('training.stack_ensemble_settings: the meta-learner by Azure name and its k_wargs', () => {
    const stack = (settings: Record<string, unknown>, task = 'classification') =>
      resolve({ task, training: { stack_ensemble_settings: settings } });
    assert.deepEqual(stack({ stack_meta_learner_type: 'logisticregressioncv' }).stackMetaLearner, {
      type: 'LogisticRegressionCV',
      params: {},
    });
    assert.deepEqual(
      stack(
        { stack_meta_learner_type: 'LightGBMRegressor', stack_meta_learner_k_wargs: { n_estimators: 50 } },
        'regression',
      ).stackMetaLearner,
      { type: 'LightGBMRegressor', params: { n_estimators: 50 } },
    );
    assert.equal(stack({ stack_meta_learner_type: 'None' }).stackMetaLearner, undefined);
    const off = resolve({
      task: 'classification',
      training: {
        enable_stack_ensemble: false,
        stack_ensemble_settings: { stack_meta_learner_type: 'LogisticRegression' },
      },
    });
    assert.ok(off.notices.some((n) => n.includes('enable_stack_ensemble is false')));
    const share = stack({ stack_meta_learner_train_percentage: 0.3 });
    assert.equal(share.stackMetaLearner, undefined);
    assert.ok(share.notices.some((n) => n.includes('stack_meta_learner_train_percentage has no effect')));
  });

  test('forecasting.country_or_region_for_holidays: a country with rules here, by its code in any case', () => {
    const s = resolve({
      task: 'forecasting',
      forecasting: { time_column_name: 't', country_or_region_for_holidays: 'us' },
    });
    assert.equal(s.forecasting?.holidays, 'US');
    assert.ok(!s.notices.some((n) => n.includes('country_or_region_for_holidays')));
  });

  test('test_data_size: the fraction of training_data held out as test data', () => {
    assert.equal(resolve({ task: 'classification', test_data_size: 0.1 }).testDataSize, 0.1);
    assert.equal(resolve({ task: 'classification' }).testDataSize, undefined);
    assert.ok(!resolve({ task: 'regression', test_data_size: 0.25 }).notices.some((n) => n.includes('test_data_size')));
  });

  test('training.enable_model_explainability: false leaves the explanation out; forecasting has none to give', () => {
    assert.equal(resolve({ task: 'classification' }).explainBestModel, undefined);
    assert.equal(
      resolve({ task: 'classification', training: { enable_model_explainability: false } }).explainBestModel,
      false,
    );
    assert.equal(
      resolve({ task: 'regression', training: { enable_model_explainability: true } }).explainBestModel,
      true,
    );
    const forecast = (explain: boolean) =>
      resolve({
        task: 'forecasting',
        forecasting: { time_column_name: 'date' },
        training: { enable_model_explainability: explain },
      }).notices.filter((n) => n.includes('enable_model_explainability'));
    assert.equal(forecast(true).length, 1);
    assert.match(forecast(true)[0] ?? '', /no effect for forecasting/);
    assert.deepEqual(forecast(false), []);
  });

  test('allowed and blocked algorithms by Azure name, any case or underscores', () => {
    const s = resolve({
      task: 'classification',
      training: { allowed_training_algorithms: ['lightgbm', 'Logistic_Regression', 'GaussianNaiveBayes', 'KNN'] },
    });
    assert.deepEqual(s.algorithms, ['GaussianNaiveBayes', 'LogisticRegression', 'LightGBM', 'KNN']);
    // Named in allowed_training_algorithms: size gates do not drop them.
    assert.deepEqual(s.allowedAlgorithms, ['LightGBM', 'LogisticRegression', 'GaussianNaiveBayes', 'KNN']);
    assert.equal(resolve({ task: 'classification' }).allowedAlgorithms, undefined);
    const b = resolve({
      task: 'regression',
      training: { blocked_training_algorithms: ['KNN', 'TabnetRegressor', 'Foo'] },
    });
    assert.ok(!b.algorithms.includes('KNN'));
    assert.ok(b.algorithms.includes('LightGBM'));
    assert.equal(b.notices.filter((n) => n.includes('blocked_training_algorithms')).length, 2);
    const both = resolve({
      task: 'regression',
      training: { allowed_training_algorithms: ['ElasticNet', 'LightGBM'], blocked_training_algorithms: ['lightGBM'] },
    });
    assert.deepEqual(both.algorithms, ['ElasticNet']);
  });

  test('forecasting block: series ids as an array, lags, window, seasonality', () => {
    const f = resolve({
      task: 'forecasting',
      forecasting: {
        time_column_name: 'date',
        forecast_horizon: 12,
        time_series_id_column_names: 'store',
        frequency: 'MS',
        target_lags: [3, 1, 3],
        target_rolling_window_size: 4,
        seasonality: 12,
        cv_step_size: 6,
        short_series_handling_config: 'Drop',
        target_aggregate_function: 'Mean',
        use_stl: 'season',
      },
    }).forecasting;
    assert.deepEqual(f, {
      timeColumn: 'date',
      horizon: 12,
      seriesIdColumns: ['store'],
      frequency: 'MS',
      targetLags: [1, 3],
      rollingWindow: 4,
      seasonality: 12,
      cvStepSize: 6,
      shortSeries: 'drop',
      targetAggregate: 'mean',
    });
    const auto = resolve({ task: 'forecasting', forecasting: { time_column_name: 't', cv_step_size: 'auto' } });
    assert.equal(auto.forecasting?.cvStepSize, undefined);
    assert.ok(!auto.notices.some((n) => n.includes('cv_step_size')));
    assert.deepEqual(
      resolve({
        task: 'forecasting',
        forecasting: { time_column_name: 't', target_lags: 'auto', forecast_horizon: 'auto' },
      }).forecasting?.targetLags,
      'auto',
    );
  });

  const invalid: { name: string; spec: Record<string, unknown>; key: string }[] = [
    {
      name: 'no target column',
      spec: { task: 'classification', target_column_name: undefined },
      key: 'target_column_name',
    },
    {
      name: 'an allowed algorithm Tessera lacks (SVM)',
      spec: { task: 'classification', training: { allowed_training_algorithms: ['LightGBM', 'SVM'] } },
      key: 'training.allowed_training_algorithms[1]',
    },
    {
      name: 'TabnetClassifier allowed',
      spec: { task: 'classification', training: { allowed_training_algorithms: ['TabnetClassifier'] } },
      key: 'training.allowed_training_algorithms[0]',
    },
    {
      name: 'a regression algorithm allowed for classification',
      spec: { task: 'classification', training: { allowed_training_algorithms: ['ElasticNet'] } },
      key: 'training.allowed_training_algorithms[0]',
    },
    {
      name: 'everything blocked',
      spec: {
        task: 'regression',
        training: { allowed_training_algorithms: ['KNN'], blocked_training_algorithms: ['knn'] },
      },
      key: 'training.blocked_training_algorithms',
    },
    { name: 'forecasting without a time column', spec: { task: 'forecasting' }, key: 'forecasting.time_column_name' },
    {
      name: 'target_aggregate_function without a frequency',
      spec: { task: 'forecasting', forecasting: { time_column_name: 't', target_aggregate_function: 'sum' } },
      key: 'forecasting.target_aggregate_function',
    },
    {
      name: 'a cv_step_size of 0',
      spec: { task: 'forecasting', forecasting: { time_column_name: 't', cv_step_size: 0 } },
      key: 'forecasting.cv_step_size',
    },
    {
      name: 'validation_data with n_cross_validations',
      spec: { task: 'regression', n_cross_validations: 3, validation_data: { type: 'mltable', path: './v' } },
      key: 'n_cross_validations',
    },
    { name: 'one fold', spec: { task: 'regression', n_cross_validations: 1 }, key: 'n_cross_validations' },
    {
      name: 'validation size 1.5',
      spec: { task: 'regression', validation_data_size: 1.5 },
      key: 'validation_data_size',
    },
    {
      name: 'a regression meta-learner for classification',
      spec: {
        task: 'classification',
        training: { stack_ensemble_settings: { stack_meta_learner_type: 'ElasticNet' } },
      },
      key: 'training.stack_ensemble_settings.stack_meta_learner_type',
    },
    {
      name: 'a k_warg the meta-learner does not take',
      spec: {
        task: 'classification',
        training: {
          stack_ensemble_settings: {
            stack_meta_learner_type: 'LogisticRegression',
            stack_meta_learner_k_wargs: { alpha: 1 },
          },
        },
      },
      key: 'training.stack_ensemble_settings.stack_meta_learner_k_wargs.alpha',
    },
    {
      name: 'a k_warg out of range',
      spec: {
        task: 'regression',
        training: {
          stack_ensemble_settings: {
            stack_meta_learner_type: 'ElasticNet',
            stack_meta_learner_k_wargs: { l1_ratio: 2 },
          },
        },
      },
      key: 'training.stack_ensemble_settings.stack_meta_learner_k_wargs.l1_ratio',
    },
    {
      name: 'k_wargs without a meta-learner',
      spec: { task: 'regression', training: { stack_ensemble_settings: { stack_meta_learner_k_wargs: { alpha: 1 } } } },
      key: 'training.stack_ensemble_settings.stack_meta_learner_type',
    },
    {
      name: 'a stack meta-learner for forecasting',
      spec: {
        task: 'forecasting',
        forecasting: { time_column_name: 't' },
        training: { stack_ensemble_settings: { stack_meta_learner_type: 'ElasticNet' } },
      },
      key: 'training.stack_ensemble_settings',
    },
    {
      name: 'holidays of a country without rules',
      spec: { task: 'forecasting', forecasting: { time_column_name: 't', country_or_region_for_holidays: 'XX' } },
      key: 'forecasting.country_or_region_for_holidays',
    },
    {
      name: 'zero cores per trial',
      spec: { task: 'regression', limits: { max_cores_per_trial: 0 } },
      key: 'limits.max_cores_per_trial',
    },
    { name: 'test size 0', spec: { task: 'regression', test_data_size: 0 }, key: 'test_data_size' },
    { name: 'test size 1', spec: { task: 'classification', test_data_size: 1 }, key: 'test_data_size' },
    {
      name: 'test_data with test_data_size',
      spec: { task: 'regression', test_data_size: 0.2, test_data: { type: 'mltable', path: './t' } },
      key: 'test_data_size',
    },
    {
      name: 'test_data_size for forecasting',
      spec: { task: 'forecasting', test_data_size: 0.2, forecasting: { time_column_name: 't' } },
      key: 'test_data_size',
    },
    {
      name: 'cv split columns with n_cross_validations',
      spec: { task: 'regression', cv_split_column_names: ['fold'], n_cross_validations: 3 },
      key: 'cv_split_column_names',
    },
    {
      name: 'cv split columns with validation_data',
      spec: { task: 'regression', cv_split_column_names: ['fold'], validation_data: { type: 'mltable', path: './v' } },
      key: 'cv_split_column_names',
    },
    {
      name: 'cv split columns with validation_data_size',
      spec: { task: 'regression', cv_split_column_names: ['fold'], validation_data_size: 0.2 },
      key: 'cv_split_column_names',
    },
    {
      name: 'cv split columns for forecasting',
      spec: { task: 'forecasting', cv_split_column_names: ['fold'], forecasting: { time_column_name: 't' } },
      key: 'cv_split_column_names',
    },
    {
      name: 'no cv split column',
      spec: { task: 'regression', cv_split_column_names: [] },
      key: 'cv_split_column_names',
    },
    {
      name: 'a cv split column twice',
      spec: { task: 'regression', cv_split_column_names: ['f', 'f'] },
      key: 'cv_split_column_names',
    },
    {
      name: 'the target as a cv split column',
      spec: { task: 'regression', cv_split_column_names: ['y'] },
      key: 'cv_split_column_names',
    },
    {
      name: 'weights are the target',
      spec: { task: 'regression', weight_column_name: 'y' },
      key: 'weight_column_name',
    },
    {
      name: 'zero lag',
      spec: { task: 'forecasting', forecasting: { time_column_name: 't', target_lags: [0] } },
      key: 'forecasting.target_lags',
    },
  ];
  for (const c of invalid) {
    test(`ValidationError: ${c.name}`, () => assertInvalid(() => resolve(c.spec), c.key));
  }

  test('image and text tasks are not supported yet', () => {
    const spec = automlJobSchema.parse({ ...base, task: 'text_classification' });
    assertInvalid(() => resolveAutomlSettings(spec), 'task');
    assert.throws(() => resolveAutomlSettings(spec), /not supported yet/);
  });
});
