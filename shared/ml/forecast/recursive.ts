/**
 * Multi-step forecasting with a one-step regression model, recursively: the prediction for
 * period T+1 joins the history that the features of T+2 read, and so on. Each step predicts every
 * series in one `predict` call.
 */
import { ValidationError } from '../../errors.js';
import type { FittedModel } from '../types.js';
import type { ForecastFrame } from './forecaster.js';
import type { Frequency } from './frequency.js';
import { addPeriods } from './frequency.js';
import type { LagFeatureBuilder } from './lag-features.js';
import type { TimeSeries } from './series.js';

/**
 * Forecasts `horizon` periods after the end of each series with `model` (a regressor trained on
 * rows from the same `builder`). The series must be regular and filled (series.ts `regularize`).
 */
export function recursiveForecast(
  model: FittedModel,
  series: readonly TimeSeries[],
  builder: LagFeatureBuilder,
  frequency: Frequency,
  horizon: number,
): ForecastFrame {
  if (model.task !== 'regression') throw new TypeError('model: recursive forecasting needs a regression model');
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new RangeError(`horizon must be a positive integer; got ${horizon}`);
  for (const s of series) {
    if (s.values.length < builder.historyNeeded) {
      throw new ValidationError(
        `series ${s.key === '' ? '' : `'${s.key}' `}has ${s.values.length} points; its features need ` +
          `${builder.historyNeeded} (the largest lag or rolling window)`,
      );
    }
  }
  const width = builder.featureNames.length;
  const histories = series.map((s) => {
    const h = new Float64Array(s.values.length + horizon);
    h.set(s.values);
    return h;
  });
  const lastTimes = series.map((s) => s.times[s.times.length - 1] as number);
  const rows = series.length;
  const X = { rows, cols: width, data: new Float64Array(rows * width) };
  const prediction = new Float64Array(rows * horizon);
  const time = new Float64Array(rows * horizon);
  for (let h = 1; h <= horizon; h++) {
    series.forEach((s, i) => {
      const t = addPeriods(lastTimes[i] as number, frequency, h);
      builder.writeRow(histories[i] as Float64Array, s.values.length + h - 1, t, s.key, X.data, i * width);
      time[i * horizon + h - 1] = t;
    });
    const yhat = model.predict(X);
    series.forEach((s, i) => {
      const v = yhat[i] as number;
      (histories[i] as Float64Array)[s.values.length + h - 1] = v;
      prediction[i * horizon + h - 1] = v;
    });
  }
  const seriesKey: string[] = [];
  const step = new Int32Array(rows * horizon);
  series.forEach((s, i) => {
    for (let h = 1; h <= horizon; h++) {
      seriesKey.push(s.key);
      step[i * horizon + h - 1] = h;
    }
  });
  return { seriesKey, time, step, prediction };
}
