/**
 * The setup step of a forecasting AutoML job: the training table checked and resolved into the
 * series every trial reads (PreparedForecast): each series on its regular grid with missing periods
 * filled, its season length, and the job's horizon, frequency and backtest folds. Every bad input is
 * a ValidationError naming the YAML key, raised here, before any trial runs.
 */
import { ValidationError } from '../../errors.js';
import { holidaysApply } from '../forecast/holidays.js';
import { parseFrequency } from '../forecast/forecaster.js';
import type { Frequency } from '../forecast/frequency.js';
import { inferCommonFrequency, periodLabel } from '../forecast/frequency.js';
import { detectSeasonality } from '../forecast/seasonality.js';
import type { TimeSeries } from '../forecast/series.js';
import { regularize, seriesKeys } from '../forecast/series.js';
import type { Column, Table } from '../types.js';
import type { AutomlSettings, ForecastSettings } from './types.js';

/** Azure's default n_cross_validations for forecasting when the spec leaves it out. */
export const DEFAULT_BACKTEST_FOLDS = 3;

/** One series after setup: regular, gap-free, with its own season length. */
export interface PreparedSeries {
  /** '' for a single series; the id for one id column; a JSON array of the ids for several. */
  key: string;
  ids: string[];
  /** Ascending epoch ms on the job's grid. */
  times: Float64Array;
  /** The target, missing periods filled forward. */
  values: Float64Array;
  /** The season length used for this series (1: none). */
  seasonLength: number;
}

export interface PreparedForecast {
  format: 'tessera.automl.forecast.v1';
  settings: AutomlSettings;
  targetColumn: string;
  timeColumn: string;
  seriesIdColumns: string[];
  frequency: Frequency;
  horizon: number;
  /** Rolling-origin backtest: this many origins, `step` periods apart (the last ends at the data's end). */
  folds: number;
  step: number;
  /** Fewest points a series keeps before its earliest origin. */
  minTrainPoints: number;
  series: PreparedSeries[];
  notices: string[];
}

function findColumn(table: Table, name: string, key: string, role: string): Column {
  const column = table.columns.find((c) => c.name === name);
  if (column === undefined) {
    const names = table.columns.map((c) => `'${c.name}'`).join(', ');
    throw new ValidationError(
      `${key}: the ${role} column '${name}' is not in the training data; its columns are ${names}. ` +
        `Set ${key} to one of them.`,
      { target: key },
    );
  }
  return column;
}

/** Runs `f`, giving a ValidationError it throws the YAML key `target` (forecast/ errors name none). */
function withTarget<T>(target: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof ValidationError && error.target !== target) {
      throw new ValidationError(`${target}: ${error.message}`, { target, cause: error });
    }
    throw error;
  }
}

/** forecast_horizon 'auto': a season's worth at calendar frequencies, else a sensible short range. */
export function defaultHorizon(frequency: Frequency): number {
  if (frequency.kind === 'calendar') {
    if (frequency.months >= 12) return 5;
    if (frequency.months >= 3) return 8;
    return 12;
  }
  const hour = 3_600_000;
  const day = 24 * hour;
  if (frequency.stepMs >= 7 * day) return 8;
  if (frequency.stepMs >= day) return 14;
  if (frequency.stepMs >= hour) return 24;
  return 60;
}

function resolveFolds(settings: AutomlSettings, notices: string[]): number {
  const v = settings.validation;
  if (v.kind === 'cv') return v.folds;
  if (v.kind === 'split' || v.kind === 'data') {
    notices.push(
      `forecasting scores trials on ${DEFAULT_BACKTEST_FOLDS} rolling-origin backtest folds; ` +
        `${v.kind === 'split' ? 'validation_data_size' : 'validation_data'} is ignored`,
    );
  }
  return DEFAULT_BACKTEST_FOLDS;
}

function numericTarget(column: Column, name: string): Float64Array {
  if (column.kind !== 'numeric') {
    throw new ValidationError(
      `target_column_name: the target '${name}' is ${column.kind}; forecasting needs a numeric target. ` +
        'Pick a numeric column or convert it in the MLTable.',
      { target: 'target_column_name' },
    );
  }
  return column.values;
}

/** A target with no value, or one value throughout, is a ValidationError; `what` says which rows. */
function checkTargetVaries(values: Float64Array, name: string, what: string): void {
  let first = Number.NaN;
  let varies = false;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(first)) first = v;
    else if (v !== first) varies = true;
  }
  if (Number.isNaN(first)) {
    throw new ValidationError(`target_column_name: the target '${name}' has no values in the training data.`, {
      target: 'target_column_name',
    });
  }
  if (!varies) {
    throw new ValidationError(
      `target_column_name: the target '${name}' is constant (${first}) in every ${what}; there is nothing to forecast.`,
      { target: 'target_column_name' },
    );
  }
}

/** A training row without a time is a ValidationError. */
function requireTime(t: number, row: number): void {
  if (!Number.isFinite(t)) {
    throw new ValidationError(
      `forecasting.time_column_name: row ${row + 1} has no time; every training row needs one. Drop or fill it.`,
      { target: 'forecasting.time_column_name' },
    );
  }
}

interface RawSeries {
  key: string;
  ids: string[];
  rows: number[];
}

function splitSeries(table: Table, idColumns: readonly string[], times: Float64Array): RawSeries[] {
  const keys = seriesKeys(table, idColumns);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < table.rows; i++) {
    const t = times[i] as number;
    requireTime(t, i);
    const key = keys[i] as string;
    let rows = groups.get(key);
    if (rows === undefined) groups.set(key, (rows = []));
    rows.push(i);
  }
  const idCols = idColumns.map((name) => table.columns.find((c) => c.name === name) as Column);
  const out: RawSeries[] = [];
  for (const [key, rows] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    rows.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
    for (let j = 1; j < rows.length; j++) {
      if (times[rows[j] as number] === times[rows[j - 1] as number]) {
        const at = new Date(times[rows[j] as number] as number).toISOString();
        const where = key === '' ? 'the series' : `series ${key}`;
        throw new ValidationError(
          `forecasting.time_series_id_column_names: ${where} has two rows at ${at} (rows ${(rows[j - 1] as number) + 1} ` +
            `and ${(rows[j] as number) + 1}); a time must appear once per series. Set time_series_id_column_names ` +
            'to the columns that tell the series apart, or aggregate the duplicates.',
          { target: 'forecasting.time_series_id_column_names' },
        );
      }
    }
    const first = rows[0] as number;
    const ids = idCols.map((c) => {
      const v = c.values[first];
      return v === null || v === undefined ? '' : String(v);
    });
    out.push({ key, ids, rows });
  }
  return out;
}

interface AggregatedRows {
  /** The series id columns, one row per (series, period). */
  table: Table;
  /** Each row's period label. */
  times: Float64Array;
  /** Each row's aggregated target; NaN where the period had no target value. */
  y: Float64Array;
}

/**
 * target_aggregate_function: the rows of each series grouped by the period of forecasting.frequency
 * that holds them (frequency.ts periodLabel) and the target reduced to one value per period. Missing
 * target values are skipped; a period with none stays missing, and is filled like a gap.
 */
function aggregateRows(
  train: Table,
  times: Float64Array,
  y: Float64Array,
  fc: ForecastSettings,
  frequency: Frequency | undefined,
  notices: string[],
): AggregatedRows {
  const how = fc.targetAggregate as NonNullable<ForecastSettings['targetAggregate']>;
  if (frequency === undefined) {
    throw new TypeError('settings: target_aggregate_function without forecasting.frequency (settings.ts refuses it)');
  }
  // Whether the frequency has periods to aggregate into at all (2W and up do not), once.
  withTarget('forecasting.frequency', () => periodLabel(0, frequency));
  const keys = seriesKeys(train, fc.seriesIdColumns);
  const groups = new Map<string, { first: number; label: number; values: number[] }>();
  for (let i = 0; i < train.rows; i++) {
    const t = times[i] as number;
    requireTime(t, i);
    const label = periodLabel(t, frequency);
    const key = JSON.stringify([keys[i], label]);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { first: i, label, values: [] }));
    const v = y[i] as number;
    if (!Number.isNaN(v)) group.values.push(v);
  }
  const reduce = (values: number[]): number => {
    if (values.length === 0) return Number.NaN;
    // A loop, not Math.min(...values): a period may hold more rows than a call takes arguments.
    let out = how === 'min' ? Number.POSITIVE_INFINITY : how === 'max' ? Number.NEGATIVE_INFINITY : 0;
    for (const v of values) out = how === 'min' ? Math.min(out, v) : how === 'max' ? Math.max(out, v) : out + v;
    return how === 'mean' ? out / values.length : out;
  };
  const list = [...groups.values()];
  const firsts = list.map((g) => g.first);
  const ids = fc.seriesIdColumns.map((name) => train.columns.find((c) => c.name === name) as Column);
  const table: Table = {
    rows: list.length,
    columns: ids.map((c): Column =>
      c.kind === 'numeric' || c.kind === 'datetime'
        ? { ...c, values: Float64Array.from(firsts, (i) => c.values[i] as number) }
        : { ...c, values: firsts.map((i) => c.values[i] ?? null) },
    ),
  };
  notices.push(
    `target_aggregate_function ${how}: ${train.rows} rows aggregated into ${list.length} periods of ${frequency.alias}`,
  );
  return {
    table,
    times: Float64Array.from(list, (g) => g.label),
    y: Float64Array.from(list, (g) => reduce(g.values)),
  };
}

/** How the series are named in a message: the first five, with their lengths. */
function seriesList(series: readonly PreparedSeries[]): string {
  const names = series
    .slice(0, 5)
    .map((s) => `${s.key === '' ? 'the series' : `'${s.key}'`} (${s.values.length} periods)`)
    .join(', ');
  return `${names}${series.length > 5 ? ', ...' : ''}`;
}

/**
 * short_series_handling_config, Azure's semantics: 'drop' leaves out the series shorter than
 * `needed`; 'auto' does so when at least one series is long enough. Every other case with a short
 * series is a ValidationError: nothing left to train on, 'none', or 'pad' (padding would invent
 * history, which Tessera does not do).
 */
function handleShortSeries(
  series: PreparedSeries[],
  needed: number,
  mode: NonNullable<ForecastSettings['shortSeries']>,
  notices: string[],
  requirement: () => string,
): PreparedSeries[] {
  const short = series.filter((s) => s.values.length < needed);
  if (short.length === 0) return series;
  const long = series.filter((s) => s.values.length >= needed);
  if (mode === 'pad') {
    throw new ValidationError(
      `forecasting.short_series_handling_config: pad is not supported: Tessera does not invent history for ` +
        `${short.length} series too short for ${requirement()}; short: ${seriesList(short)}. Use drop (or auto) ` +
        'to leave them out, or lower forecast_horizon, n_cross_validations or cv_step_size.',
      { target: 'forecasting.short_series_handling_config' },
    );
  }
  if ((mode === 'drop' || mode === 'auto') && long.length > 0) {
    notices.push(
      `short_series_handling_config ${mode}: ${short.length} of ${series.length} series left out, too short for ` +
        `${requirement()}: ${seriesList(short)}. The model cannot forecast them.`,
    );
    return long;
  }
  const all = short.length === series.length && series.length > 1 ? 'every one of the ' : '';
  throw new ValidationError(
    `forecasting.forecast_horizon: ${all}${short.length} series ${short.length === 1 ? 'is' : 'are'} too short for ` +
      `${requirement()}; short: ${seriesList(short)}. Lower forecast_horizon, n_cross_validations or cv_step_size` +
      `${mode === 'none' ? ', set short_series_handling_config to drop' : ''}, or drop the short series.`,
    { target: 'forecasting.forecast_horizon' },
  );
}

/**
 * Checks `train` against the forecasting settings and resolves horizon, frequency, season lengths
 * and backtest folds. Columns other than time, target and series ids are left out, with a notice.
 */
export function prepareForecast(settings: AutomlSettings, train: Table): PreparedForecast {
  const fc: ForecastSettings | undefined = settings.forecasting;
  if (fc === undefined) {
    throw new ValidationError('forecasting: a forecasting job needs a forecasting section with time_column_name.', {
      target: 'forecasting',
    });
  }
  const notices = [...settings.notices];
  const timeColumn = findColumn(train, fc.timeColumn, 'forecasting.time_column_name', 'time');
  if (timeColumn.kind !== 'datetime') {
    throw new ValidationError(
      `forecasting.time_column_name: the time column '${fc.timeColumn}' is ${timeColumn.kind}, not a datetime. ` +
        'Declare it as a date in the MLTable (convert_column_types to datetime) or pick the date column.',
      { target: 'forecasting.time_column_name' },
    );
  }
  const target = findColumn(train, settings.targetColumn, 'target_column_name', 'target');
  const y = numericTarget(target, settings.targetColumn);
  for (const id of fc.seriesIdColumns) {
    findColumn(train, id, 'forecasting.time_series_id_column_names', 'time series id');
    if (id === fc.timeColumn || id === settings.targetColumn) {
      throw new ValidationError(
        `forecasting.time_series_id_column_names: '${id}' is the ${id === fc.timeColumn ? 'time' : 'target'} column; ` +
          'list only the columns that identify a series.',
        { target: 'forecasting.time_series_id_column_names' },
      );
    }
  }
  const used = new Set([fc.timeColumn, settings.targetColumn, ...fc.seriesIdColumns]);
  const others = train.columns.filter((c) => !used.has(c.name)).map((c) => c.name);
  if (others.length > 0) {
    notices.push(
      `forecasting uses the target's own history and the calendar; the other columns are ignored: ${others.join(', ')}`,
    );
  }

  const given =
    fc.frequency === undefined
      ? undefined
      : withTarget('forecasting.frequency', () => parseFrequency(fc.frequency as string));
  const rows =
    fc.targetAggregate === undefined
      ? { table: train, times: timeColumn.values, y }
      : aggregateRows(train, timeColumn.values, y, fc, given, notices);
  checkTargetVaries(rows.y, settings.targetColumn, fc.targetAggregate === undefined ? 'row' : 'period');
  const raw = splitSeries(rows.table, fc.seriesIdColumns, rows.times);
  const frequency =
    given ??
    withTarget('forecasting.frequency', () =>
      inferCommonFrequency(raw.map((s) => s.rows.map((r) => rows.times[r] as number))),
    );

  if (fc.holidays !== undefined) {
    notices.push(
      !holidaysApply(frequency)
        ? `forecasting.country_or_region_for_holidays has no effect at frequency ${frequency.alias}: holidays mark days, and these periods are longer.`
        : `holidays: the regression learners get a feature marking ${fc.holidays} public holidays (by rule; one-off and regional holidays are not included).`,
    );
  }

  let horizon: number;
  if (fc.horizon === 'auto') {
    horizon = defaultHorizon(frequency);
    notices.push(`forecast_horizon auto: ${horizon} periods at frequency ${frequency.alias}`);
  } else if (!Number.isInteger(fc.horizon) || fc.horizon < 1) {
    throw new ValidationError(
      `forecasting.forecast_horizon must be a positive whole number of periods or 'auto'; got ${fc.horizon}.`,
      { target: 'forecasting.forecast_horizon' },
    );
  } else horizon = fc.horizon;

  const folds = resolveFolds(settings, notices);
  if (!Number.isInteger(folds) || folds < 1) {
    throw new ValidationError(`n_cross_validations must be a positive whole number; got ${folds}.`, {
      target: 'n_cross_validations',
    });
  }
  const step = fc.cvStepSize ?? horizon;

  const all: PreparedSeries[] = raw.map((r) => {
    const ts: TimeSeries = {
      key: r.key,
      ids: r.ids,
      times: Float64Array.from(r.rows, (i) => rows.times[i] as number),
      values: Float64Array.from(r.rows, (i) => rows.y[i] as number),
      rows: Int32Array.from(r.rows),
    };
    if (ts.values.every(Number.isNaN)) {
      throw new ValidationError(
        `target_column_name: series ${r.key === '' ? '' : `'${r.key}' `}has no target values; drop it or fill its target.`,
        { target: 'target_column_name' },
      );
    }
    const grid = withTarget('forecasting.frequency', () => regularize(ts, frequency));
    const seasonLength =
      fc.seasonality === 'auto' ? detectSeasonality(grid.values, { frequency }) : Math.max(1, fc.seasonality);
    return { key: r.key, ids: [...r.ids], times: grid.times, values: grid.values, seasonLength };
  });

  // The earliest origin must leave enough history for a season's worth of models (two seasons) and
  // for the lag features; three points at least.
  const trainPoints = (series: readonly PreparedSeries[]): number =>
    Math.max(3, 2 * Math.max(...series.map((s) => s.seasonLength)));
  const needed = trainPoints(all) + horizon + (folds - 1) * step;
  const series = handleShortSeries(
    all,
    needed,
    fc.shortSeries ?? 'auto',
    notices,
    () =>
      `a horizon of ${horizon} and ${folds} backtest folds: each needs at least ${needed} periods ` +
      `(${trainPoints(all)} to train on + ${horizon} + ${folds - 1} × ${step} for the folds)`,
  );
  // Without the short series, a season may be shorter, and so the history the earliest origin needs.
  const minTrainPoints = trainPoints(series);

  return {
    format: 'tessera.automl.forecast.v1',
    settings,
    targetColumn: settings.targetColumn,
    timeColumn: fc.timeColumn,
    seriesIdColumns: [...fc.seriesIdColumns],
    frequency,
    horizon,
    folds,
    step,
    minTrainPoints,
    series,
    notices,
  };
}

interface EncodedSeries {
  key: string;
  ids: string[];
  times: number[];
  values: number[];
  seasonLength: number;
}

/** PreparedForecast → UTF-8 JSON bytes (what the setup step stores for every trial). */
export function encodeForecast(data: PreparedForecast): Uint8Array {
  const json = {
    ...data,
    series: data.series.map((s): EncodedSeries => ({
      key: s.key,
      ids: s.ids,
      times: Array.from(s.times),
      values: Array.from(s.values),
      seasonLength: s.seasonLength,
    })),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

/** The inverse of encodeForecast; bytes of another format are a TypeError. */
export function decodeForecast(bytes: Uint8Array): PreparedForecast {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Omit<PreparedForecast, 'series'> & {
    series: EncodedSeries[];
  };
  if (parsed.format !== 'tessera.automl.forecast.v1') {
    throw new TypeError(`bytes: not a prepared forecast (format ${String(parsed.format)})`);
  }
  return {
    ...parsed,
    series: parsed.series.map((s) => ({
      key: s.key,
      ids: s.ids,
      times: Float64Array.from(s.times),
      values: Float64Array.from(s.values),
      seasonLength: s.seasonLength,
    })),
  };
}
