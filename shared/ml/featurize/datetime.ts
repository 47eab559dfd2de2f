/**
 * Datetime columns: the parts year, month, day, weekday (Monday = 0), hour and day of year, in UTC,
 * of epoch-millisecond values, plus a missing indicator when the training rows had missing values.
 * Missing values are imputed (median of the training values by default) before the parts are
 * taken. Parts that do not vary over the training rows (the hour of date-only data) are left out.
 *
 * The graph computes the parts with ai.onnx arithmetic on double: Floor/Div/Mul/Sub, with Howard
 * Hinnant's civil-from-days algorithm for year, month and day. The TypeScript below does the same
 * IEEE operations in the same order, so both give the same integers (`civilParts` is checked
 * against Date's UTC getters in the tests).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';
import { binary, cast, concatColumns, doubleScalar, nanIndicator, ONNX_DOUBLE, ONNX_FLOAT, unary } from './onnx-ops.js';
import type { ImputeStrategy } from './numeric.js';
import { mean, median, mostFrequent, sortedFinite } from './stats.js';

export const DATETIME_PARTS = ['year', 'month', 'day', 'weekday', 'hour', 'dayofyear'] as const;
export type DatetimePart = (typeof DATETIME_PARTS)[number];

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/** Floor division as the graph does it: Floor(a / b). */
function fdiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** The parts of one epoch-ms value, indexed like DATETIME_PARTS. */
export function civilParts(ms: number): number[] {
  const out = new Float64Array(DATETIME_PARTS.length);
  civilPartsInto(ms, out);
  return Array.from(out);
}

/** Writes the parts of `ms` into `out` (no allocation: the transform calls it per row). */
export function civilPartsInto(ms: number, out: Float64Array): void {
  const days = fdiv(ms, MS_PER_DAY);
  const hour = fdiv(ms - days * MS_PER_DAY, MS_PER_HOUR);
  // 1970-01-01 was a Thursday (weekday 3).
  const w = days + 3;
  const weekday = w - 7 * fdiv(w, 7);
  const z = days + 719468;
  const era = fdiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = fdiv(doe - fdiv(doe, 1460) + fdiv(doe, 36524) - fdiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + fdiv(yoe, 4) - fdiv(yoe, 100));
  const mp = fdiv(5 * doy + 2, 153);
  const day = doy - fdiv(153 * mp + 2, 5) + 1;
  const janFeb = fdiv(mp, 10);
  const month = mp + 3 - 12 * janFeb;
  const year = yoe + era * 400 + janFeb;
  // Days from 1970-01-01 to January 1st of `year` (days-from-civil with month 1, day 1).
  const y1 = year - 1;
  const era1 = fdiv(y1, 400);
  const yoe1 = y1 - era1 * 400;
  const jan1 = era1 * 146097 + (365 * yoe1 + fdiv(yoe1, 4) - fdiv(yoe1, 100) + 306) - 719468;
  const dayofyear = days - jan1 + 1;
  out[0] = year;
  out[1] = month;
  out[2] = day;
  out[3] = weekday;
  out[4] = hour;
  out[5] = dayofyear;
}

export interface DatetimeImputer {
  strategy: ImputeStrategy;
  /** Epoch ms, for `constant`. */
  fillValue?: number;
}

export function fitDatetime(name: string, values: Float64Array, imputer: DatetimeImputer | undefined): FittedColumn {
  const sorted = sortedFinite(values);
  let fill: number;
  const strategy = imputer?.strategy ?? 'median';
  if (strategy === 'constant') {
    if (imputer?.fillValue === undefined || !Number.isFinite(imputer.fillValue)) {
      throw new RangeError(`the constant imputer of column '${name}' needs a fill_value (epoch ms or ISO 8601)`);
    }
    fill = imputer.fillValue;
  } else if (sorted.length === 0) {
    fill = 0;
  } else {
    // A datetime is an instant: the mean and median are rounded to the millisecond.
    fill = Math.round(
      strategy === 'mean' ? mean(sorted) : strategy === 'median' ? median(sorted) : mostFrequent(sorted),
    );
  }
  let missing = false;
  const seen = DATETIME_PARTS.map(() => new Set<number>());
  const parts = new Float64Array(DATETIME_PARTS.length);
  for (const raw of values) {
    if (Number.isNaN(raw)) missing = true;
    civilPartsInto(Number.isNaN(raw) ? fill : raw, parts);
    for (let p = 0; p < parts.length; p++) seen[p]?.add(parts[p] as number);
  }
  const varying = DATETIME_PARTS.filter((_, p) => (seen[p]?.size ?? 0) > 1);
  return { transform: new DatetimeTransform(name, fill, missing, varying) };
}

export class DatetimeTransform implements ColumnTransform {
  readonly storage = 'datetime';
  readonly encoding = 'epoch-ms';
  readonly transformer = 'DateTimeParts';
  readonly featureNames: readonly string[];
  private readonly indexes: number[];

  constructor(
    readonly column: string,
    /** Epoch ms that missing values become. */
    readonly fill: number,
    readonly indicator: boolean,
    readonly parts: readonly DatetimePart[],
  ) {
    this.indexes = parts.map((p) => DATETIME_PARTS.indexOf(p));
    this.featureNames = [...parts.map((p) => `${column}:${p}`), ...(indicator ? [`${column}:missing`] : [])];
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const values = column.values as Float64Array;
    const k = this.indexes.length;
    const all = new Float64Array(DATETIME_PARTS.length);
    for (let r = 0; r < values.length; r++) {
      const raw = values[r] as number;
      const isMissing = Number.isNaN(raw);
      civilPartsInto(isMissing ? this.fill : raw, all);
      const base = r * stride + offset;
      for (let j = 0; j < k; j++) out[base + j] = all[this.indexes[j] as number] as number;
      if (this.indicator) out[base + k] = isMissing ? 1 : 0;
    }
  }

  exportOnnx(g: OnnxGraphBuilder, input: string): string {
    // Cast is a no-op on the double input onnx-io declares; it also accepts a float input.
    const raw = cast(g, input, ONNX_DOUBLE, 'epoch_ms');
    const x = one3(g, 'Where', unary(g, 'IsNaN', raw), doubleScalar(g, this.fill, 'fill'), raw);
    const c = (v: number): string => doubleScalar(g, v);
    const add = (a: string, b: string): string => binary(g, 'Add', a, b);
    const sub = (a: string, b: string): string => binary(g, 'Sub', a, b);
    const mul = (a: string, b: string): string => binary(g, 'Mul', a, b);
    const fdivOnnx = (a: string, b: number): string => unary(g, 'Floor', binary(g, 'Div', a, c(b)));

    const days = fdivOnnx(x, MS_PER_DAY);
    const hour = fdivOnnx(sub(x, mul(days, c(MS_PER_DAY))), MS_PER_HOUR);
    const w = add(days, c(3));
    const weekday = sub(w, mul(c(7), fdivOnnx(w, 7)));
    const z = add(days, c(719468));
    const era = fdivOnnx(z, 146097);
    const doe = sub(z, mul(era, c(146097)));
    const yoe = fdivOnnx(add(sub(doe, fdivOnnx(doe, 1460)), sub(fdivOnnx(doe, 36524), fdivOnnx(doe, 146096))), 365);
    const doy = sub(doe, sub(add(mul(c(365), yoe), fdivOnnx(yoe, 4)), fdivOnnx(yoe, 100)));
    const mp = fdivOnnx(add(mul(c(5), doy), c(2)), 153);
    const day = add(sub(doy, fdivOnnx(add(mul(c(153), mp), c(2)), 5)), c(1));
    const janFeb = fdivOnnx(mp, 10);
    const month = sub(add(mp, c(3)), mul(c(12), janFeb));
    const year = add(add(yoe, mul(era, c(400))), janFeb);
    const y1 = sub(year, c(1));
    const era1 = fdivOnnx(y1, 400);
    const yoe1 = sub(y1, mul(era1, c(400)));
    const doe1 = add(sub(add(mul(c(365), yoe1), fdivOnnx(yoe1, 4)), fdivOnnx(yoe1, 100)), c(306));
    const jan1 = sub(add(mul(era1, c(146097)), doe1), c(719468));
    const dayofyear = add(sub(days, jan1), c(1));

    const byPart: Record<DatetimePart, string> = { year, month, day, weekday, hour, dayofyear };
    const cols: string[] = [];
    if (this.parts.length > 0) {
      cols.push(
        cast(
          g,
          concatColumns(
            g,
            this.parts.map((p) => byPart[p]),
          ),
          ONNX_FLOAT,
          'dt_parts',
        ),
      );
    }
    if (this.indicator) cols.push(nanIndicator(g, raw));
    return concatColumns(g, cols);
  }
}

function one3(g: OnnxGraphBuilder, op: string, a: string, b: string, c: string): string {
  const out = g.node(op, [a, b, c], [g.fresh(op.toLowerCase())])[0];
  if (out === undefined) throw new TypeError(`${op} has no output`);
  return out;
}
