/**
 * One forecasting trial: rolling-origin backtests of a TrialConfig on the prepared series, then the
 * refit on all of them. Metrics are computed per series and averaged over series (as the peers'
 * benchmark does, so that series of different size weigh the same), then over folds.
 *
 * sMAPE and MASE follow shared/peers/common.py's forecast definitions: sMAPE = 100 · mean
 * 2|e| / (|y| + |ŷ|) (a point where both are 0 counts 0), MASE = MAE / the in-sample mean
 * |y(t) - y(t - m)| of the training part, m the season length.
 */
import { ValidationError } from '../../errors.js';
import { addPeriods } from '../forecast/frequency.js';
import { regressionMetrics } from '../metrics.js';
import type { Table } from '../types.js';
import type { PreparedForecast, PreparedSeries } from './forecast-data.js';
import type { ForecastModel } from './forecast-model.js';
import { fitForecastModel, forecastValues } from './forecast-model.js';
import type { AutomlSettings, TrialConfig } from './types.js';

export type ForecastMetrics = Record<string, number>;

export interface ForecastTrialOutcome {
  config: TrialConfig;
  /** Backtest metrics: Azure's regression names plus rmse, mae, smape (%), mase; fold means. */
  metrics: ForecastMetrics;
  /** metrics[settings.primaryMetric]. */
  score: number;
  /** Each fold's metrics, oldest origin first. */
  folds: ForecastMetrics[];
  /** The refit on all the data. */
  model: ForecastModel;
}

/** sMAPE in percent (a point where actual and forecast are both 0 counts 0). */
export function smape(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const p = predicted[i] as number;
    const den = Math.abs(a) + Math.abs(p);
    s += den === 0 ? 0 : (2 * Math.abs(a - p)) / den;
  }
  return (100 * s) / actual.length;
}

/** The in-sample MAE of the seasonal naive forecast (lag m; lag 1 when the history is shorter than m + 1). */
export function seasonalNaiveScale(history: ArrayLike<number>, seasonLength: number): number {
  const m = seasonLength < history.length ? Math.max(1, seasonLength) : 1;
  let s = 0;
  let n = 0;
  for (let t = m; t < history.length; t++) {
    s += Math.abs((history[t] as number) - (history[t - m] as number));
    n++;
  }
  return n > 0 ? s / n : Number.NaN;
}

export function mase(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  history: ArrayLike<number>,
  seasonLength: number,
): number {
  let mae = 0;
  for (let i = 0; i < actual.length; i++) mae += Math.abs((actual[i] as number) - (predicted[i] as number));
  mae /= actual.length;
  const scale = seasonalNaiveScale(history, seasonLength);
  if (scale === 0) return mae === 0 ? 0 : Number.POSITIVE_INFINITY;
  return mae / scale;
}

function range(values: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i] as number);
    hi = Math.max(hi, values[i] as number);
  }
  return [lo, hi];
}

/** One series' forecast scored: Azure's regression metrics (normalized by `yRange`) plus rmse, mae, smape, mase. */
export function seriesMetrics(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  history: ArrayLike<number>,
  seasonLength: number,
  yRange: [number, number] = range(history),
): ForecastMetrics {
  const azure = regressionMetrics({ yTrue: actual, yPred: predicted, yMin: yRange[0], yMax: yRange[1] });
  return {
    ...azure,
    rmse: azure.root_mean_squared_error,
    mae: azure.mean_absolute_error,
    smape: smape(actual, predicted),
    mase: mase(actual, predicted, history, seasonLength),
  };
}

/** The mean of each metric over `records` (NaN entries are skipped; NaN when none is left). */
export function meanMetrics(records: readonly ForecastMetrics[]): ForecastMetrics {
  const out: ForecastMetrics = {};
  for (const name of Object.keys(records[0] ?? {})) {
    let s = 0;
    let n = 0;
    for (const r of records) {
      const v = r[name];
      if (v === undefined || Number.isNaN(v)) continue;
      s += v;
      n++;
    }
    out[name] = n > 0 ? s / n : Number.NaN;
  }
  return out;
}

function head(s: PreparedSeries, n: number): PreparedSeries {
  return { ...s, times: s.times.slice(0, n), values: s.values.slice(0, n) };
}

function fitContext(data: PreparedForecast): Parameters<typeof fitForecastModel>[2] {
  const forecasting = data.settings.forecasting;
  if (forecasting === undefined) throw new TypeError('data: the settings have no forecasting section');
  return { frequency: data.frequency, horizon: data.horizon, forecasting, seed: data.settings.seed };
}

/** The primary metric's value in `metrics`; a metric the trial does not compute is a RangeError. */
export function primaryScore(metrics: ForecastMetrics, settings: AutomlSettings): number {
  const v = metrics[settings.primaryMetric];
  if (v === undefined) throw new RangeError(`primary_metric '${settings.primaryMetric}' is not a forecasting metric`);
  return v;
}

/** Backtests `config` on each rolling origin of `data`, then refits it on all the data. */
export function runForecastTrial(data: PreparedForecast, config: TrialConfig): ForecastTrialOutcome {
  const ctx = fitContext(data);
  const { horizon, folds, step } = data;
  const foldMetrics: ForecastMetrics[] = [];
  for (let f = 0; f < folds; f++) {
    const cuts = data.series.map((s) => s.values.length - horizon - (folds - 1 - f) * step);
    const train = data.series.map((s, i) => head(s, cuts[i] as number));
    const model = fitForecastModel(train, config, ctx);
    const predicted = forecastValues(model, horizon);
    const perSeries = data.series.map((s, i) => {
      const cut = cuts[i] as number;
      return seriesMetrics(
        s.values.subarray(cut, cut + horizon),
        predicted[i] as Float64Array,
        s.values.subarray(0, cut),
        s.seasonLength,
        range(s.values),
      );
    });
    foldMetrics.push(meanMetrics(perSeries));
  }
  const metrics = meanMetrics(foldMetrics);
  const model = fitForecastModel(data.series, config, ctx);
  return { config, metrics, score: primaryScore(metrics, data.settings), folds: foldMetrics, model };
}

export interface HoldoutOptions {
  /** The season length MASE scales by (the peers use the dataset's); default each series' own. */
  seasonLength?: number;
}

/**
 * Scores `model` on `holdout` (rows after the training data: time, target and series id columns):
 * per series, each holdout row against the forecast for its period; then the mean over series.
 * MASE is scaled by the in-sample seasonal-naive MAE of the training part.
 */
export function evaluateHoldout(
  model: ForecastModel,
  holdout: Table,
  settings: AutomlSettings,
  options: HoldoutOptions = {},
): ForecastMetrics {
  const fc = settings.forecasting;
  if (fc === undefined) throw new TypeError('settings: no forecasting section');
  const time = holdout.columns.find((c) => c.name === fc.timeColumn);
  const target = holdout.columns.find((c) => c.name === settings.targetColumn);
  if (time?.kind !== 'datetime' || target?.kind !== 'numeric') {
    throw new ValidationError(
      `the holdout needs the datetime column '${fc.timeColumn}' and the numeric target '${settings.targetColumn}'`,
      { target: 'test_data' },
    );
  }
  const idColumns = fc.seriesIdColumns.map((name) => {
    const c = holdout.columns.find((col) => col.name === name);
    if (c === undefined)
      throw new ValidationError(`the holdout has no series id column '${name}'`, { target: 'test_data' });
    return c;
  });
  const keyOf = (row: number): string => {
    const ids = idColumns.map((c) => {
      const v = c.values[row];
      return v === null || v === undefined ? '' : String(v);
    });
    return ids.length === 0 ? '' : ids.length === 1 ? (ids[0] as string) : JSON.stringify(ids);
  };
  const bySeries = new Map<string, { time: number; value: number }[]>();
  for (let r = 0; r < holdout.rows; r++) {
    const value = target.values[r] as number;
    if (Number.isNaN(value)) continue;
    const key = keyOf(r);
    let rows = bySeries.get(key);
    if (rows === undefined) bySeries.set(key, (rows = []));
    rows.push({ time: time.values[r] as number, value });
  }
  const index = new Map(model.series.map((s, i) => [s.key, i]));
  let steps = 1;
  const wanted: { i: number; rows: { step: number; value: number }[] }[] = [];
  for (const [key, rows] of bySeries) {
    const i = index.get(key);
    if (i === undefined) throw new ValidationError(`the holdout has a series '${key}' the model was not trained on`);
    const s = model.series[i] as ForecastModel['series'][number];
    const mapped = rows.map((r) => {
      if (!(r.time > s.lastTime)) {
        throw new ValidationError(
          `the holdout row of series '${key}' at ${new Date(r.time).toISOString()} is not after the training data`,
          { target: 'test_data' },
        );
      }
      const step = periodsAfter(s.lastTime, r.time, model);
      steps = Math.max(steps, step);
      return { step, value: r.value };
    });
    wanted.push({ i, rows: mapped });
  }
  const values = forecastValues(model, steps);
  const perSeries = wanted
    .sort((a, b) => a.i - b.i)
    .map(({ i, rows }) => {
      const s = model.series[i] as ForecastModel['series'][number];
      const v = values[i] as Float64Array;
      return seriesMetrics(
        rows.map((r) => r.value),
        rows.map((r) => v[r.step - 1] as number),
        s.history,
        options.seasonLength ?? s.seasonLength,
      );
    });
  if (perSeries.length === 0)
    throw new ValidationError('the holdout has no rows with a target value', { target: 'test_data' });
  return meanMetrics(perSeries);
}

function periodsAfter(last: number, t: number, model: ForecastModel): number {
  // Walk the grid: a holdout is short, and calendar steps are not of fixed length.
  let k = 0;
  let at = last;
  while (at < t && k < 100_000) at = addPeriods(last, model.frequency, ++k);
  if (at !== t) {
    throw new ValidationError(`holdout time ${new Date(t).toISOString()} is off the ${model.frequency.alias} grid`, {
      target: 'test_data',
    });
  }
  return k;
}
