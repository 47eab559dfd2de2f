// Forecasting models as ONNX graphs (shared/ml/automl/forecast-onnx.ts), run by onnxruntime: every
// forecasting algorithm and the vote ensemble agree with the TypeScript forecaster at every
// frequency, rows the model cannot answer get NaN, the calendar arithmetic matches
// lag-features.ts, and the no-code ONNX deployment serves a forecasting model folder.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { largestRelativeDifference } from '../../shared/ml/onnx/agreement.js';
import { FORECAST_ALGORITHMS } from '../../shared/ml/automl/forecast-algorithms.js';
import type { PreparedForecast } from '../../shared/ml/automl/forecast-data.js';
import { prepareForecast } from '../../shared/ml/automl/forecast-data.js';
import type { ForecastModel } from '../../shared/ml/automl/forecast-model.js';
import { ensembleConfig, fitForecastModel, forecastValues } from '../../shared/ml/automl/forecast-model.js';
import {
  calendarFeaturesOnnx,
  exportForecastOnnx,
  forecastFeeds,
  forecastFlat,
  forecastManifest,
  MAX_FORECAST_STEPS,
} from '../../shared/ml/automl/forecast-onnx.js';
import { proposeForecastTrials } from '../../shared/ml/automl/forecast-proposer.js';
import type { AutomlSettings, TrialConfig } from '../../shared/ml/automl/types.js';
import { parseFrequency } from '../../shared/ml/forecast/forecaster.js';
import type { Frequency } from '../../shared/ml/forecast/frequency.js';
import { addPeriods } from '../../shared/ml/forecast/frequency.js';
import { allHolidays, HOLIDAY_COUNTRIES } from '../../shared/ml/forecast/holidays.js';
import type { CalendarFeature } from '../../shared/ml/forecast/lag-features.js';
import { createLagFeatureBuilder } from '../../shared/ml/forecast/lag-features.js';
import type { Column, Table } from '../../shared/ml/types.js';
import type { ModelSession } from '../../shared/ports/model-runtime.js';
import { createOnnxScorer } from '../../shared/serving/onnx-scorer.js';
import { forecastSettings } from '../support/forecast-settings.js';
import { tempDir } from '../support/serving-models.js';

const runtime = new OnnxModelRuntime();
const sessions: ModelSession[] = [];
after(async () => {
  for (const s of sessions) await s.close();
});

async function load(bytes: Uint8Array): Promise<ModelSession> {
  const session = await runtime.load(bytes);
  sessions.push(session);
  return session;
}

function settingsFor(idColumns: string[], horizon: number): AutomlSettings {
  return forecastSettings({ seriesIdColumns: idColumns, horizon });
}

/**
 * Series on the grid of `alias` from 2003-05-01 (a trend, a season of `season` periods and a
 * fixed wobble), one per id tuple of `ids` (none: a single series).
 */
function table(alias: string, n: number, season: number, ids: string[][] = [[]], idColumns: string[] = []): Table {
  const frequency = parseFrequency(alias);
  const start =
    frequency.kind === 'calendar' && frequency.anchor === 'end' ? Date.UTC(2003, 4, 31) : Date.UTC(2003, 4, 1);
  const times: number[] = [];
  const ys: number[] = [];
  const idValues: string[][] = idColumns.map(() => []);
  ids.forEach((tuple, k) => {
    for (let i = 0; i < n; i++) {
      times.push(addPeriods(start, frequency, i));
      ys.push(50 * (k + 1) + 0.3 * i + 8 * Math.sin((2 * Math.PI * i) / season) + ((i * 7919 + k * 31) % 17) / 17);
      tuple.forEach((v, j) => (idValues[j] as string[]).push(v));
    }
  });
  const columns: Column[] = [
    { kind: 'datetime', name: 'date', values: Float64Array.from(times) },
    { kind: 'numeric', name: 'y', values: Float64Array.from(ys) },
    ...idColumns.map((name, j): Column => ({ kind: 'categorical', name, values: idValues[j] as string[] })),
  ];
  return { rows: times.length, columns };
}

/** The largest relative difference between the graph's answers for steps 1..steps and forecastValues. */
async function disagreement(model: ForecastModel, data: PreparedForecast, steps: number): Promise<number> {
  const session = await load(exportForecastOnnx(model, data));
  const got = (await session.run(forecastFeeds(model, data, steps))).prediction?.data as ArrayLike<number>;
  const want = forecastFlat(model, steps);
  assert.ok(want.every(Number.isFinite), 'the TypeScript forecasts are numbers');
  return largestRelativeDifference(want, got);
}

function fitAll(
  data: PreparedForecast,
  configs: readonly TrialConfig[],
): { config: TrialConfig; model: ForecastModel }[] {
  const forecasting = data.settings.forecasting;
  assert.ok(forecasting !== undefined);
  const ctx = { frequency: data.frequency, horizon: data.horizon, forecasting, seed: 0 };
  return configs.map((config) => ({ config, model: fitForecastModel(data.series, config, ctx) }));
}

function fitOne(data: PreparedForecast, config: TrialConfig): ForecastModel {
  return (fitAll(data, [config])[0] as { model: ForecastModel }).model;
}

describe('forecasting models as ONNX graphs', () => {
  test('every algorithm and the vote ensemble agree with TypeScript over twice the horizon (monthly, two series)', async () => {
    const data = prepareForecast(settingsFor(['store'], 6), table('MS', 60, 12, [['north'], ['south']], ['store']));
    const candidates = proposeForecastTrials({ settings: data.settings, history: [], count: 100, seasonal: true });
    const covered = new Set(candidates.map((c) => c.algorithm));
    // The proposer runs LightGBM for all three boosting names; the others get one trial each here.
    const extra = Object.keys(FORECAST_ALGORITHMS)
      .filter((name) => !covered.has(name))
      .map((algorithm) => ({ algorithm, params: { transform: 'diff', lags: 4, n_estimators: 30 } }));
    const configs = [
      ...candidates,
      ...extra,
      ensembleConfig([candidates[5] as TrialConfig, candidates[9] as TrialConfig, candidates[12] as TrialConfig]),
    ];
    const names = new Set(configs.map((c) => c.algorithm));
    for (const name of [...Object.keys(FORECAST_ALGORITHMS), 'VotingEnsemble']) assert.ok(names.has(name), name);
    for (const { config, model } of fitAll(data, configs)) {
      const worst = await disagreement(model, data, 12);
      assert.ok(worst <= 1e-9, `${config.algorithm} ${JSON.stringify(config.params)}: ${worst}`);
    }
  });

  for (const [alias, season, n] of [
    ['ME', 12, 50],
    ['QS', 4, 40],
    ['YS', 1, 30],
    ['W', 52, 120],
    ['D', 7, 90],
    ['h', 24, 120],
    ['15min', 4, 80],
  ] as const) {
    test(`${alias}: smoothing, boosting with a rolling window and a linear model agree (two id columns)`, async () => {
      const ids = [
        ['east', 'x'],
        ['east', 'y'],
        ['west', 'x'],
      ];
      const data = prepareForecast(
        settingsFor(['region', 'item'], 5),
        table(alias, n, season, ids, ['region', 'item']),
      );
      const configs: TrialConfig[] = [
        { algorithm: 'ExponentialSmoothing', params: { trend: 'damped' } },
        { algorithm: 'SeasonalNaive', params: {} },
        {
          algorithm: 'LightGBM',
          params: { transform: 'diff', lags: 3, window: 3, n_estimators: 40, learning_rate: 0.1, num_leaves: 8 },
        },
        { algorithm: 'ElasticNet', params: { transform: 'level', lags: 2, alpha: 0.001 } },
      ];
      for (const { config, model } of fitAll(data, configs)) {
        const worst = await disagreement(model, data, 11);
        assert.ok(worst <= 1e-9, `${alias} ${config.algorithm}: ${worst}`);
      }
    });
  }

  test('rows it cannot answer get NaN; the others are answered in any order', async () => {
    const data = prepareForecast(settingsFor(['store'], 6), table('MS', 60, 12, [['north'], ['south']], ['store']));
    const model = fitOne(data, { algorithm: 'LightGBM', params: { transform: 'diff', lags: 4, n_estimators: 30 } });
    const session = await load(exportForecastOnnx(model, data));
    const last = (model.series[0] as ForecastModel['series'][number]).lastTime;
    const step = (h: number): number => addPeriods(last, model.frequency, h);
    const want = forecastValues(model, 3);
    const rows: [number, string, number][] = [
      [step(3), 'south', (want[1] as Float64Array)[2] as number],
      [step(1), 'north', (want[0] as Float64Array)[0] as number],
      [step(2), 'nowhere', NaN], // a series the model was not trained on
      [step(1) + 86_400_000, 'north', NaN], // mid-month: off the grid
      [last, 'north', NaN], // the last training period is not a forecast
      [step(-5), 'north', NaN],
      [NaN, 'north', NaN],
      [step(MAX_FORECAST_STEPS + 1), 'north', NaN],
      [step(2), 'south', (want[1] as Float64Array)[1] as number],
    ];
    const result = await session.run({
      date: { type: 'double', dims: [rows.length, 1], data: Float64Array.from(rows.map((r) => r[0])) },
      store: { type: 'string', dims: [rows.length, 1], data: rows.map((r) => r[1]) },
    });
    const got = result.prediction?.data as Float64Array;
    rows.forEach(([, store, expected], i) => {
      if (Number.isNaN(expected)) assert.ok(Number.isNaN(got[i] as number), `row ${i} (${store}) should be NaN`);
      else assert.equal(got[i], expected, `row ${i}`);
    });
  });

  test('the calendar arithmetic gives lag-features.ts values from 1900 to 2100', async () => {
    const features: CalendarFeature[] = [
      'year',
      'quarter',
      'month',
      'week_of_year',
      'day_of_month',
      'day_of_week',
      'day_of_year',
      'hour',
      'minute',
    ];
    const session = await load(calendarFeaturesOnnx(features));
    const times: number[] = [];
    let seed = 12345;
    const from = Date.UTC(1900, 0, 1);
    const to = Date.UTC(2100, 11, 31, 23, 59);
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1_103_515_245 + 12345) % 2 ** 31;
      times.push(from + Math.floor((seed / 2 ** 31) * ((to - from) / 60_000)) * 60_000);
    }
    // Year ends, leap days and ISO week edges.
    for (const y of [1900, 1999, 2000, 2004, 2020, 2021, 2026, 2100]) {
      for (const [m, d] of [
        [0, 1],
        [0, 3],
        [1, 28],
        [1, 29],
        [2, 1],
        [11, 28],
        [11, 31],
      ] as const) {
        times.push(Date.UTC(y, m, d), Date.UTC(y, m, d, 23, 59));
      }
    }
    const result = await session.run({
      time: { type: 'double', dims: [times.length], data: Float64Array.from(times) },
    });
    const got = result.features?.data as Float64Array;
    const months = result.month_index?.data as Float64Array;
    const builder = createLagFeatureBuilder({ lags: [], calendar: features }, parseFrequency('min') as Frequency);
    const row = new Float64Array(features.length);
    times.forEach((t, i) => {
      builder.writeRow([], 0, t, '', row, 0);
      const d = new Date(t);
      assert.equal(months[i], d.getUTCFullYear() * 12 + d.getUTCMonth(), `month index of ${d.toISOString()}`);
      features.forEach((f, k) => assert.equal(got[i * features.length + k], row[k], `${f} of ${d.toISOString()}`));
    });
  });

  test('the holiday feature: the graph marks the same days as holidays.ts, for every country, 1900 to 2200', async () => {
    for (const country of HOLIDAY_COUNTRIES) {
      const session = await load(calendarFeaturesOnnx(['holiday', 'day_of_week'], country));
      // Every holiday, the day before and after it, and noon of each, over the years with rules,
      // and days outside them (none is a holiday there).
      const times: number[] = [];
      for (const day of allHolidays(country)) {
        for (const d of [day - 1, day, day + 1]) times.push(d * 86_400_000, d * 86_400_000 + 43_200_000);
      }
      times.push(Date.UTC(1899, 11, 25), Date.UTC(2201, 0, 1), Date.UTC(2201, 6, 4));
      const result = await session.run({
        time: { type: 'double', dims: [times.length], data: Float64Array.from(times) },
      });
      const got = result.features?.data as Float64Array;
      const builder = createLagFeatureBuilder(
        { lags: [], calendar: ['holiday', 'day_of_week'], holidays: country },
        parseFrequency('h') as Frequency,
      );
      const row = new Float64Array(2);
      let marked = 0;
      times.forEach((t, i) => {
        builder.writeRow([], 0, t, '', row, 0);
        assert.equal(got[i * 2], row[0], `${country} ${new Date(t).toISOString()}`);
        marked += row[0] as number;
      });
      // Each holiday is marked at both its times (and a neighbour is marked when it is a holiday too).
      assert.ok(marked >= 2 * allHolidays(country).length, country);
    }
  });

  test('a daily boosting model with US holidays agrees with TypeScript, and the holiday is one of its features', async () => {
    const settings = forecastSettings({ seriesIdColumns: [], horizon: 14, holidays: 'US' });
    // Daily from 2003-05-01 over the 2003 holidays season: July 4th, Labor Day, Thanksgiving, Christmas.
    const data = prepareForecast(settings, table('D', 240, 7));
    assert.ok(data.notices.some((n) => n.includes('US public holidays')));
    const model = fitOne(data, {
      algorithm: 'LightGBM',
      params: { transform: 'diff', lags: 7, n_estimators: 40, learning_rate: 0.1, num_leaves: 8 },
    });
    assert.ok(model.regression?.calendar.includes('holiday'));
    assert.equal(model.regression?.holidays, 'US');
    const worst = await disagreement(model, data, 30);
    assert.ok(worst <= 1e-9, `${worst}`);
    // Monthly data: holidays mark days, so they do not apply, and a notice says so.
    const monthly = prepareForecast(
      forecastSettings({ seriesIdColumns: [], horizon: 4, holidays: 'US' }),
      table('MS', 60, 12),
    );
    assert.ok(monthly.notices.some((n) => n.includes('has no effect at frequency MS')));
    const linear = fitOne(monthly, { algorithm: 'ElasticNet', params: { transform: 'level', lags: 2 } });
    assert.ok(!linear.regression?.calendar.includes('holiday'));
  });

  test('a forecasting model folder is served by the no-code ONNX deployment', async () => {
    const data = prepareForecast(settingsFor(['store'], 6), table('MS', 60, 12, [['north'], ['south']], ['store']));
    const model = fitOne(data, { algorithm: 'ExponentialSmoothing', params: { trend: 'additive' } });
    const dir = tempDir('forecast-model');
    writeFileSync(join(dir, 'model.onnx'), exportForecastOnnx(model, data));
    const manifest = forecastManifest(model, data, 0.01);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    assert.deepEqual(
      manifest.inputs.map((i) => [i.column, i.encoding]),
      [
        ['date', 'epoch-ms'],
        ['store', 'string'],
      ],
    );
    assert.equal(manifest.forecast?.series.length, 2);
    const scorer = await createOnnxScorer(
      { kind: 'onnx', modelDir: dir, instanceCount: 1, environmentVariables: {} },
      { modelRuntime: runtime },
    );
    try {
      const first = addPeriods((model.series[1] as ForecastModel['series'][number]).lastTime, model.frequency, 1);
      const body = {
        input_data: {
          columns: ['store', 'date'],
          data: [
            ['south', new Date(first).toISOString()],
            ['north', new Date(addPeriods(first, model.frequency, 2)).toISOString()],
            ['atlantis', new Date(first).toISOString()],
          ],
        },
      };
      const res = await scorer.score(
        { body: Buffer.from(JSON.stringify(body)), headers: {} },
        new AbortController().signal,
      );
      assert.equal(res.status, 200, res.body.toString());
      const want = forecastValues(model, 3);
      assert.deepEqual(JSON.parse(res.body.toString()), [
        (want[1] as Float64Array)[0],
        (want[0] as Float64Array)[2],
        null,
      ]);
    } finally {
      await scorer.close();
    }
  });
});
