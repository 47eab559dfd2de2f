/**
 * A fitted forecasting model as plain data (ForecastModel survives JSON.stringify/parse), how one
 * is fitted from prepared series and a TrialConfig, and how it forecasts.
 *
 * Statistical models are fitted per series. Regression learners see every series at once: each
 * series is transformed (levels, or first differences) and scaled by its own spread, so that one
 * model can serve series of different size; rows come from shared/ml/forecast/lag-features.ts and
 * forecasts from its recursive forecaster, then are scaled back (and summed up, for differences).
 */
import { ValidationError } from '../../errors.js';
import {
  averageForecast,
  naiveForecast,
  seasonalAverageForecast,
  seasonalNaiveForecast,
} from '../forecast/baselines.js';
import type { Frequency } from '../forecast/frequency.js';
import { addPeriods } from '../forecast/frequency.js';
import type { CalendarFeature, LagFeatureBuilder } from '../forecast/lag-features.js';
import { buildLagTrainingSet, calendarFeaturesFor, createLagFeatureBuilder } from '../forecast/lag-features.js';
import { recursiveForecast } from '../forecast/recursive.js';
import type { TimeSeries } from '../forecast/series.js';
import type { FittedModel, Matrix } from '../types.js';
import type { RegressorData } from './forecast-algorithms.js';
import { forecastAlgorithm, predictRegressor } from './forecast-algorithms.js';
import type { PreparedSeries } from './forecast-data.js';
import type { SmoothingState } from './forecast-smoothing.js';
import { fitSmoothing, forecastSmoothing } from './forecast-smoothing.js';
import { holidaysApply, type HolidayCountry } from '../forecast/holidays.js';
import type { ForecastSettings, ParamValue, TrialConfig } from './types.js';

export type TargetTransform = 'level' | 'diff';

export interface ForecastSeriesModel {
  key: string;
  ids: string[];
  seasonLength: number;
  /** Time of the last observation: forecasts start one period later. */
  lastTime: number;
  /** The training values on the grid (baselines read them; MASE scales by them). */
  history: number[];
  /** ExponentialSmoothing: the state after the last observation. */
  smoothing?: SmoothingState;
  /** Regression: the transformed series is (value - center) / scale. */
  center?: number;
  scale?: number;
}

export interface ForecastRegression {
  transform: TargetTransform;
  lags: number[];
  windows: number[];
  calendar: CalendarFeature[];
  /** The country the 'holiday' calendar feature marks (country_or_region_for_holidays). */
  holidays?: HolidayCountry;
  seriesKeys: string[];
  regressor: RegressorData;
}

/** A fitted forecaster: JSON-serializable; `forecast(model)` reads nothing else. */
export interface ForecastModel {
  format: 'tessera.automl.forecast-model.v1';
  algorithm: string;
  params: Record<string, ParamValue>;
  frequency: Frequency;
  horizon: number;
  series: ForecastSeriesModel[];
  regression?: ForecastRegression;
  /** An average of members (ensembles): each forecasts, the values are averaged with these weights. */
  members?: { weight: number; model: ForecastModel }[];
}

export interface ForecastPoint {
  series: string;
  time: number;
  value: number;
}

/** What a fit needs beyond the series. */
export interface ForecastFitContext {
  frequency: Frequency;
  horizon: number;
  forecasting: ForecastSettings;
  seed: number;
}

const str = (params: Record<string, ParamValue>, key: string, fallback: string): string => {
  const v = params[key];
  return typeof v === 'string' ? v : fallback;
};
const num = (params: Record<string, ParamValue>, key: string, fallback: number): number => {
  const v = params[key];
  return typeof v === 'number' ? v : fallback;
};

function baseSeries(s: PreparedSeries): ForecastSeriesModel {
  return {
    key: s.key,
    ids: [...s.ids],
    seasonLength: s.seasonLength,
    lastTime: s.times[s.times.length - 1] as number,
    history: Array.from(s.values),
  };
}

function smoothingFor(values: Float64Array, seasonLength: number, params: Record<string, ParamValue>): SmoothingState {
  const trend = str(params, 'trend', 'additive');
  if (trend !== 'none' && trend !== 'additive' && trend !== 'damped') {
    throw new RangeError(`params.trend must be 'none', 'additive' or 'damped'; got '${trend}'`);
  }
  return fitSmoothing(values, trend, params.seasonal === false ? 1 : seasonLength);
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return values.length === 0 ? 0 : s / values.length;
}

function spread(values: ArrayLike<number>, center: number): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += ((values[i] as number) - center) ** 2;
  const sd = values.length > 1 ? Math.sqrt(s / (values.length - 1)) : 0;
  return sd > 0 && Number.isFinite(sd) ? sd : 1;
}

/** The transformed, scaled series a regression learner sees. */
function transformed(s: ForecastSeriesModel, transform: TargetTransform, times: ArrayLike<number>): TimeSeries {
  const y = s.history;
  const raw =
    transform === 'diff'
      ? Float64Array.from({ length: y.length - 1 }, (_, i) => (y[i + 1] as number) - (y[i] as number))
      : Float64Array.from(y);
  const t = transform === 'diff' ? Float64Array.from(times).subarray(1) : Float64Array.from(times);
  const center = s.center ?? 0;
  const scale = s.scale ?? 1;
  return {
    key: s.key,
    ids: s.ids,
    times: t,
    values: raw.map((v) => (v - center) / scale),
    rows: new Int32Array(raw.length).fill(-1),
  };
}

function lagSet(params: Record<string, ParamValue>, fc: ForecastSettings, seasons: number[]): number[] {
  if (fc.targetLags === 'none') return [];
  if (Array.isArray(fc.targetLags)) return [...new Set(fc.targetLags)].sort((a, b) => a - b);
  const maxLag = num(params, 'lags', 3);
  const lags = Array.from({ length: Math.max(0, maxLag) }, (_, i) => i + 1);
  return [...new Set([...lags, ...seasons])].sort((a, b) => a - b);
}

function windowSet(params: Record<string, ParamValue>, fc: ForecastSettings): number[] {
  if (fc.rollingWindow === 'none') return [];
  if (typeof fc.rollingWindow === 'number') return [fc.rollingWindow];
  const w = num(params, 'window', 0);
  return w > 1 ? [w] : [];
}

function fitRegression(
  series: readonly PreparedSeries[],
  config: TrialConfig,
  ctx: ForecastFitContext,
): { series: ForecastSeriesModel[]; regression: ForecastRegression } {
  const algorithm = forecastAlgorithm(config.algorithm);
  const transform = str(config.params, 'transform', 'diff');
  if (transform !== 'level' && transform !== 'diff') {
    throw new RangeError(`params.transform must be 'level' or 'diff'; got '${transform}'`);
  }
  const models = series.map((s) => {
    const base = baseSeries(s);
    const y = s.values;
    if (transform === 'diff') {
      const d = Float64Array.from({ length: y.length - 1 }, (_, i) => (y[i + 1] as number) - (y[i] as number));
      return { ...base, center: 0, scale: spread(d, mean(d)) };
    }
    const c = mean(y);
    return { ...base, center: c, scale: spread(y, c) };
  });
  const seasons = [...new Set(series.map((s) => s.seasonLength).filter((m) => m > 1))];
  const shortest = Math.min(...series.map((s) => s.values.length - (transform === 'diff' ? 1 : 0)));
  // A lag or window must leave at least half of the shortest series as training rows.
  const limit = Math.max(1, Math.floor(shortest / 2));
  const lags = lagSet(config.params, ctx.forecasting, seasons).filter((l) => l <= limit);
  const windows = windowSet(config.params, ctx.forecasting).filter((w) => w <= limit);
  // country_or_region_for_holidays where it applies: periods of a day or shorter (forecast-data.ts
  // says so in a notice otherwise).
  const holidays = holidaysApply(ctx.frequency) ? ctx.forecasting.holidays : undefined;
  const calendar: CalendarFeature[] =
    config.params.calendar === false
      ? []
      : [...calendarFeaturesFor(ctx.frequency), ...(holidays === undefined ? [] : (['holiday'] as const))];
  const seriesKeys = series.map((s) => s.key);
  const builder = createLagFeatureBuilder(
    { lags, rollingWindows: windows, calendar, seriesKeys, ...(holidays === undefined ? {} : { holidays }) },
    ctx.frequency,
  );
  const inputs = models.map((m, i) => transformed(m, transform, (series[i] as PreparedSeries).times));
  const set = buildLagTrainingSet(inputs, builder);
  if (set.X.rows < 2) {
    throw new ValidationError(`the series are too short for lags ${lags.join(', ')}; lower target_lags`, {
      target: 'forecasting.target_lags',
    });
  }
  const fit = algorithm.fitRegressor;
  if (fit === undefined) throw new RangeError(`algorithm '${config.algorithm}' is not a regression learner`);
  const regressor = fit(set.X, set.y, config.params, ctx.seed);
  const regression: ForecastRegression = { transform, lags, windows, calendar, seriesKeys, regressor };
  if (holidays !== undefined && calendar.includes('holiday')) regression.holidays = holidays;
  return { series: models, regression };
}

/** Fits `config` to `series` (each regular and filled, as prepareForecast leaves them). */
export function fitForecastModel(
  series: readonly PreparedSeries[],
  config: TrialConfig,
  ctx: ForecastFitContext,
): ForecastModel {
  if (config.algorithm === VOTING_ENSEMBLE) {
    const members = ensembleMembers(config);
    return averageModels(members.map((m) => ({ weight: 1, model: fitForecastModel(series, m, ctx) })));
  }
  const algorithm = forecastAlgorithm(config.algorithm);
  const common = {
    format: 'tessera.automl.forecast-model.v1' as const,
    algorithm: config.algorithm,
    params: { ...config.params },
    frequency: ctx.frequency,
    horizon: ctx.horizon,
  };
  if (algorithm.kind === 'regression') return { ...common, ...fitRegression(series, config, ctx) };
  if (algorithm.kind === 'smoothing') {
    return {
      ...common,
      series: series.map((s) => ({
        ...baseSeries(s),
        smoothing: smoothingFor(s.values, s.seasonLength, config.params),
      })),
    };
  }
  return { ...common, series: series.map(baseSeries) };
}

/** Azure's name for the vote ensemble; its `members` param holds the member configs as JSON. */
export const VOTING_ENSEMBLE = 'VotingEnsemble';

/** A VotingEnsemble config of equally weighted `members`. */
export function ensembleConfig(members: readonly TrialConfig[]): TrialConfig {
  return { algorithm: VOTING_ENSEMBLE, params: { members: JSON.stringify(members) } };
}

/** The member configs of a VotingEnsemble config; a malformed one is a RangeError. */
export function ensembleMembers(config: TrialConfig): TrialConfig[] {
  const raw = config.params.members;
  const parsed: unknown = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    !parsed.every(
      (m: unknown) =>
        typeof m === 'object' &&
        m !== null &&
        typeof (m as TrialConfig).algorithm === 'string' &&
        (m as TrialConfig).algorithm !== VOTING_ENSEMBLE &&
        typeof (m as TrialConfig).params === 'object',
    )
  ) {
    throw new RangeError('params.members must be a JSON array of member configs { algorithm, params }');
  }
  return parsed as TrialConfig[];
}

/** An ensemble: the weighted mean of its members' forecasts (weights are normalized). */
export function averageModels(members: { weight: number; model: ForecastModel }[]): ForecastModel {
  const first = members[0]?.model;
  if (first === undefined) throw new RangeError('members is empty');
  const total = members.reduce((s, m) => s + m.weight, 0);
  if (!(total > 0)) throw new RangeError('members: the weights must add up to more than 0');
  return {
    format: 'tessera.automl.forecast-model.v1',
    algorithm: VOTING_ENSEMBLE,
    params: {
      members: JSON.stringify(members.map((m) => ({ algorithm: m.model.algorithm, params: m.model.params }))),
    },
    frequency: first.frequency,
    horizon: first.horizon,
    series: first.series.map((s) => ({
      key: s.key,
      ids: s.ids,
      seasonLength: s.seasonLength,
      lastTime: s.lastTime,
      history: s.history,
    })),
    members: members.map((m) => ({ weight: m.weight / total, model: m.model })),
  };
}

/** Where a regression model's recursion starts, per series: what forecast-onnx.ts embeds. */
export interface RegressionState {
  /** Points of history a feature row reads (the largest lag or window). */
  window: number;
  /** Columns of a feature row (the lag feature builder's layout). */
  features: number;
  /** The transformed, scaled history the learner's features read. */
  histories: number[][];
  /** The last observed value (differences add up from it). */
  levels: number[];
}

export function regressionState(model: ForecastModel, regression: ForecastRegression): RegressionState {
  const { builder, inputs } = regressionInputs(model, regression);
  return {
    window: builder.historyNeeded,
    features: builder.featureNames.length,
    histories: inputs.map((s) => Array.from(s.values)),
    levels: model.series.map((s) => s.history[s.history.length - 1] as number),
  };
}

function regressionInputs(
  model: ForecastModel,
  regression: ForecastRegression,
): { builder: LagFeatureBuilder; inputs: TimeSeries[] } {
  const builder = createLagFeatureBuilder(
    {
      lags: regression.lags,
      rollingWindows: regression.windows,
      calendar: regression.calendar,
      seriesKeys: regression.seriesKeys,
      ...(regression.holidays === undefined ? {} : { holidays: regression.holidays }),
    },
    model.frequency,
  );
  const inputs = model.series.map((s) => {
    // Only the end of the history matters to the features; times are rebuilt from the last one.
    const n = s.history.length;
    const times = Float64Array.from({ length: n }, (_, i) => addPeriods(s.lastTime, model.frequency, i - n + 1));
    return transformed(s, regression.transform, times);
  });
  return { builder, inputs };
}

function regressionForecast(model: ForecastModel, regression: ForecastRegression, horizon: number): Float64Array[] {
  const { transform, regressor } = regression;
  const { builder, inputs } = regressionInputs(model, regression);
  const fitted: FittedModel = {
    task: 'regression',
    predict: (X: Matrix) => predictRegressor(regressor, X),
    exportOnnx: () => {
      throw new TypeError('a forecast regressor is not exported to ONNX');
    },
  };
  const frame = recursiveForecast(fitted, inputs, builder, model.frequency, horizon);
  return model.series.map((s, i) => {
    const out = new Float64Array(horizon);
    const scale = s.scale ?? 1;
    const center = s.center ?? 0;
    let level = s.history[s.history.length - 1] as number;
    for (let h = 0; h < horizon; h++) {
      const z = (frame.prediction[i * horizon + h] as number) * scale + center;
      if (transform === 'diff') {
        level += z;
        out[h] = level;
      } else out[h] = z;
    }
    return out;
  });
}

/** Per series (in model.series order), the next `horizon` values. */
export function forecastValues(model: ForecastModel, horizon = model.horizon): Float64Array[] {
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new RangeError(`horizon must be a positive integer; got ${horizon}`);
  if (model.members !== undefined) {
    const sums = model.series.map(() => new Float64Array(horizon));
    for (const member of model.members) {
      forecastValues(member.model, horizon).forEach((values, i) => {
        const sum = sums[i] as Float64Array;
        for (let h = 0; h < horizon; h++) sum[h] = (sum[h] as number) + member.weight * (values[h] as number);
      });
    }
    return sums;
  }
  if (model.regression !== undefined) return regressionForecast(model, model.regression, horizon);
  return model.series.map((s) => {
    const y = s.history;
    switch (model.algorithm) {
      case 'Naive':
        return naiveForecast(y, horizon);
      case 'SeasonalNaive':
        return seasonalNaiveForecast(y, s.seasonLength, horizon);
      case 'Average':
        return averageForecast(y, horizon);
      case 'SeasonalAverage':
        return seasonalAverageForecast(y, s.seasonLength, horizon);
      case 'ExponentialSmoothing': {
        if (s.smoothing === undefined) throw new TypeError(`model: series '${s.key}' has no smoothing state`);
        return forecastSmoothing(s.smoothing, horizon);
      }
      default:
        throw new RangeError(`model: unknown algorithm '${model.algorithm}'`);
    }
  });
}

/** The next `horizon` (default: the model's) periods of every series, series by series. */
export function forecast(model: ForecastModel, horizon = model.horizon): ForecastPoint[] {
  const values = forecastValues(model, horizon);
  const out: ForecastPoint[] = [];
  model.series.forEach((s, i) => {
    const v = values[i] as Float64Array;
    for (let h = 1; h <= horizon; h++) {
      out.push({ series: s.key, time: addPeriods(s.lastTime, model.frequency, h), value: v[h - 1] as number });
    }
  });
  return out;
}
