/**
 * A fitted forecaster (ForecastModel) as one ONNX graph: rows of (time, series ids) in, the
 * forecast for each row's period out, computed as forecast-model.ts computes it.
 *
 * Inputs: the time column, double [N, 1] of epoch milliseconds, and each series id column, string
 * [N, 1] (none for a single series). Output `prediction`, double [N, 1]. A row whose series the
 * model was not trained on, whose time is not on the series' grid after its last training period,
 * or which lies more than MAX_FORECAST_STEPS periods ahead gets NaN: a graph cannot raise an error.
 *
 * How the graph computes:
 * - Row → series: a LabelEncoder per id column, and for several columns a second one from the
 *   combined codes to the series index.
 * - Row → step h: periods after the series' last training time. Calendar frequencies need the
 *   month of an epoch time; `CalendarMath` does Hinnant's civil-from-days in double arithmetic.
 * - Forecasts [M, S] for steps 1..M (M the largest step asked) and every series, then each row
 *   gathers its own:
 *   - baselines and exponential smoothing: G[s, (h - 1) mod P_s] + slope_s · D_s(h), where
 *     D(h) = h undamped or φ(1 - φ^h)/(1 - φ) damped;
 *   - regression learners: a Loop over the steps, the recursion of recursive.ts: lags and rolling
 *     means read a history window carried from step to step, calendar features come from the
 *     step's time, the tree ensemble (TreeEnsembleRegressor) or the linear model predicts every
 *     series at once, and its prediction joins the window;
 *   - vote ensembles: the weighted sum of the members' tables.
 * Tree predictions are float32 in ONNX; forecast-algorithms.ts rounds its own to float32 too, so
 * that the recursion reads the same history in both.
 */
import type { AttributeValue, OnnxGraphBuilder } from '../onnx/builder.js';
import { createOnnxGraph } from '../onnx/graph-builder.js';
import { exportTreeRegressor } from '../models/tree-ensemble-onnx.js';
import type { TreeNodes } from '../models/tree.js';
import type { Frequency } from '../forecast/frequency.js';
import { allHolidays, type HolidayCountry } from '../forecast/holidays.js';
import type { CalendarFeature } from '../forecast/lag-features.js';
import {
  averageForecast,
  naiveForecast,
  seasonalAverageForecast,
  seasonalNaiveForecast,
} from '../forecast/baselines.js';
import type { RuntimeTensor } from '../../ports/model-runtime.js';
import { addPeriods, monthIndex, timeOfDay as timeOfDayMs } from '../forecast/frequency.js';
import type { RegressorData } from './forecast-algorithms.js';
import type { PreparedForecast } from './forecast-data.js';
import type { ForecastModel, ForecastRegression, ForecastSeriesModel } from './forecast-model.js';
import { forecastValues, regressionState } from './forecast-model.js';
import type { ModelManifest } from './types.js';

/**
 * Steps further ahead than this get NaN. A request's furthest step sets the work (the regression
 * Loop runs once per step, over every series), so one far-off time must not cost a deployment
 * minutes.
 */
export const MAX_FORECAST_STEPS = 1_000;

const DAY = 86_400_000;
const DOUBLE = 11;
const FLOAT = 1;
const INT64 = 7;

export interface ForecastOnnxOptions {
  timeColumn: string;
  seriesIdColumns: readonly string[];
}

/** Small arithmetic over double tensors, with shared scalar constants. */
class Ops {
  private readonly scalars = new Map<string, string>();

  constructor(readonly g: OnnxGraphBuilder) {}

  /** The double scalar `v`. */
  c(v: number): string {
    return this.scalar('double', v);
  }

  /** The int64 scalar `v`. */
  i64(v: number): string {
    return this.scalar('int64', v);
  }

  private scalar(type: 'double' | 'int64', v: number): string {
    const key = `${type} ${Object.is(v, -0) ? '-0' : String(v)}`;
    let name = this.scalars.get(key);
    if (name === undefined) {
      name = this.g.constant(type === 'double' ? 'k' : 'k_int', { type, dims: [], data: [v] });
      this.scalars.set(key, name);
    }
    return name;
  }

  vec(prefix: string, values: readonly number[]): string {
    return this.g.constant(prefix, { type: 'double', dims: [values.length], data: values });
  }

  op(type: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    const out = this.g.fresh(type.toLowerCase());
    this.g.node(type, inputs, [out], attributes);
    return out;
  }

  add = (a: string, b: string): string => this.op('Add', [a, b]);
  sub = (a: string, b: string): string => this.op('Sub', [a, b]);
  mul = (a: string, b: string): string => this.op('Mul', [a, b]);
  div = (a: string, b: string): string => this.op('Div', [a, b]);
  floor = (a: string): string => this.op('Floor', [a]);
  /** floor(a / b) for doubles holding whole numbers. */
  floorDiv = (a: string, b: number): string => this.floor(this.div(a, this.c(b)));
  /** a - b floor(a / b): the remainder with b's sign, as Python's %. */
  mod = (a: string, b: number): string => this.modBy(a, this.c(b));
  modBy = (a: string, b: string): string => this.sub(a, this.mul(b, this.floor(this.div(a, b))));
  /** 1.0 where a <= b, else 0.0. */
  le = (a: string, b: string): string => this.cast(this.op('LessOrEqual', [a, b]), DOUBLE);
  cast = (a: string, to: number): string => this.op('Cast', [a], { to: { i: to } });
  where = (cond: string, a: string, b: string): string => this.op('Where', [cond, a, b]);
  equal = (a: string, b: string): string => this.op('Equal', [a, b]);
  and = (a: string, b: string): string => this.op('And', [a, b]);
  unsqueeze = (a: string, axis: number): string =>
    this.op('Unsqueeze', [a, this.g.constant('axes', { type: 'int64', dims: [1], data: [axis] })]);
  squeeze = (a: string, axis: number): string =>
    this.op('Squeeze', [a, this.g.constant('axes', { type: 'int64', dims: [1], data: [axis] })]);
  gather = (data: string, indices: string, axis = 0): string =>
    this.op('Gather', [data, indices], { axis: { i: axis } });
}

/** Calendar arithmetic on double tensors of whole days (Hinnant, "chrono-compatible date algorithms"). */
class CalendarMath {
  constructor(private readonly o: Ops) {}

  /** Days since 1970-01-01 → year, month (1-12), day (1-31). */
  civil(days: string): { year: string; month: string; day: string } {
    const o = this.o;
    const z = o.add(days, o.c(719_468));
    const era = o.floorDiv(z, 146_097);
    const doe = o.sub(z, o.mul(era, o.c(146_097)));
    const yoe = o.floorDiv(
      o.sub(o.add(o.sub(doe, o.floorDiv(doe, 1460)), o.floorDiv(doe, 36_524)), o.floorDiv(doe, 146_096)),
      365,
    );
    const doy = o.sub(doe, o.sub(o.add(o.mul(yoe, o.c(365)), o.floorDiv(yoe, 4)), o.floorDiv(yoe, 100)));
    const mp = o.floorDiv(o.add(o.mul(doy, o.c(5)), o.c(2)), 153);
    const day = o.add(o.sub(doy, o.floorDiv(o.add(o.mul(mp, o.c(153)), o.c(2)), 5)), o.c(1));
    // month = mp + 3, or mp - 9 from mp = 10 on.
    const month = o.sub(o.add(mp, o.c(3)), o.mul(o.c(12), o.le(o.c(10), mp)));
    const year = o.add(o.add(yoe, o.mul(era, o.c(400))), o.le(month, o.c(2)));
    return { year, month, day };
  }

  /** Year, month (1-12), day → days since 1970-01-01. */
  days(year: string, month: string, day: string): string {
    const o = this.o;
    const early = o.le(month, o.c(2));
    const y = o.sub(year, early);
    const era = o.floorDiv(y, 400);
    const yoe = o.sub(y, o.mul(era, o.c(400)));
    const mp = o.add(o.sub(month, o.c(3)), o.mul(o.c(12), early));
    const doy = o.add(o.floorDiv(o.add(o.mul(mp, o.c(153)), o.c(2)), 5), o.sub(day, o.c(1)));
    const doe = o.add(o.sub(o.add(o.mul(yoe, o.c(365)), o.floorDiv(yoe, 4)), o.floorDiv(yoe, 100)), doy);
    return o.sub(o.add(o.mul(era, o.c(146_097)), doe), o.c(719_468));
  }

  /** Months since year 0 of an epoch-ms time: year · 12 + month - 1. */
  monthIndex(time: string): string {
    const o = this.o;
    const { year, month } = this.civil(o.floorDiv(time, DAY));
    return o.add(o.mul(year, o.c(12)), o.sub(month, o.c(1)));
  }

  /** The grid time of month index `index` (frequency.ts addPeriods): its first or last day, plus `timeOfDay`. */
  anchoredTime(index: string, anchor: 'start' | 'end', timeOfDay: string): string {
    const o = this.o;
    const target = anchor === 'start' ? index : o.add(index, o.c(1));
    const year = o.floorDiv(target, 12);
    const month = o.add(o.sub(target, o.mul(year, o.c(12))), o.c(1));
    let days = this.days(year, month, o.c(1));
    if (anchor === 'end') days = o.sub(days, o.c(1));
    return o.add(o.mul(days, o.c(DAY)), timeOfDay);
  }

  /**
   * Calendar features of epoch-ms times, as lag-features.ts calendarValue computes them, each
   * [N, 1]. The date and the weekday are computed once, and only when a feature needs them.
   */
  features(features: readonly CalendarFeature[], time: string, holidays?: HolidayCountry): string[] {
    const o = this.o;
    const once = <T>(make: () => T): (() => T) => {
      let value: T | undefined;
      return () => (value ??= make());
    };
    const days = once(() => o.floorDiv(time, DAY));
    const date = once(() => this.civil(days()));
    const weekday = once(() => o.mod(o.add(days(), o.c(3)), 7)); // Monday 0 (1970-01-01 was a Thursday)
    const timeOfDay = once(() => o.sub(time, o.mul(days(), o.c(DAY))));
    const one = (feature: CalendarFeature): string => {
      switch (feature) {
        case 'year':
          return date().year;
        case 'quarter':
          return o.add(o.floorDiv(o.sub(date().month, o.c(1)), 3), o.c(1));
        case 'month':
          return date().month;
        case 'day_of_month':
          return date().day;
        case 'day_of_week':
          return weekday();
        case 'day_of_year':
          return o.add(o.sub(days(), this.days(date().year, o.c(1), o.c(1))), o.c(1));
        case 'week_of_year': {
          const thursday = o.sub(o.add(days(), o.c(3)), weekday());
          const jan1 = this.days(this.civil(thursday).year, o.c(1), o.c(1));
          return o.add(o.floorDiv(o.sub(thursday, jan1), 7), o.c(1));
        }
        case 'hour':
          return o.floorDiv(timeOfDay(), 3_600_000);
        case 'minute':
          return o.floorDiv(o.mod(timeOfDay(), 3_600_000), 60_000);
        case 'holiday': {
          // 1 where the day is one of the country's holidays (a constant of every holiday of
          // holidays.ts HOLIDAY_YEARS): Equal against all of them, the row's max.
          if (holidays === undefined) throw new RangeError("the 'holiday' calendar feature needs a holidays country");
          const all = o.vec('holidays', allHolidays(holidays));
          const hit = o.cast(o.equal(o.unsqueeze(days(), 1), all), DOUBLE);
          return o.op('ReduceMax', [hit], { axes: { ints: [1] }, keepdims: { i: 0 } });
        }
        default: {
          const unknown: never = feature;
          throw new RangeError(`unknown calendar feature '${String(unknown)}'`);
        }
      }
    };
    return features.map((f) => o.unsqueeze(one(f), 1));
  }
}

/** Per-series constants of the grid: what `stepTime` needs. */
interface GridConstants {
  /** fixed: the last training time; calendar: its month index. */
  origin: string;
  /** calendar: the last training time's time of day. */
  timeOfDay?: string;
}

function gridConstants(o: Ops, series: readonly ForecastSeriesModel[], frequency: Frequency): GridConstants {
  if (frequency.kind === 'fixed')
    return {
      origin: o.vec(
        'last_time',
        series.map((s) => s.lastTime),
      ),
    };
  return {
    origin: o.vec(
      'last_month',
      series.map((s) => monthIndex(s.lastTime)),
    ),
    timeOfDay: o.vec(
      'time_of_day',
      series.map((s) => timeOfDayMs(s.lastTime)),
    ),
  };
}

/** The time of step `h` after the origin (frequency.ts addPeriods), for tensors that broadcast. */
function stepTime(
  o: Ops,
  cal: CalendarMath,
  frequency: Frequency,
  origin: string,
  timeOfDay: string | undefined,
  h: string,
): string {
  if (frequency.kind === 'fixed') return o.add(origin, o.mul(h, o.c(frequency.stepMs)));
  return cal.anchoredTime(o.add(origin, o.mul(h, o.c(frequency.months))), frequency.anchor, timeOfDay as string);
}

/** The statistical models' table [M, S] for steps hs ([M, 1] double, 1..M). */
function statisticalTable(o: Ops, model: ForecastModel, hs: string): string {
  const periods: number[] = [];
  const tables: number[][] = [];
  const slopes: number[] = [];
  const phis: number[] = [];
  for (const s of model.series) {
    const y = s.history;
    let values: ArrayLike<number>;
    let slope = 0;
    let phi = 1;
    switch (model.algorithm) {
      case 'Naive':
        values = naiveForecast(y, 1);
        break;
      case 'Average':
        values = averageForecast(y, 1);
        break;
      case 'SeasonalNaive':
        values = seasonalNaiveForecast(y, s.seasonLength, Math.min(Math.max(1, s.seasonLength), y.length));
        break;
      case 'SeasonalAverage':
        values = seasonalAverageForecast(y, s.seasonLength, Math.max(1, s.seasonLength));
        break;
      case 'ExponentialSmoothing': {
        const state = s.smoothing;
        if (state === undefined) throw new TypeError(`model: series '${s.key}' has no smoothing state`);
        values = state.season.map((v) => state.level + v);
        slope = state.slope;
        phi = state.phi;
        break;
      }
      default:
        throw new RangeError(`model: unknown algorithm '${model.algorithm}'`);
    }
    periods.push(values.length);
    tables.push(Array.from(values));
    slopes.push(slope);
    phis.push(phi);
  }
  const width = Math.max(...periods);
  const flat = tables.flatMap((t) => [...t, ...new Array<number>(width - t.length).fill(0)]);
  const S = model.series.length;
  const table = o.vec('season_table', flat);
  const period = o.vec('period', periods);
  // Column of step h in series s: s · width + (h - 1) mod P_s.
  const rowStart = o.vec(
    'row_start',
    Array.from({ length: S }, (_, s) => s * width),
  );
  const slot = o.add(o.modBy(o.sub(hs, o.c(1)), period), rowStart);
  const base = o.gather(table, o.cast(slot, INT64));
  if (slopes.every((v) => v === 0)) return base;
  const phi = o.vec('phi', phis);
  const slope = o.vec('slope', slopes);
  // D(h) = h undamped; φ (1 - φ^h) / (1 - φ) damped.
  const damped = o.div(o.mul(phi, o.sub(o.c(1), o.op('Pow', [phi, hs]))), o.sub(o.c(1), phi));
  return o.add(base, o.mul(slope, o.where(o.equal(phi, o.c(1)), hs, damped)));
}

/** RegressorData's trees as TreeNodes for the ONNX exporter. */
function treeNodes(data: Extract<RegressorData, { kind: 'trees' }>): TreeNodes[] {
  return data.trees.map((t) => ({
    nodeCount: t.feature.length,
    outputs: 1,
    feature: Int32Array.from(t.feature),
    threshold: Float32Array.from(t.threshold),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    value: Float64Array.from(t.value),
  }));
}

/** The regression model's table [M, S]: a Loop of M steps of the recursion. */
function regressionTable(
  o: Ops,
  model: ForecastModel,
  regression: ForecastRegression,
  steps: string,
  grid: GridConstants,
): string {
  const g = o.g;
  const S = model.series.length;
  const state = regressionState(model, regression);
  const L = Math.max(1, state.window);
  const history = g.constant('history', {
    type: 'double',
    dims: [S, L],
    data: state.histories.flatMap((h) => {
      const tail = h.slice(Math.max(0, h.length - L));
      return [...new Array<number>(L - tail.length).fill(0), ...tail];
    }),
  });
  const level0 = o.vec('level', state.levels);
  const scale = o.vec(
    'scale',
    model.series.map((s) => s.scale ?? 1),
  );
  const center = o.vec(
    'center',
    model.series.map((s) => s.center ?? 0),
  );

  const body = g.subgraph('forecast_step');
  const b = new Ops(body);
  const cal = new CalendarMath(b);
  const iteration = body.input(body.fresh('step_index'), 'int64', []);
  const condition = body.input(body.fresh('condition'), 'bool', []);
  const window = body.input(body.fresh('window'), 'double', [S, L]);
  const level = body.input(body.fresh('level_in'), 'double', [S]);
  const h = b.add(b.cast(iteration, DOUBLE), b.c(1));
  const time = stepTime(b, cal, model.frequency, grid.origin, grid.timeOfDay, h);
  const columns: string[] = [];
  const int64s = (prefix: string, values: number[]): string =>
    body.constant(prefix, { type: 'int64', dims: [values.length], data: values });
  if (regression.lags.length > 0) {
    columns.push(
      b.gather(
        window,
        int64s(
          'lag_columns',
          regression.lags.map((lag) => L - lag),
        ),
        1,
      ),
    );
  }
  for (const w of regression.windows) {
    const slice = b.op('Slice', [window, int64s('starts', [L - w]), int64s('ends', [L]), int64s('axes', [1])]);
    columns.push(b.op('ReduceMean', [slice], { axes: { ints: [1] }, keepdims: { i: 1 } }));
  }
  columns.push(...cal.features(regression.calendar, time, regression.holidays));
  if (regression.seriesKeys.length > 1) {
    columns.push(
      body.constant('series_index', {
        type: 'double',
        dims: [S, 1],
        data: regression.seriesKeys.map((_, i) => i),
      }),
    );
  }
  if (columns.length === 0) {
    throw new TypeError(
      'model: a regression forecaster without lags, windows, calendar or series features has nothing to export',
    );
  }
  const features = columns.length === 1 ? (columns[0] as string) : b.op('Concat', columns, { axis: { i: 1 } });
  const width = state.features;
  const regressor = regression.regressor;
  let predicted: string;
  if (regressor.kind === 'linear') {
    const weights = body.constant('coefficients', {
      type: 'double',
      dims: [width, 1],
      data: regressor.coefficients,
    });
    predicted = b.squeeze(b.add(b.op('MatMul', [features, weights]), b.c(regressor.intercept)), 1);
  } else {
    // The trees compare float32 features, as predictRegressor's Math.fround does.
    const out = exportTreeRegressor(
      body,
      { tensor: b.cast(features, FLOAT), width },
      {
        trees: treeNodes(regressor),
        aggregate: regressor.aggregate === 'mean' ? 'AVERAGE' : 'SUM',
        baseValue: regressor.base,
      },
    );
    predicted = b.squeeze(b.cast(out, DOUBLE), 1);
  }
  const z = b.add(b.mul(predicted, scale), center);
  const value = regression.transform === 'diff' ? b.add(level, z) : z;
  const kept = b.op('Slice', [window, int64s('starts', [1]), int64s('ends', [L]), int64s('axes', [1])]);
  const nextWindow = b.op('Concat', [kept, b.unsqueeze(predicted, 1)], { axis: { i: 1 } });
  const conditionOut = b.op('Identity', [condition]);
  const levelOut = b.op('Identity', [value]);
  const valueOut = b.op('Identity', [value]);
  body.output(conditionOut, 'bool', []);
  body.output(nextWindow, 'double', [S, L]);
  body.output(levelOut, 'double', [S]);
  body.output(valueOut, 'double', [S]);

  const finalWindow = g.fresh('final_window');
  const finalLevel = g.fresh('final_level');
  const table = g.fresh('regression_table');
  const always = g.constant('true', { type: 'bool', dims: [], data: [true] });
  g.node('Loop', [steps, always, history, level0], [finalWindow, finalLevel, table], { body: { g: body } });
  return table;
}

/** The table [M, S] of `model` (members weighted) for steps 1..M. */
function forecastTable(o: Ops, model: ForecastModel, hs: string, steps: string, grid: GridConstants): string {
  if (model.members !== undefined) {
    let sum: string | undefined;
    for (const member of model.members) {
      const part = o.mul(forecastTable(o, member.model, hs, steps, grid), o.c(member.weight));
      sum = sum === undefined ? part : o.add(sum, part);
    }
    if (sum === undefined) throw new RangeError('model: an ensemble without members');
    return sum;
  }
  if (model.regression !== undefined) return regressionTable(o, model, model.regression, steps, grid);
  return statisticalTable(o, model, hs);
}

/** int64 [N] series index of each row (-1: a series the model does not know). */
function seriesOfRows(o: Ops, model: ForecastModel, idInputs: readonly string[], rows: string): string {
  const g = o.g;
  if (idInputs.length === 0) {
    // One series: every row is series 0 (NaN times too: the cast of IsNaN is 0 or 1, times 0).
    return o.op('Mul', [o.cast(o.op('IsNaN', [rows]), INT64), o.i64(0)]);
  }
  const codes = idInputs.map((input, j) => {
    const values = [...new Set(model.series.map((s) => s.ids[j] ?? ''))].sort();
    const code = g.fresh('id_code');
    g.node(
      'LabelEncoder',
      [o.squeeze(input, 1)],
      [code],
      { keys_strings: { strings: values }, values_int64s: { ints: values.map((_, i) => i) }, default_int64: { i: -1 } },
      'ai.onnx.ml',
    );
    return { code, values };
  });
  if (codes.length === 1) {
    const only = codes[0] as (typeof codes)[number];
    const index = g.fresh('series_index');
    const order = new Map(model.series.map((s, i) => [s.ids[0] ?? '', i]));
    g.node(
      'LabelEncoder',
      [only.code],
      [index],
      {
        keys_int64s: { ints: only.values.map((_, i) => i) },
        values_int64s: { ints: only.values.map((v) => order.get(v) ?? -1) },
        default_int64: { i: -1 },
      },
      'ai.onnx.ml',
    );
    return index;
  }
  // Several id columns: the codes combine into one number (mixed radix), which maps to the series.
  let combined: string | undefined;
  let anyUnknown: string | undefined;
  let radix = 1;
  const radices: number[] = [];
  for (const { code, values } of codes) {
    radices.push(radix);
    const term = o.op('Mul', [code, o.i64(radix)]);
    combined = combined === undefined ? term : o.op('Add', [combined, term]);
    const unknown = o.op('Less', [code, o.i64(0)]);
    anyUnknown = anyUnknown === undefined ? unknown : o.op('Or', [anyUnknown, unknown]);
    radix *= values.length;
  }
  const keys = model.series.map((s) =>
    codes.reduce((sum, { values }, j) => sum + values.indexOf(s.ids[j] ?? '') * (radices[j] as number), 0),
  );
  const index = g.fresh('series_index');
  g.node(
    'LabelEncoder',
    [combined as string],
    [index],
    {
      keys_int64s: { ints: keys },
      values_int64s: { ints: model.series.map((_, i) => i) },
      default_int64: { i: -1 },
    },
    'ai.onnx.ml',
  );
  return o.where(anyUnknown as string, o.i64(-1), index);
}

/** The ONNX graph of a fitted forecaster (see the file comment for its inputs and output). */
export function exportForecastOnnx(model: ForecastModel, options: ForecastOnnxOptions): Uint8Array {
  const g = createOnnxGraph('tessera_forecast');
  const o = new Ops(g);
  const cal = new CalendarMath(o);
  const timeInput = g.input(options.timeColumn, 'double', ['N', 1]);
  const idInputs = options.seriesIdColumns.map((c) => g.input(c, 'string', ['N', 1]));
  const time = o.squeeze(timeInput, 1);
  const S = model.series.length;

  const seriesIndex = seriesOfRows(o, model, idInputs, time);
  const safeIndex = o.op('Max', [seriesIndex, o.i64(0)]);
  const grid = gridConstants(o, model.series, model.frequency);
  const origin = o.gather(grid.origin, safeIndex);

  // The step of each row, and whether the row lies on its series' grid.
  let step: string;
  let wholeStep: string | undefined;
  if (model.frequency.kind === 'fixed') {
    step = o.op('Round', [o.div(o.sub(time, origin), o.c(model.frequency.stepMs))]);
  } else {
    const exact = o.div(o.sub(cal.monthIndex(time), origin), o.c(model.frequency.months));
    step = o.floor(exact);
    wholeStep = o.equal(step, exact);
  }
  const timeOfDay = grid.timeOfDay === undefined ? undefined : o.gather(grid.timeOfDay, safeIndex);
  const sameTime = o.equal(stepTime(o, cal, model.frequency, origin, timeOfDay, step), time);
  const onGrid = wholeStep === undefined ? sameTime : o.and(wholeStep, sameTime);
  const known = o.op('GreaterOrEqual', [seriesIndex, o.i64(0)]);
  const ahead = o.and(o.op('LessOrEqual', [o.c(1), step]), o.op('LessOrEqual', [step, o.c(MAX_FORECAST_STEPS)]));
  const valid = o.and(o.and(known, onGrid), ahead);

  // M = the largest valid step (at least 1); the table holds steps 1..M.
  const validStep = o.where(valid, step, o.c(1));
  const steps = o.op('Max', [o.cast(o.op('ReduceMax', [validStep], { keepdims: { i: 0 } }), INT64), o.i64(1)]);
  const hs = o.unsqueeze(o.op('Range', [o.c(1), o.add(o.cast(steps, DOUBLE), o.c(1)), o.c(1)]), 1);
  const table = forecastTable(o, model, hs, steps, grid);

  // Row r reads table[step - 1, series].
  const flat = o.op('Reshape', [table, g.constant('flat', { type: 'int64', dims: [1], data: [-1] })]);
  const position = o.add(o.mul(o.sub(validStep, o.c(1)), o.c(S)), o.cast(safeIndex, DOUBLE));
  const value = o.gather(flat, o.cast(position, INT64));
  const nan = o.c(Number.NaN);
  const axes = g.constant('axes', { type: 'int64', dims: [1], data: [1] });
  g.node('Unsqueeze', [o.where(valid, value, nan), axes], ['prediction']);
  g.output('prediction', 'double', ['N', 1]);
  return g.toBytes();
}

/** manifest.json of a forecasting model: its graph's inputs and output, and the series it knows. */
export function forecastManifest(model: ForecastModel, data: PreparedForecast, score: number): ModelManifest {
  return {
    format: 'tessera.automl.v1',
    task: 'forecasting',
    target: data.targetColumn,
    algorithm: model.algorithm,
    params: model.params,
    ...(model.members === undefined
      ? {}
      : {
          members: model.members.map((m) => ({
            algorithm: m.model.algorithm,
            params: m.model.params,
            weight: m.weight,
          })),
        }),
    primaryMetric: data.settings.primaryMetric,
    score,
    inputs: [
      {
        column: data.timeColumn,
        kind: 'datetime',
        onnxName: data.timeColumn,
        onnxType: 'double',
        encoding: 'epoch-ms',
      },
      ...data.seriesIdColumns.map((c) => ({
        column: c,
        kind: 'categorical' as const,
        onnxName: c,
        onnxType: 'string' as const,
        encoding: 'string' as const,
      })),
    ],
    outputs: { prediction: 'prediction' },
    featurization: {
      mode: 'off',
      columns: [],
      notes: ['forecasting: the lag, rolling-window and calendar features are computed inside the graph'],
    },
    trainingRows: data.series.reduce((n, s) => n + s.values.length, 0),
    forecast: {
      timeColumn: data.timeColumn,
      seriesIdColumns: [...data.seriesIdColumns],
      frequency: model.frequency.alias,
      horizon: model.horizon,
      series: model.series.map((s) => ({ ids: [...s.ids], lastTime: new Date(s.lastTime).toISOString() })),
      maxSteps: MAX_FORECAST_STEPS,
    },
  };
}

/** forecastValues for steps 1..steps, series by series in one array: what forecastFeeds asks the graph. */
export function forecastFlat(model: ForecastModel, steps: number): Float64Array {
  const out = new Float64Array(model.series.length * steps);
  forecastValues(model, steps).forEach((values, s) => out.set(values, s * steps));
  return out;
}

/**
 * Feeds asking `model`'s graph for steps 1..steps of every series, series by series (the order of
 * forecastValues' rows, flattened).
 */
export function forecastFeeds(
  model: ForecastModel,
  options: ForecastOnnxOptions,
  steps: number,
): Record<string, RuntimeTensor> {
  const times: number[] = [];
  const ids: string[][] = options.seriesIdColumns.map(() => []);
  for (const s of model.series) {
    for (let h = 1; h <= steps; h++) {
      times.push(addPeriods(s.lastTime, model.frequency, h));
      options.seriesIdColumns.forEach((_, j) => (ids[j] as string[]).push(s.ids[j] ?? ''));
    }
  }
  const n = times.length;
  const feeds: Record<string, RuntimeTensor> = {
    [options.timeColumn]: { type: 'double', dims: [n, 1], data: Float64Array.from(times) },
  };
  options.seriesIdColumns.forEach((c, j) => (feeds[c] = { type: 'string', dims: [n, 1], data: ids[j] as string[] }));
  return feeds;
}

/**
 * A graph of the calendar arithmetic alone: input `time` (double [N], epoch ms) → `features`
 * (double [N, F], `features` in order) and `month_index` (double [N]). The forecasting graph's
 * calendar features come from the same code; test/integration/forecast-onnx.test.ts holds it to
 * lag-features.ts's calendar values, on dates from 1900 to 2100.
 */
export function calendarFeaturesOnnx(features: readonly CalendarFeature[], holidays?: HolidayCountry): Uint8Array {
  const g = createOnnxGraph('tessera_calendar');
  const o = new Ops(g);
  const cal = new CalendarMath(o);
  const time = g.input('time', 'double', ['N']);
  const columns = cal.features(features, time, holidays);
  g.node('Concat', columns, ['features'], { axis: { i: 1 } });
  g.output('features', 'double', ['N', features.length]);
  g.node('Identity', [cal.monthIndex(time)], ['month_index']);
  g.output('month_index', 'double', ['N']);
  return g.toBytes();
}
