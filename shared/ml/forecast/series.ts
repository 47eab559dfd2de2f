/**
 * A long-format table (time column, target column, optional time_series_id columns) split into
 * one time-ordered series per id, and the regular grid a forecaster needs: missing periods
 * inserted, missing targets filled forward (then backward for a leading gap), as Azure's
 * featurization imputes the target.
 */
import { ValidationError } from '../../errors.js';
import type { Column, Table } from '../types.js';
import { rowsBySeries } from '../validation.js';
import type { Frequency } from './frequency.js';
import { addPeriods, onGrid } from './frequency.js';

export interface TimeSeriesSettings {
  timeColumn: string;
  targetColumn: string;
  /** time_series_id_column_names; none: the table is one series. */
  seriesIdColumns?: readonly string[];
}

export interface TimeSeries {
  /** '' for a single series; the id for one id column; a JSON array of the ids for several. */
  key: string;
  ids: readonly string[];
  /** Ascending epoch ms. */
  times: Float64Array;
  /** The target; NaN where missing. */
  values: Float64Array;
  /** The source row of each point; -1 for a period inserted by `regularize`. */
  rows: Int32Array;
}

function findColumn(table: Table, name: string, role: string): Column {
  const column = table.columns.find((c) => c.name === name);
  if (column === undefined) {
    const names = table.columns.map((c) => c.name).join(', ');
    throw new ValidationError(`the ${role} column '${name}' is not in the data; its columns are: ${names}`, {
      target: role,
    });
  }
  return column;
}

function cellText(column: Column, row: number): string {
  if (column.kind === 'numeric' || column.kind === 'datetime') {
    const v = column.values[row] as number;
    return Number.isNaN(v) ? '' : String(v);
  }
  return column.values[row] ?? '';
}

/** Each row's series key (see TimeSeries.key). */
export function seriesKeys(table: Table, seriesIdColumns: readonly string[] = []): string[] {
  const columns = seriesIdColumns.map((name) => findColumn(table, name, 'time_series_id'));
  const keys: string[] = new Array<string>(table.rows);
  for (let i = 0; i < table.rows; i++) {
    const ids = columns.map((c) => cellText(c, i));
    keys[i] = ids.length === 0 ? '' : ids.length === 1 ? (ids[0] as string) : JSON.stringify(ids);
  }
  return keys;
}

export function timeValues(table: Table, timeColumn: string): Float64Array {
  const column = findColumn(table, timeColumn, 'time');
  if (column.kind !== 'datetime' && column.kind !== 'numeric') {
    throw new ValidationError(`the time column '${timeColumn}' must hold dates; it is ${column.kind}`, {
      target: 'time_column_name',
    });
  }
  return column.values;
}

/** Splits `table` into series sorted by key; points within a series sorted by time. */
export function groupSeries(table: Table, settings: TimeSeriesSettings): TimeSeries[] {
  const times = timeValues(table, settings.timeColumn);
  const target = findColumn(table, settings.targetColumn, 'target');
  if (target.kind !== 'numeric') {
    throw new ValidationError(`the target column '${settings.targetColumn}' must be numeric for forecasting`, {
      target: 'target_column_name',
    });
  }
  const idColumns = (settings.seriesIdColumns ?? []).map((name) => findColumn(table, name, 'time_series_id'));
  const keys = seriesKeys(table, settings.seriesIdColumns);
  const groups = rowsBySeries(times, idColumns.length === 0 ? undefined : keys);
  const out: TimeSeries[] = [];
  for (const [key, members] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const first = members[0] as number;
    out.push({
      key,
      ids: idColumns.map((c) => cellText(c, first)),
      times: Float64Array.from(members, (i) => times[i] as number),
      values: Float64Array.from(members, (i) => target.values[i] as number),
      rows: Int32Array.from(members),
    });
  }
  return out;
}

/** Forward fill, then backward fill a leading gap; an all-missing series is a ValidationError. */
export function fillMissing(values: Float64Array, key = ''): Float64Array {
  const out = Float64Array.from(values);
  let last = Number.NaN;
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i] as number)) out[i] = last;
    else last = out[i] as number;
  }
  const firstKnown = out.findIndex((v) => !Number.isNaN(v));
  if (firstKnown < 0) throw new ValidationError(`series ${key === '' ? '' : `'${key}' `}has no target values`);
  out.fill(out[firstKnown] as number, 0, firstKnown);
  return out;
}

/**
 * The series on its regular grid from its first to its last time: missing periods inserted with
 * filled targets. A timestamp off the grid is a ValidationError.
 */
export function regularize(series: TimeSeries, frequency: Frequency): TimeSeries {
  const n = series.times.length;
  if (n === 0) return series;
  const origin = series.times[0] as number;
  const times: number[] = [];
  const values: number[] = [];
  const rows: number[] = [];
  let t = origin;
  let i = 0;
  while (i < n) {
    const next = series.times[i] as number;
    if (next === t) {
      times.push(t);
      values.push(series.values[i] as number);
      rows.push(series.rows[i] as number);
      i++;
      t = addPeriods(origin, frequency, times.length);
    } else if (next > t) {
      times.push(t);
      values.push(Number.NaN);
      rows.push(-1);
      t = addPeriods(origin, frequency, times.length);
    } else {
      break;
    }
    if (i < n && !onGrid(series.times[i] as number, origin, frequency)) break;
  }
  if (i < n) {
    const at = new Date(series.times[i] as number).toISOString();
    throw new ValidationError(
      `series ${series.key === '' ? '' : `'${series.key}' `}has a timestamp ${at} off its ${frequency.alias} grid ` +
        `(which starts ${new Date(origin).toISOString()}); set freq to the data's frequency or aggregate first`,
    );
  }
  return {
    key: series.key,
    ids: series.ids,
    times: Float64Array.from(times),
    values: fillMissing(Float64Array.from(values), series.key),
    rows: Int32Array.from(rows),
  };
}
