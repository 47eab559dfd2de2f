/**
 * Features for forecasting with a regression model (gradient boosting or any FittedModel): target
 * lags (Azure's target_lags), rolling-window statistics of the previous values
 * (target_rolling_window_size), calendar features of the period being predicted, and the series'
 * index when there are several.
 *
 * One function, `writeRow`, computes a row from a series' history and the time of the period to
 * predict. Training rows and the recursive forecaster's rows both come from it, so what the model
 * was trained on and what it is asked at forecast time cannot drift apart.
 */
import type { Matrix } from '../types.js';
import type { Frequency } from './frequency.js';
import { holidayValue, type HolidayCountry } from './holidays.js';
import type { TimeSeries } from './series.js';

export type CalendarFeature =
  | 'year'
  | 'quarter'
  | 'month'
  | 'week_of_year'
  | 'day_of_month'
  | 'day_of_week'
  | 'day_of_year'
  | 'hour'
  | 'minute'
  /** 1 on a public holiday of LagFeatureSpec.holidays (holidays.ts), else 0. */
  | 'holiday';

export type RollingStat = 'mean' | 'min' | 'max';

export interface LagFeatureSpec {
  /** target_lags: y(t - lag) for each lag (positive integers). */
  lags: readonly number[];
  /** target_rolling_window_size: statistics over y(t - w) .. y(t - 1) for each window w. */
  rollingWindows?: readonly number[];
  /** Statistics of each window (default ['mean']). */
  rollingStats?: readonly RollingStat[];
  /** Calendar features of time t (default: those that vary at the frequency, see calendarFeaturesFor). */
  calendar?: readonly CalendarFeature[];
  /** The series keys in a fixed order; with more than one, the key's index is a feature. */
  seriesKeys?: readonly string[];
  /** The country whose holidays the 'holiday' calendar feature marks (required with it). */
  holidays?: HolidayCountry;
}

export interface LagFeatureBuilder {
  readonly featureNames: readonly string[];
  /** Points of history a row needs: the largest lag or window. */
  readonly historyNeeded: number;
  /**
   * Writes the features of the period at `time`, following `history[0 .. length)`, into `out`
   * from `offset`. `seriesKey` must be one of spec.seriesKeys when those were given.
   */
  writeRow(
    history: ArrayLike<number>,
    length: number,
    time: number,
    seriesKey: string,
    out: Float64Array,
    offset: number,
  ): void;
}

/** The calendar features that change from one period to the next at `frequency`. */
export function calendarFeaturesFor(frequency: Frequency): CalendarFeature[] {
  if (frequency.kind === 'calendar') {
    if (frequency.months >= 12) return ['year'];
    if (frequency.months >= 3) return ['year', 'quarter'];
    return ['year', 'quarter', 'month'];
  }
  const hour = 3_600_000;
  const day = 24 * hour;
  if (frequency.stepMs >= 7 * day) return ['year', 'month', 'week_of_year'];
  if (frequency.stepMs >= day) return ['year', 'month', 'day_of_month', 'day_of_week', 'day_of_year'];
  if (frequency.stepMs >= hour) return ['year', 'month', 'day_of_month', 'day_of_week', 'hour'];
  return ['year', 'month', 'day_of_month', 'day_of_week', 'hour', 'minute'];
}

function calendarValue(feature: CalendarFeature, time: number, holidays: HolidayCountry | undefined): number {
  const d = new Date(time);
  switch (feature) {
    case 'holiday':
      if (holidays === undefined) throw new RangeError("the 'holiday' calendar feature needs a holidays country");
      return holidayValue(holidays, time);
    case 'year':
      return d.getUTCFullYear();
    case 'quarter':
      return Math.floor(d.getUTCMonth() / 3) + 1;
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day_of_month':
      return d.getUTCDate();
    case 'day_of_week':
      // Monday = 0 .. Sunday = 6, as pandas' dayofweek.
      return (d.getUTCDay() + 6) % 7;
    case 'day_of_year':
      return Math.floor((time - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    case 'week_of_year': {
      // ISO week: the week (Monday first) whose Thursday falls in the year counts from 1.
      const day = 86_400_000;
      const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      const thursday = midnight + (3 - ((d.getUTCDay() + 6) % 7)) * day;
      const jan1 = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
      return Math.floor((thursday - jan1) / day / 7) + 1;
    }
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    default: {
      const unknown: never = feature;
      throw new RangeError(`unknown calendar feature '${String(unknown)}'`);
    }
  }
}

function checkPositiveIntegers(values: readonly number[], name: string): void {
  for (const v of values)
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must hold positive integers; got ${v}`);
}

export function createLagFeatureBuilder(spec: LagFeatureSpec, frequency: Frequency): LagFeatureBuilder {
  const lags = [...spec.lags];
  const windows = [...(spec.rollingWindows ?? [])];
  const stats = [...(spec.rollingStats ?? ['mean'])];
  const calendar = [...(spec.calendar ?? calendarFeaturesFor(frequency))];
  if (calendar.includes('holiday') && spec.holidays === undefined) {
    throw new RangeError("the 'holiday' calendar feature needs spec.holidays, the country whose holidays it marks");
  }
  checkPositiveIntegers(lags, 'lags');
  checkPositiveIntegers(windows, 'rollingWindows');
  const keys = spec.seriesKeys ?? [];
  const codes = new Map(keys.map((k, i) => [k, i]));
  const withSeries = keys.length > 1;
  const featureNames = [
    ...lags.map((l) => `lag_${l}`),
    ...windows.flatMap((w) => stats.map((s) => `rolling_${s}_${w}`)),
    ...calendar,
    ...(withSeries ? ['series_index'] : []),
  ];
  const historyNeeded = Math.max(0, ...lags, ...windows);
  return {
    featureNames,
    historyNeeded,
    writeRow(history, length, time, seriesKey, out, offset) {
      if (length < historyNeeded) throw new RangeError(`a row needs ${historyNeeded} points of history; got ${length}`);
      let o = offset;
      for (const lag of lags) out[o++] = history[length - lag] as number;
      for (const w of windows) {
        let sum = 0;
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        for (let i = length - w; i < length; i++) {
          const v = history[i] as number;
          sum += v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        for (const s of stats) out[o++] = s === 'mean' ? sum / w : s === 'min' ? min : max;
      }
      for (const feature of calendar) out[o++] = calendarValue(feature, time, spec.holidays);
      // A series unseen in training has no index: NaN, which tree models route as missing.
      if (withSeries) out[o++] = codes.get(seriesKey) ?? Number.NaN;
    },
  };
}

export interface LagTrainingSet {
  X: Matrix;
  y: Float64Array;
  /** For each row, the series (index into the input list) and the position predicted. */
  series: Int32Array;
  position: Int32Array;
}

/**
 * One row per point that has `historyNeeded` points before it, in every series. The series must
 * be regular and filled (see series.ts `regularize`).
 */
export function buildLagTrainingSet(series: readonly TimeSeries[], builder: LagFeatureBuilder): LagTrainingSet {
  const width = builder.featureNames.length;
  let rows = 0;
  for (const s of series) rows += Math.max(0, s.values.length - builder.historyNeeded);
  const data = new Float64Array(rows * width);
  const y = new Float64Array(rows);
  const seriesIndex = new Int32Array(rows);
  const position = new Int32Array(rows);
  let r = 0;
  series.forEach((s, si) => {
    for (let t = builder.historyNeeded; t < s.values.length; t++) {
      builder.writeRow(s.values, t, s.times[t] as number, s.key, data, r * width);
      y[r] = s.values[t] as number;
      seriesIndex[r] = si;
      position[r] = t;
      r++;
    }
  });
  return { X: { rows, cols: width, data }, y, series: seriesIndex, position };
}
