/**
 * Statistical forecasters over a long-format table: the table is split by time_series_id, each
 * series is put on its regular grid (frequency inferred unless given), gets its season length
 * (given, or detected per series with 'auto'), and is fitted on its own.
 */
import { ValidationError } from '../../errors.js';
import type { Table } from '../types.js';
import { averageForecast, naiveForecast, seasonalAverageForecast, seasonalNaiveForecast } from './baselines.js';
import type { ExponentialSmoothingFit } from './exponential-smoothing.js';
import { fitExponentialSmoothing, forecastExponentialSmoothing } from './exponential-smoothing.js';
import type { Frequency } from './frequency.js';
import { addPeriods, calendarFrequency, fixedFrequency, inferCommonFrequency } from './frequency.js';
import { detectSeasonality } from './seasonality.js';
import type { TimeSeries, TimeSeriesSettings } from './series.js';
import { groupSeries, regularize } from './series.js';

/** Azure's names for these models (allowed_training_algorithms). */
export type StatisticalForecastMethod =
  'Naive' | 'SeasonalNaive' | 'Average' | 'SeasonalAverage' | 'ExponentialSmoothing';

export interface StatisticalForecastOptions {
  /** forecast_horizon: periods forecast by default. */
  horizon: number;
  /** seasonality: a season length, or 'auto' (default) to detect it per series. */
  seasonality?: number | 'auto';
  /** freq: a pandas alias ('MS', 'QS', 'D', '2h', ...) or a Frequency; inferred by default. */
  frequency?: Frequency | string;
  /** ExponentialSmoothing only: keep a trend (default true), or choose by AICc ('auto'). */
  trend?: boolean | 'auto';
}

export interface ForecastFrame {
  /** Per forecast row: the series key, the period's time, its step (1 = next period) and the value. */
  seriesKey: string[];
  time: Float64Array;
  step: Int32Array;
  prediction: Float64Array;
}

export interface SeriesForecastModel {
  key: string;
  ids: readonly string[];
  seasonLength: number;
  /** Time of the last observation: forecasts start one period later. */
  lastTime: number;
  /** The fitted smoothing model (ExponentialSmoothing only). */
  smoothing?: ExponentialSmoothingFit;
  forecast(horizon: number): Float64Array;
}

export interface FittedStatisticalForecaster {
  method: StatisticalForecastMethod;
  frequency: Frequency;
  horizon: number;
  series: readonly SeriesForecastModel[];
  /** Forecasts `horizon` (default: the fitted horizon) periods of every series. */
  forecast(horizon?: number): ForecastFrame;
}

const ALIAS = /^(\d*)(MS|ME|M|QS|QE|Q|YS|YE|Y|AS|A|W|D|h|H|min|T|s|S|ms|L)$/;

/** A pandas offset alias as a Frequency ('MS', '3h', 'QS', 'D', 'W', 'YS', ...). */
export function parseFrequency(alias: string): Frequency {
  const match = ALIAS.exec(alias.trim());
  if (match === null) {
    throw new ValidationError(
      `freq '${alias}' is not a supported alias; use one of MS, ME, QS, QE, YS, YE, W, D, h, min, s (with an optional multiple, e.g. 2h)`,
      { target: 'freq' },
    );
  }
  const count = match[1] === '' ? 1 : Number(match[1]);
  const unit = match[2] as string;
  const calendar: Record<string, [number, 'start' | 'end']> = {
    MS: [1, 'start'],
    ME: [1, 'end'],
    M: [1, 'end'],
    QS: [3, 'start'],
    QE: [3, 'end'],
    Q: [3, 'end'],
    YS: [12, 'start'],
    AS: [12, 'start'],
    YE: [12, 'end'],
    Y: [12, 'end'],
    A: [12, 'end'],
  };
  const cal = calendar[unit];
  if (cal !== undefined) return calendarFrequency(cal[0] * count, cal[1]);
  const ms: Record<string, number> = {
    W: 604_800_000,
    D: 86_400_000,
    h: 3_600_000,
    H: 3_600_000,
    min: 60_000,
    T: 60_000,
    s: 1000,
    S: 1000,
    ms: 1,
    L: 1,
  };
  return fixedFrequency((ms[unit] as number) * count);
}

export function resolveFrequency(series: readonly TimeSeries[], frequency?: Frequency | string): Frequency {
  if (frequency === undefined) return inferCommonFrequency(series.map((s) => s.times));
  return typeof frequency === 'string' ? parseFrequency(frequency) : frequency;
}

function checkOptions(options: StatisticalForecastOptions): void {
  const { horizon, seasonality } = options;
  if (!Number.isInteger(horizon) || horizon < 1) {
    throw new RangeError(`horizon (forecast_horizon) must be a positive integer; got ${horizon}`);
  }
  if (seasonality !== undefined && seasonality !== 'auto' && (!Number.isInteger(seasonality) || seasonality < 1)) {
    throw new RangeError(`seasonality must be a positive integer or 'auto'; got ${seasonality}`);
  }
}

/** Fits `method` to each (already grouped) series. */
export function fitStatisticalSeries(
  series: readonly TimeSeries[],
  method: StatisticalForecastMethod,
  options: StatisticalForecastOptions,
): FittedStatisticalForecaster {
  checkOptions(options);
  if (series.length === 0) throw new ValidationError('there is no data to forecast from');
  const frequency = resolveFrequency(series, options.frequency);
  const models: SeriesForecastModel[] = series.map((raw) => {
    const s = regularize(raw, frequency);
    const values = s.values;
    const seasonLength =
      options.seasonality === undefined || options.seasonality === 'auto'
        ? detectSeasonality(values, { frequency })
        : options.seasonality;
    const base = { key: s.key, ids: s.ids, seasonLength, lastTime: s.times[s.times.length - 1] as number };
    switch (method) {
      case 'Naive':
        return { ...base, forecast: (h: number) => naiveForecast(values, h) };
      case 'SeasonalNaive':
        return { ...base, forecast: (h: number) => seasonalNaiveForecast(values, seasonLength, h) };
      case 'Average':
        return { ...base, forecast: (h: number) => averageForecast(values, h) };
      case 'SeasonalAverage':
        return { ...base, forecast: (h: number) => seasonalAverageForecast(values, seasonLength, h) };
      case 'ExponentialSmoothing': {
        const smoothing = fitExponentialSmoothing(values, { seasonLength, trend: options.trend ?? true });
        return {
          ...base,
          seasonLength: smoothing.seasonLength,
          smoothing,
          forecast: (h: number) => forecastExponentialSmoothing(smoothing, h),
        };
      }
      default: {
        const unknown: never = method;
        throw new RangeError(`unknown forecasting method '${String(unknown)}'`);
      }
    }
  });
  return {
    method,
    frequency,
    horizon: options.horizon,
    series: models,
    forecast(horizon = options.horizon) {
      const seriesKey: string[] = [];
      const time: number[] = [];
      const step: number[] = [];
      const prediction: number[] = [];
      for (const model of models) {
        const values = model.forecast(horizon);
        for (let h = 1; h <= horizon; h++) {
          seriesKey.push(model.key);
          time.push(addPeriods(model.lastTime, frequency, h));
          step.push(h);
          prediction.push(values[h - 1] as number);
        }
      }
      return {
        seriesKey,
        time: Float64Array.from(time),
        step: Int32Array.from(step),
        prediction: Float64Array.from(prediction),
      };
    },
  };
}

/** Splits `table` into series (see series.ts) and fits `method` to each. */
export function fitStatisticalForecaster(
  table: Table,
  method: StatisticalForecastMethod,
  settings: TimeSeriesSettings & StatisticalForecastOptions,
): FittedStatisticalForecaster {
  return fitStatisticalSeries(groupSeries(table, settings), method, settings);
}
