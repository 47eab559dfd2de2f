import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../shared/errors.js';
import { naiveForecast, seasonalAverageForecast, seasonalNaiveForecast } from '../../shared/ml/forecast/baselines.js';
import {
  fitExponentialSmoothing,
  forecastExponentialSmoothing,
} from '../../shared/ml/forecast/exponential-smoothing.js';
import { fitStatisticalForecaster, fitStatisticalSeries, parseFrequency } from '../../shared/ml/forecast/forecaster.js';
import {
  addPeriods,
  calendarFrequency,
  fixedFrequency,
  inferFrequency,
  periodLabel,
} from '../../shared/ml/forecast/frequency.js';
import { buildLagTrainingSet, createLagFeatureBuilder } from '../../shared/ml/forecast/lag-features.js';
import { nelderMead } from '../../shared/ml/forecast/nelder-mead.js';
import { recursiveForecast } from '../../shared/ml/forecast/recursive.js';
import { detectSeasonality } from '../../shared/ml/forecast/seasonality.js';
import type { TimeSeries } from '../../shared/ml/forecast/series.js';
import { groupSeries, regularize } from '../../shared/ml/forecast/series.js';
import { regressionMetrics } from '../../shared/ml/metrics.js';
import type { FittedModel, Matrix, Table } from '../../shared/ml/types.js';
import { loadTable, noDatasets } from './ml-datasets.js';

const DAY = 86_400_000;
const close = (actual: number, expected: number, tol: number, label = ''): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `${label} expected ${expected} ± ${tol}, got ${actual}`);
};

const mae = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
};

/** A series' first points as a new series (the rest is the holdout). */
const head = (s: TimeSeries, n: number): TimeSeries => ({
  key: s.key,
  ids: s.ids,
  times: s.times.slice(0, n),
  values: s.values.slice(0, n),
  rows: s.rows.slice(0, n),
});

function series(values: number[], times?: number[], key = ''): TimeSeries {
  return {
    key,
    ids: key === '' ? [] : [key],
    times: Float64Array.from(times ?? values.map((_, i) => Date.UTC(2000, i, 1))),
    values: Float64Array.from(values),
    rows: Int32Array.from(values.map((_, i) => i)),
  };
}

// ---------------------------------------------------------------------------------------------
// Frequency, grid, seasonality

test('frequency inference: month/quarter/year starts, month ends, fixed steps, gaps tolerated', () => {
  const months = Array.from({ length: 6 }, (_, i) => Date.UTC(2020, i, 1));
  assert.equal(inferFrequency(months).alias, 'MS');
  assert.equal(inferFrequency(months.filter((_, i) => i % 3 === 0)).alias, 'QS');
  assert.equal(inferFrequency([Date.UTC(2001, 0, 1), Date.UTC(2002, 0, 1), Date.UTC(2004, 0, 1)]).alias, 'YS');
  const ends = [Date.UTC(2020, 0, 31), Date.UTC(2020, 1, 29), Date.UTC(2020, 2, 31), Date.UTC(2020, 3, 30)];
  assert.equal(inferFrequency(ends).alias, 'ME');
  // Daily with one missing day: the most common step wins.
  assert.equal(inferFrequency([0, DAY, 2 * DAY, 4 * DAY, 5 * DAY]).alias, 'D');
  assert.equal(inferFrequency([0, 3_600_000, 7_200_000]).alias, 'h');
  assert.equal(inferFrequency([0, 15 * 60_000, 30 * 60_000]).alias, '15min');
  assert.throws(() => inferFrequency([5]), ValidationError);
});

test('periodLabel: the period holding a time, labeled as pandas resample labels it', () => {
  const at = (alias: string, iso: string): string =>
    new Date(periodLabel(Date.parse(iso), parseFrequency(alias))).toISOString().slice(0, 16);
  assert.equal(at('MS', '2021-05-17T13:00Z'), '2021-05-01T00:00');
  assert.equal(at('ME', '2020-02-03T00:00Z'), '2020-02-29T00:00');
  assert.equal(at('QS', '2021-05-17T00:00Z'), '2021-04-01T00:00');
  assert.equal(at('QE', '2021-05-17T00:00Z'), '2021-06-30T00:00');
  assert.equal(at('YS', '2021-12-31T23:00Z'), '2021-01-01T00:00');
  assert.equal(at('2MS', '2021-02-10T00:00Z'), '2021-01-01T00:00');
  // Weeks end on Sunday (2021-05-16 and 2021-05-23 were Sundays).
  assert.equal(at('W', '2021-05-17T09:00Z'), '2021-05-23T00:00');
  assert.equal(at('W', '2021-05-16T00:00Z'), '2021-05-16T00:00');
  assert.equal(at('W', '1969-12-31T00:00Z'), '1970-01-04T00:00');
  assert.equal(at('D', '2021-05-17T23:59Z'), '2021-05-17T00:00');
  assert.equal(at('6h', '2021-05-17T13:30Z'), '2021-05-17T12:00');
  assert.throws(() => periodLabel(0, parseFrequency('2W')), /several weeks have no natural start/);
});

test('calendar arithmetic: month ends stay month ends, quarters step by three months', () => {
  const me = calendarFrequency(1, 'end');
  assert.equal(new Date(addPeriods(Date.UTC(2020, 0, 31), me, 1)).toISOString().slice(0, 10), '2020-02-29');
  assert.equal(new Date(addPeriods(Date.UTC(2020, 0, 31), me, 13)).toISOString().slice(0, 10), '2021-02-28');
  assert.equal(
    new Date(addPeriods(Date.UTC(2020, 10, 1), parseFrequency('QS'), 1)).toISOString().slice(0, 10),
    '2021-02-01',
  );
  assert.equal(addPeriods(0, parseFrequency('2h'), 3), 6 * 3_600_000);
  assert.deepEqual(parseFrequency('MS'), calendarFrequency(1, 'start'));
  assert.deepEqual(parseFrequency('W'), fixedFrequency(7 * DAY));
  assert.throws(() => parseFrequency('fortnightly'), /not a supported alias/);
});

test('regularize inserts missing periods with the last value and rejects off-grid times', () => {
  const s = series(
    [1, 2, Number.NaN, 5],
    [Date.UTC(2020, 0, 1), Date.UTC(2020, 1, 1), Date.UTC(2020, 2, 1), Date.UTC(2020, 4, 1)],
  );
  const r = regularize(s, calendarFrequency(1));
  assert.deepEqual([...r.values], [1, 2, 2, 2, 5]);
  assert.deepEqual([...r.rows], [0, 1, 2, -1, 3]);
  assert.equal(new Date(r.times[3] as number).toISOString().slice(0, 10), '2020-04-01');
  const off = series([1, 2, 3], [Date.UTC(2020, 0, 1), Date.UTC(2020, 1, 1), Date.UTC(2020, 1, 15)]);
  assert.throws(() => regularize(off, calendarFrequency(1)), /off its MS grid/);
  // A leading gap is filled backwards.
  assert.deepEqual([...regularize(series([Number.NaN, 3, 4]), calendarFrequency(1)).values], [3, 3, 4]);
});

test('seasonality: a weekly pattern in daily data is found; noise and a pure trend have none', () => {
  const pattern = [5, 3, 4, 8, 9, 1, 0];
  const daily = Array.from({ length: 70 }, (_, i) => 0.1 * i + (pattern[i % 7] as number));
  assert.equal(detectSeasonality(daily, { frequency: fixedFrequency(DAY) }), 7);
  assert.equal(
    detectSeasonality(
      Array.from({ length: 60 }, (_, i) => 2 * i + 1),
      { frequency: calendarFrequency(1) },
    ),
    1,
  );
  // A fixed pseudo-random sequence (LCG) has no season.
  let x = 12345;
  const noise = Array.from({ length: 120 }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  });
  assert.equal(detectSeasonality(noise, { frequency: calendarFrequency(1) }), 1);
  // Too short for two seasons: none.
  assert.equal(detectSeasonality(daily.slice(0, 10), { frequency: fixedFrequency(DAY) }), 1);
});

// ---------------------------------------------------------------------------------------------
// Models

test('Nelder-Mead finds the Rosenbrock minimum from a fixed start, identically each time', () => {
  const rosenbrock = (p: Float64Array): number =>
    100 * ((p[1] as number) - (p[0] as number) ** 2) ** 2 + (1 - (p[0] as number)) ** 2;
  const a = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 2000, tolerance: 1e-15 });
  close(a.x[0] as number, 1, 1e-4);
  close(a.x[1] as number, 1, 1e-4);
  assert.deepEqual(nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 2000, tolerance: 1e-15 }), a);
});

test('baselines: naive repeats the last value, seasonal naive the last season, seasonal average the mean per slot', () => {
  const y = [1, 2, 3, 4, 5, 6, 7];
  assert.deepEqual([...naiveForecast(y, 3)], [7, 7, 7]);
  assert.deepEqual([...seasonalNaiveForecast(y, 3, 5)], [5, 6, 7, 5, 6]);
  // Slots by position mod 3: {1,4,7}, {2,5}, {3,6}; the next point (index 7) is slot 1.
  assert.deepEqual([...seasonalAverageForecast(y, 3, 3)], [3.5, 4.5, 4]);
});

test('Holt-Winters reproduces an exact trend + season and forecasts it without error', () => {
  const pattern = [3, -1, -4, 2];
  const y = Array.from({ length: 40 }, (_, i) => 10 + 0.5 * i + (pattern[i % 4] as number));
  const fit = fitExponentialSmoothing(y, { seasonLength: 4 });
  assert.equal(fit.seasonLength, 4);
  assert.ok(fit.sse < 1e-18, `sse ${fit.sse}`);
  const expected = Array.from({ length: 9 }, (_, h) => 10 + 0.5 * (40 + h) + (pattern[(40 + h) % 4] as number));
  forecastExponentialSmoothing(fit, 9).forEach((v, i) => close(v, expected[i] as number, 1e-9, `h=${i + 1}`));
  // Simple exponential smoothing of a constant is the constant; a short series drops its season.
  const flat = fitExponentialSmoothing([4, 4, 4, 4], { trend: false });
  assert.deepEqual([...forecastExponentialSmoothing(flat, 2)], [4, 4]);
  assert.equal(fitExponentialSmoothing(y.slice(0, 8), { seasonLength: 4 }).seasonLength, 1);
});

test('Holt-Winters parameters minimize the in-sample SSE and are deterministic', () => {
  // A noisy seasonal series from a fixed LCG.
  let x = 99;
  const y = Array.from({ length: 60 }, (_, i) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return 20 + 0.3 * i + 4 * Math.sin((2 * Math.PI * i) / 6) + (x / 2147483648 - 0.5) * 2;
  });
  const fit = fitExponentialSmoothing(y, { seasonLength: 6 });
  assert.deepEqual(fitExponentialSmoothing(y, { seasonLength: 6 }), fit);
  for (const p of [fit.alpha, fit.beta, fit.gamma]) assert.ok(p > 0 && p < 1);
  // No grid point of (alpha, beta, gamma) scores better than the optimum (within rounding).
  const withParams = (alpha: number, beta: number, gamma: number): number => {
    let level = 0;
    let slope = 0;
    const season = new Float64Array(6);
    let first = 0;
    let second = 0;
    for (let i = 0; i < 6; i++) {
      first += (y[i] as number) / 6;
      second += (y[i + 6] as number) / 6;
    }
    slope = (second - first) / 6;
    let mean = 0;
    for (let i = 0; i < 6; i++) {
      season[i] = (y[i] as number) - (first + (i - 2.5) * slope);
      mean += (season[i] as number) / 6;
    }
    for (let i = 0; i < 6; i++) season[i] = (season[i] as number) - mean;
    level = first + 2.5 * slope;
    let sse = 0;
    for (let t = 6; t < y.length; t++) {
      const s = season[t % 6] as number;
      const e = (y[t] as number) - (level + slope + s);
      sse += e * e;
      const l0 = level;
      const b0 = slope;
      level = alpha * ((y[t] as number) - s) + (1 - alpha) * (level + slope);
      slope = beta * (level - l0) + (1 - beta) * slope;
      season[t % 6] = gamma * ((y[t] as number) - l0 - b0) + (1 - gamma) * s;
    }
    return sse;
  };
  close(withParams(fit.alpha, fit.beta, fit.gamma), fit.sse, 1e-9 * fit.sse, 'SSE recomputed independently');
  for (let a = 0.05; a < 1; a += 0.15) {
    for (let b = 0.05; b < 1; b += 0.15) {
      for (let g = 0.05; g < 1; g += 0.15) {
        assert.ok(withParams(a, b, g) >= fit.sse - 1e-9, `(${a}, ${b}, ${g}) beats the fit`);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The shared datasets

test(
  'co2_monthly: MS frequency, season 12; on the 12-month holdout seasonal naive and Holt-Winters beat naive',
  { skip: noDatasets },
  () => {
    const { info, table } = loadTable('co2_monthly');
    const [full] = groupSeries(table, { timeColumn: info.time_column as string, targetColumn: info.target });
    const s = full as TimeSeries;
    const horizon = info.horizon as number;
    assert.equal(horizon, 12);
    assert.equal(inferFrequency(s.times).alias, 'MS');
    const train = head(s, s.values.length - horizon);
    const actual = s.values.slice(s.values.length - horizon);
    assert.equal(detectSeasonality(train.values, { frequency: calendarFrequency(1) }), info.season_length);

    const scores = new Map<string, number>();
    for (const method of ['Naive', 'SeasonalNaive', 'SeasonalAverage', 'ExponentialSmoothing'] as const) {
      const fitted = fitStatisticalSeries([train], method, { horizon });
      const frame = fitted.forecast();
      assert.equal(frame.prediction.length, 12);
      // Forecast times continue the monthly grid.
      assert.deepEqual([...frame.time], [...s.times.slice(s.values.length - horizon)]);
      scores.set(method, mae(frame.prediction, actual));
    }
    const naive = scores.get('Naive') as number;
    const seasonalNaive = scores.get('SeasonalNaive') as number;
    const holtWinters = scores.get('ExponentialSmoothing') as number;
    assert.ok(seasonalNaive < naive, `seasonal naive MAE ${seasonalNaive} vs naive ${naive}`);
    assert.ok(holtWinters < naive, `Holt-Winters MAE ${holtWinters} vs naive ${naive}`);
    assert.ok(holtWinters < seasonalNaive, `Holt-Winters MAE ${holtWinters} vs seasonal naive ${seasonalNaive}`);
    // The trend makes Holt-Winters well under 1 ppm here; the naive forecast is off by the season.
    assert.ok(holtWinters < 1, `Holt-Winters MAE ${holtWinters}`);
    const m = regressionMetrics({
      yTrue: actual,
      yPred: fitStatisticalSeries([train], 'ExponentialSmoothing', { horizon }).forecast().prediction,
    });
    assert.ok(m.normalized_root_mean_squared_error < 0.2, `NRMSE ${m.normalized_root_mean_squared_error}`);
  },
);

test(
  'sunspots_yearly: YS frequency, no calendar season (auto gives 1), the ~11-year cycle by searching all lags',
  { skip: noDatasets },
  () => {
    const { info, table } = loadTable('sunspots_yearly');
    const [s] = groupSeries(table, { timeColumn: info.time_column as string, targetColumn: info.target });
    const values = (s as TimeSeries).values;
    assert.equal(inferFrequency((s as TimeSeries).times).alias, 'YS');
    const fitted = fitStatisticalSeries([s as TimeSeries], 'ExponentialSmoothing', { horizon: info.horizon as number });
    assert.equal(fitted.series[0]?.seasonLength, info.season_length);
    const cycle = detectSeasonality(values, { search: 'any', maxLag: 20 });
    assert.ok(cycle >= 9 && cycle <= 12, `cycle ${cycle}`);
    const frame = fitted.forecast();
    assert.equal(new Date(frame.time[0] as number).getUTCFullYear(), 2009);
  },
);

test('macro_quarterly: 8 series by series_id, QS, per-series forecasts of the horizon', { skip: noDatasets }, () => {
  const { info, table } = loadTable('macro_quarterly', ['series_id']);
  const horizon = info.horizon as number;
  const settings = {
    timeColumn: info.time_column as string,
    targetColumn: info.target,
    seriesIdColumns: info.series_id_columns as string[],
  };
  const all = groupSeries(table, settings);
  assert.equal(all.length, 8);
  const train = all.map((s) => head(s, s.values.length - horizon));
  const fitted = fitStatisticalSeries(train, 'ExponentialSmoothing', { horizon, trend: 'auto' });
  assert.equal(fitted.frequency.alias, 'QS');
  const frame = fitted.forecast();
  assert.equal(frame.prediction.length, 8 * horizon);
  // Seasonally adjusted series show no quarterly season; population (pop) does in its differences.
  const seasons = new Map(fitted.series.map((m) => [m.key, m.seasonLength]));
  assert.equal(seasons.get('realgdp'), 1);
  assert.equal(seasons.get('cpi'), 1);
  const maes = new Map<string, { es: number; naive: number }>();
  all.forEach((s, i) => {
    const actual = s.values.slice(s.values.length - horizon);
    const es = frame.prediction.slice(i * horizon, (i + 1) * horizon);
    assert.ok(es.every(Number.isFinite), s.key);
    assert.equal(frame.seriesKey[i * horizon], s.key);
    maes.set(s.key, {
      es: mae(es, actual),
      naive: mae(naiveForecast(train[i]?.values as Float64Array, horizon), actual),
    });
  });
  // pop grows steadily with a quarterly pattern: trend + season forecast it far better than naive.
  const pop = maes.get('pop') as { es: number; naive: number };
  assert.ok(pop.es < pop.naive / 10, `pop: ${pop.es} vs naive ${pop.naive}`);
  const cpi = maes.get('cpi') as { es: number; naive: number };
  assert.ok(cpi.es < cpi.naive, `cpi: ${cpi.es} vs naive ${cpi.naive}`);
  // No claim for the real-activity series: the holdout (2007Q4-2009Q3) is the recession, where
  // extrapolating the trend loses to the last value (realgdp 525 vs 192 MAE).
  // The table-level entry point gives the same forecasts as the series-level one on the full data.
  const direct = fitStatisticalForecaster(table, 'Naive', { ...settings, horizon });
  assert.equal(direct.forecast().prediction.length, 8 * horizon);
});

// ---------------------------------------------------------------------------------------------
// Lag features and the recursive forecaster

test('lag features: lags, rolling windows and calendar values of the predicted period', () => {
  const s = series([10, 11, 12, 13, 14, 15], undefined, 'x');
  const builder = createLagFeatureBuilder(
    { lags: [1, 3], rollingWindows: [2], rollingStats: ['mean', 'min', 'max'], seriesKeys: ['x', 'y'] },
    calendarFrequency(1),
  );
  assert.deepEqual(builder.featureNames, [
    'lag_1',
    'lag_3',
    'rolling_mean_2',
    'rolling_min_2',
    'rolling_max_2',
    'year',
    'quarter',
    'month',
    'series_index',
  ]);
  assert.equal(builder.historyNeeded, 3);
  const set = buildLagTrainingSet([s], builder);
  assert.equal(set.X.rows, 3);
  // Row predicting index 3 (April 2000, value 13): lag1 12, lag3 10, window (11, 12).
  assert.deepEqual([...set.X.data.slice(0, 9)], [12, 10, 11.5, 11, 12, 2000, 2, 4, 0]);
  assert.deepEqual([...set.y], [13, 14, 15]);
  assert.deepEqual([...set.position], [3, 4, 5]);
  const weekly = createLagFeatureBuilder(
    { lags: [1], calendar: ['week_of_year', 'day_of_week', 'day_of_year'] },
    fixedFrequency(DAY),
  );
  const out = new Float64Array(4);
  // 2021-01-03 is a Sunday in ISO week 53 of 2020; 2021-01-04 is Monday of week 1.
  weekly.writeRow([1], 1, Date.UTC(2021, 0, 3), '', out, 0);
  assert.deepEqual([...out], [1, 53, 6, 3]);
  weekly.writeRow([1], 1, Date.UTC(2021, 0, 4), '', out, 0);
  assert.deepEqual([...out], [1, 1, 0, 4]);
});

/** y(t) = y(t-1) + 1: the model reads lag_1 (column 0) and adds one. */
const plusOne: FittedModel = {
  task: 'regression',
  predict: (X: Matrix) => Float64Array.from({ length: X.rows }, (_, r) => (X.data[r * X.cols] as number) + 1),
  exportOnnx: () => {
    throw new Error('not needed');
  },
};

test('recursive forecasting feeds each prediction back into the next step’s lags, per series', () => {
  const a = series([1, 2, 3], undefined, 'a');
  const b = series(
    [10, 20, 30, 40],
    Array.from({ length: 4 }, (_, i) => Date.UTC(2001, i, 1)),
    'b',
  );
  const builder = createLagFeatureBuilder(
    { lags: [1, 2], rollingWindows: [3], seriesKeys: ['a', 'b'] },
    calendarFrequency(1),
  );
  const frame = recursiveForecast(plusOne, [a, b], builder, calendarFrequency(1), 3);
  assert.deepEqual([...frame.prediction], [4, 5, 6, 41, 42, 43]);
  assert.deepEqual(frame.seriesKey, ['a', 'a', 'a', 'b', 'b', 'b']);
  assert.deepEqual([...frame.step], [1, 2, 3, 1, 2, 3]);
  assert.equal(new Date(frame.time[3] as number).toISOString().slice(0, 10), '2001-05-01');
  assert.throws(
    () => recursiveForecast(plusOne, [series([1, 2])], builder, calendarFrequency(1), 1),
    (e: unknown) => e instanceof ValidationError && /need 3/.test(e.message),
  );
});

/** Ordinary least squares on standardized columns (a test double for "any FittedModel"). */
function fitLeastSquares(X: Matrix, y: Float64Array): FittedModel {
  const d = X.cols;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d).fill(1);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < X.rows; i++) s += X.data[i * d + j] as number;
    mean[j] = s / X.rows;
    let v = 0;
    for (let i = 0; i < X.rows; i++) v += ((X.data[i * d + j] as number) - (mean[j] as number)) ** 2;
    scale[j] = Math.sqrt(v / X.rows) || 1;
  }
  const p = d + 1;
  const A: Float64Array[] = Array.from({ length: p }, () => new Float64Array(p + 1));
  const z = new Float64Array(p);
  for (let i = 0; i < X.rows; i++) {
    z[0] = 1;
    for (let j = 0; j < d; j++) z[j + 1] = ((X.data[i * d + j] as number) - (mean[j] as number)) / (scale[j] as number);
    for (let r = 0; r < p; r++) {
      const row = A[r] as Float64Array;
      for (let c = 0; c < p; c++) row[c] = (row[c] as number) + (z[r] as number) * (z[c] as number);
      row[p] = (row[p] as number) + (z[r] as number) * (y[i] as number);
    }
  }
  for (let r = 1; r < p; r++) (A[r] as Float64Array)[r] = ((A[r] as Float64Array)[r] as number) + 1e-8;
  // Gauss-Jordan with partial pivoting.
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++)
      if (Math.abs((A[r] as Float64Array)[c] as number) > Math.abs((A[pivot] as Float64Array)[c] as number)) pivot = r;
    [A[c], A[pivot]] = [A[pivot] as Float64Array, A[c] as Float64Array];
    const pr = A[c] as Float64Array;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const row = A[r] as Float64Array;
      const f = (row[c] as number) / (pr[c] as number);
      for (let k = c; k <= p; k++) row[k] = (row[k] as number) - f * (pr[k] as number);
    }
  }
  const beta = Float64Array.from(
    { length: p },
    (_, r) => ((A[r] as Float64Array)[p] as number) / ((A[r] as Float64Array)[r] as number),
  );
  return {
    task: 'regression',
    predict(Q: Matrix) {
      const out = new Float64Array(Q.rows);
      for (let i = 0; i < Q.rows; i++) {
        let v = beta[0] as number;
        for (let j = 0; j < d; j++)
          v += (beta[j + 1] as number) * (((Q.data[i * d + j] as number) - (mean[j] as number)) / (scale[j] as number));
        out[i] = v;
      }
      return out;
    },
    exportOnnx: () => {
      throw new Error('not needed');
    },
  };
}

test(
  'co2_monthly: a least-squares model on lag features, forecast recursively, beats naive on the holdout',
  { skip: noDatasets },
  () => {
    const { info, table } = loadTable('co2_monthly');
    const [s] = groupSeries(table, { timeColumn: info.time_column as string, targetColumn: info.target });
    const full = s as TimeSeries;
    const horizon = info.horizon as number;
    const train = head(full, full.values.length - horizon);
    const actual = full.values.slice(full.values.length - horizon);
    const frequency = inferFrequency(train.times);
    const builder = createLagFeatureBuilder(
      { lags: [1, 2, 12, 13], rollingWindows: [12], calendar: ['year'] },
      frequency,
    );
    const set = buildLagTrainingSet([train], builder);
    assert.equal(set.X.rows, train.values.length - 13);
    const model = fitLeastSquares(set.X, set.y);
    const frame = recursiveForecast(model, [train], builder, frequency, horizon);
    const lagMae = mae(frame.prediction, actual);
    const naiveMae = mae(naiveForecast(train.values, horizon), actual);
    assert.ok(lagMae < naiveMae / 2, `recursive least squares MAE ${lagMae} vs naive ${naiveMae}`);
    assert.deepEqual([...frame.time], [...full.times.slice(full.values.length - horizon)]);
  },
);

test('table entry point: series grouped by id, missing target columns named', () => {
  const table: Table = {
    rows: 6,
    columns: [
      { kind: 'datetime', name: 'date', values: Float64Array.from([0, DAY, 2 * DAY, 0, DAY, 2 * DAY]) },
      { kind: 'categorical', name: 'store', values: ['b', 'b', 'b', 'a', 'a', 'a'] },
      { kind: 'numeric', name: 'sales', values: Float64Array.from([1, 2, 3, 7, 8, 9]) },
    ],
  };
  const fitted = fitStatisticalForecaster(table, 'Naive', {
    timeColumn: 'date',
    targetColumn: 'sales',
    seriesIdColumns: ['store'],
    horizon: 2,
  });
  const frame = fitted.forecast();
  assert.deepEqual(frame.seriesKey, ['a', 'a', 'b', 'b']);
  assert.deepEqual([...frame.prediction], [9, 9, 3, 3]);
  assert.deepEqual([...frame.time], [3 * DAY, 4 * DAY, 3 * DAY, 4 * DAY]);
  assert.throws(
    () => fitStatisticalForecaster(table, 'Naive', { timeColumn: 'date', targetColumn: 'units', horizon: 2 }),
    (e: unknown) =>
      e instanceof ValidationError && /'units' is not in the data; its columns are: date, store, sales/.test(e.message),
  );
});
