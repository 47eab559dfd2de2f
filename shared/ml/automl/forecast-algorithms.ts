/**
 * Azure ML's forecasting algorithm names (allowed_training_algorithms for `task: forecasting`) and
 * what Tessera runs for each: the statistical models per series, or a regression learner trained
 * on lag, rolling-window and calendar features of all series at once and asked recursively.
 */
import { DecisionTreeModel, decisionTreeTrainer } from '../models/tree.js';
import { extraTreesTrainer, ForestModel, randomForestTrainer } from '../models/forest.js';
import { GradientBoostingModel, histGradientBoostingTrainer } from '../models/gbm.js';
import { elasticNetTrainer, LinearRegressionModel } from '../models/linear.js';
import type { FittedModel, Matrix } from '../types.js';
import type { ParamValue } from './types.js';

export type ForecastAlgorithmKind = 'baseline' | 'smoothing' | 'regression';

/** A fitted regressor in plain data (a ForecastModel must survive JSON). */
export type RegressorData =
  | { kind: 'linear'; coefficients: number[]; intercept: number }
  | {
      kind: 'trees';
      /** 'sum' adds the trees to `base` (boosting, a single tree); 'mean' averages them (forests). */
      aggregate: 'sum' | 'mean';
      base: number;
      trees: {
        feature: number[];
        threshold: number[];
        left: number[];
        right: number[];
        value: number[];
      }[];
    };

export interface ForecastAlgorithm {
  /** The Azure ML name. */
  name: string;
  kind: ForecastAlgorithmKind;
  /** Regression learners: fits on the lag-feature matrix and returns the model as data. */
  fitRegressor?: (X: Matrix, y: Float64Array, params: Record<string, ParamValue>, seed: number) => RegressorData;
}

/** Names Azure ML accepts for forecasting that Tessera does not implement, and why. */
export const UNSUPPORTED_FORECAST_ALGORITHMS: Readonly<Record<string, string>> = Object.freeze({
  AutoArima: 'ARIMA order search is not implemented; ExponentialSmoothing and the lag-feature learners cover it',
  Arimax: 'ARIMA with exogenous regressors is not implemented',
  Prophet: 'Prophet is not implemented',
  TCNForecaster: 'deep-learning forecasters are not implemented',
  KNN: 'not offered for forecasting',
  LassoLars: 'not offered for forecasting; use ElasticNet',
  SGD: 'not offered for forecasting; use ElasticNet',
});

function treesData(trees: readonly DecisionTreeModel['tree'][]): Extract<RegressorData, { kind: 'trees' }>['trees'] {
  return trees.map((t) => ({
    feature: Array.from(t.feature),
    threshold: Array.from(t.threshold),
    left: Array.from(t.left),
    right: Array.from(t.right),
    value: Array.from(t.value),
  }));
}

/** A fitted shared/ml regression model as RegressorData. */
export function regressorData(model: FittedModel): RegressorData {
  if (model instanceof GradientBoostingModel) {
    return { kind: 'trees', aggregate: 'sum', base: model.baseScores[0] ?? 0, trees: treesData(model.trees) };
  }
  if (model instanceof ForestModel) return { kind: 'trees', aggregate: 'mean', base: 0, trees: treesData(model.trees) };
  if (model instanceof DecisionTreeModel) {
    return { kind: 'trees', aggregate: 'sum', base: 0, trees: treesData([model.tree]) };
  }
  if (model instanceof LinearRegressionModel) {
    return {
      kind: 'linear',
      coefficients: Array.from(model.original.coefficients),
      intercept: model.original.intercept,
    };
  }
  throw new TypeError('model: only boosting, forest, tree and linear regressors can be stored in a forecast model');
}

/** Predicts with RegressorData, the way the model it came from predicts (trees: to float32 precision). */
export function predictRegressor(data: RegressorData, X: Matrix): Float64Array {
  const out = new Float64Array(X.rows);
  if (data.kind === 'linear') {
    const w = data.coefficients;
    for (let i = 0; i < X.rows; i++) {
      let s = data.intercept;
      for (let j = 0; j < w.length; j++) s += (X.data[i * X.cols + j] as number) * (w[j] as number);
      out[i] = s;
    }
    return out;
  }
  for (let i = 0; i < X.rows; i++) {
    let s = 0;
    for (const tree of data.trees) {
      let node = 0;
      let f = tree.feature[0] as number;
      while (f >= 0) {
        node =
          Math.fround(X.data[i * X.cols + f] as number) <= (tree.threshold[node] as number)
            ? (tree.left[node] as number)
            : (tree.right[node] as number);
        f = tree.feature[node] as number;
      }
      s += tree.value[node] as number;
    }
    // Rounded to float32, the output type of ONNX's TreeEnsembleRegressor (forecast-onnx.ts), so
    // that the recursion feeds the same values back in both.
    out[i] = Math.fround(data.aggregate === 'mean' ? s / data.trees.length : data.base + s);
  }
  return out;
}

const num = (params: Record<string, ParamValue>, key: string, fallback: number): number => {
  const v = params[key];
  return typeof v === 'number' ? v : fallback;
};

const boosting: ForecastAlgorithm['fitRegressor'] = (X, y, params, seed) =>
  regressorData(
    histGradientBoostingTrainer.fit(
      X,
      y,
      {
        nEstimators: num(params, 'n_estimators', 100),
        learningRate: num(params, 'learning_rate', 0.1),
        numLeaves: num(params, 'num_leaves', 15),
        minChildSamples: num(params, 'min_child_samples', 10),
        regLambda: num(params, 'reg_lambda', 0),
        earlyStopping: false,
      },
      { seed },
    ),
  );

const forest =
  (trainer: typeof randomForestTrainer | typeof extraTreesTrainer): ForecastAlgorithm['fitRegressor'] =>
  (X, y, params, seed) =>
    regressorData(
      trainer.fit(
        X,
        y,
        { nEstimators: num(params, 'n_estimators', 50), minSamplesLeaf: num(params, 'min_samples_leaf', 3) },
        { seed },
      ),
    );

/** Every forecasting algorithm Tessera runs, by Azure ML name, cheapest first. */
export const FORECAST_ALGORITHMS: Readonly<Record<string, ForecastAlgorithm>> = Object.freeze({
  Naive: { name: 'Naive', kind: 'baseline' },
  SeasonalNaive: { name: 'SeasonalNaive', kind: 'baseline' },
  Average: { name: 'Average', kind: 'baseline' },
  SeasonalAverage: { name: 'SeasonalAverage', kind: 'baseline' },
  ExponentialSmoothing: { name: 'ExponentialSmoothing', kind: 'smoothing' },
  ElasticNet: {
    name: 'ElasticNet',
    kind: 'regression',
    fitRegressor: (X, y, params) =>
      regressorData(
        elasticNetTrainer.fit(
          X,
          y,
          { alpha: num(params, 'alpha', 0.001), l1Ratio: num(params, 'l1_ratio', 0.5), maxIter: 200 },
          { seed: 0 },
        ),
      ),
  },
  DecisionTree: {
    name: 'DecisionTree',
    kind: 'regression',
    fitRegressor: (X, y, params, seed) =>
      regressorData(
        decisionTreeTrainer.fit(
          X,
          y,
          { maxDepth: num(params, 'max_depth', 6), minSamplesLeaf: num(params, 'min_samples_leaf', 5) },
          { seed },
        ),
      ),
  },
  RandomForest: { name: 'RandomForest', kind: 'regression', fitRegressor: forest(randomForestTrainer) },
  ExtremeRandomTrees: { name: 'ExtremeRandomTrees', kind: 'regression', fitRegressor: forest(extraTreesTrainer) },
  LightGBM: { name: 'LightGBM', kind: 'regression', fitRegressor: boosting },
  GradientBoosting: { name: 'GradientBoosting', kind: 'regression', fitRegressor: boosting },
  XGBoostRegressor: { name: 'XGBoostRegressor', kind: 'regression', fitRegressor: boosting },
});

/** The supported Azure ML names, in the registry's (cost) order. */
export function forecastAlgorithmNames(): string[] {
  return Object.keys(FORECAST_ALGORITHMS);
}

/** The registry entry for `name`; an unsupported or unknown name is a RangeError saying which. */
export function forecastAlgorithm(name: string): ForecastAlgorithm {
  const found = FORECAST_ALGORITHMS[name];
  if (found !== undefined) return found;
  const why = UNSUPPORTED_FORECAST_ALGORITHMS[name];
  if (why !== undefined) throw new RangeError(`algorithm '${name}' is not supported for forecasting: ${why}`);
  throw new RangeError(`unknown forecasting algorithm '${name}'; supported: ${forecastAlgorithmNames().join(', ')}`);
}
