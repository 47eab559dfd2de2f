/**
 * The sampling frequency of a time series, inferred from its timestamps (epoch ms, UTC), and
 * calendar arithmetic on it. Calendar frequencies (months, quarters, years) step by calendar
 * months, anchored at the start or the end of the month; the rest step by a fixed duration.
 * Aliases follow pandas offset aliases, which Azure's `freq` setting uses ('MS', 'QS', 'YS', 'D', 'h').
 */
import { ValidationError } from '../../errors.js';

export type Frequency =
  | {
      kind: 'fixed';
      /** Step in milliseconds. */
      stepMs: number;
      alias: string;
    }
  | {
      kind: 'calendar';
      /** Step in calendar months: 1 monthly, 3 quarterly, 12 yearly. */
      months: number;
      /** Timestamps on the first day of the month (start) or the last (end). */
      anchor: 'start' | 'end';
      alias: string;
    };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

function fixedAlias(stepMs: number): string {
  const units: [number, string][] = [
    [WEEK, 'W'],
    [DAY, 'D'],
    [HOUR, 'h'],
    [MINUTE, 'min'],
    [SECOND, 's'],
    [1, 'ms'],
  ];
  for (const [size, name] of units) {
    if (stepMs % size === 0) {
      const count = stepMs / size;
      return count === 1 ? name : `${count}${name}`;
    }
  }
  return `${stepMs}ms`;
}

function calendarAlias(months: number, anchor: 'start' | 'end'): string {
  const suffix = anchor === 'start' ? 'S' : 'E';
  if (months % 12 === 0) return months === 12 ? `Y${suffix}` : `${months / 12}Y${suffix}`;
  if (months % 3 === 0) return months === 3 ? `Q${suffix}` : `${months / 3}Q${suffix}`;
  return months === 1 ? `M${suffix}` : `${months}M${suffix}`;
}

export function fixedFrequency(stepMs: number): Frequency {
  if (!(stepMs > 0) || !Number.isInteger(stepMs))
    throw new RangeError(`stepMs must be a positive integer; got ${stepMs}`);
  return { kind: 'fixed', stepMs, alias: fixedAlias(stepMs) };
}

export function calendarFrequency(months: number, anchor: 'start' | 'end' = 'start'): Frequency {
  if (!Number.isInteger(months) || months < 1) throw new RangeError(`months must be a positive integer; got ${months}`);
  return { kind: 'calendar', months, anchor, alias: calendarAlias(months, anchor) };
}

/** Milliseconds since midnight (UTC) of an epoch-ms time. */
export const timeOfDay = (t: number): number => ((t % DAY) + DAY) % DAY;

/** Months since year 0 of an epoch-ms time: year · 12 + month (0-11). */
export const monthIndex = (t: number): number => {
  const d = new Date(t);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

function isMonthStart(t: number): boolean {
  const d = new Date(t);
  return d.getUTCDate() === 1 && t % DAY === 0;
}

function isMonthEnd(t: number): boolean {
  const d = new Date(t + DAY);
  return d.getUTCDate() === 1 && t % DAY === 0;
}

function mode(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = Number.NaN;
  let bestCount = 0;
  for (const [v, c] of counts) {
    // The most frequent step; among equals the smallest (gaps are multiples of the true step).
    if (c > bestCount || (c === bestCount && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/**
 * The most common step between consecutive distinct timestamps (gaps are tolerated). Month-start
 * or month-end timestamps a whole number of months apart give a calendar frequency.
 */
export function inferFrequency(times: ArrayLike<number>): Frequency {
  const sorted = [...new Set(Array.from(times))].sort((a, b) => a - b);
  if (sorted.length < 2) {
    throw new ValidationError(
      'cannot infer the frequency of a series with fewer than two distinct timestamps; set freq',
    );
  }
  if (sorted.every(isMonthStart) || sorted.every(isMonthEnd)) {
    const anchor = sorted.every(isMonthStart) ? 'start' : 'end';
    const steps: number[] = [];
    for (let i = 1; i < sorted.length; i++)
      steps.push(monthIndex(sorted[i] as number) - monthIndex(sorted[i - 1] as number));
    const months = mode(steps);
    // Daily data that happens to fall on month starts only when months >= 1; 0 cannot happen here.
    if (months >= 1) return calendarFrequency(months, anchor);
  }
  const steps: number[] = [];
  for (let i = 1; i < sorted.length; i++) steps.push((sorted[i] as number) - (sorted[i - 1] as number));
  return fixedFrequency(mode(steps));
}

/** One frequency for many series: each series' own, which must agree. */
export function inferCommonFrequency(series: readonly ArrayLike<number>[]): Frequency {
  let found: Frequency | undefined;
  for (const times of series) {
    if (times.length < 2) continue;
    const f = inferFrequency(times);
    if (found === undefined) found = f;
    else if (f.alias !== found.alias) {
      throw new ValidationError(
        `series have different frequencies (${found.alias} and ${f.alias}); set freq to align them`,
      );
    }
  }
  if (found === undefined)
    throw new ValidationError('no series has two timestamps; cannot infer the frequency; set freq');
  return found;
}

/** `t` moved by `k` periods (k may be negative). */
export function addPeriods(t: number, frequency: Frequency, k: number): number {
  if (frequency.kind === 'fixed') return t + k * frequency.stepMs;
  const d = new Date(t);
  const target = d.getUTCFullYear() * 12 + d.getUTCMonth() + k * frequency.months;
  const year = Math.floor(target / 12);
  const month = target - year * 12;
  if (frequency.anchor === 'start') return Date.UTC(year, month, 1) + timeOfDay(t);
  // Day 0 of the next month is the last day of this one.
  return Date.UTC(year, month + 1, 0) + timeOfDay(t);
}

/** Whether `t` lies on the grid of `frequency` through `origin`. */
export function onGrid(t: number, origin: number, frequency: Frequency): boolean {
  if (frequency.kind === 'fixed') return (t - origin) % frequency.stepMs === 0;
  const months = monthIndex(t) - monthIndex(origin);
  return months % frequency.months === 0 && addPeriods(origin, frequency, months / frequency.months) === t;
}

/** Periods from `from` to `to` on the grid (to must be on it). */
export function periodsBetween(from: number, to: number, frequency: Frequency): number {
  if (frequency.kind === 'fixed') return Math.round((to - from) / frequency.stepMs);
  return Math.round((monthIndex(to) - monthIndex(from)) / frequency.months);
}

/**
 * Seasonal periods that the calendar suggests for a frequency, most common first: 12 for monthly,
 * 4 for quarterly, 7 (and 365) for daily, 24 and 168 for hourly, 52 for weekly; none for yearly.
 */
export function calendarSeasonCandidates(frequency: Frequency): number[] {
  if (frequency.kind === 'calendar') {
    if (12 % frequency.months !== 0 || frequency.months === 12) return [];
    return [12 / frequency.months];
  }
  const step = frequency.stepMs;
  const candidates: number[] = [];
  for (const period of [HOUR, DAY, WEEK, 365 * DAY]) {
    if (period % step === 0 && period / step > 1) candidates.push(period / step);
  }
  if (step === WEEK) candidates.push(52);
  return [...new Set(candidates)];
}

/**
 * The period of `frequency` that holds `t`, as the timestamp that labels it (what
 * target_aggregate_function groups rows by), following pandas' resample labels: calendar periods
 * count from January (MS: the month's first day; QE: the quarter's last day; YS: January 1st);
 * a week ends on Sunday and is labeled by it (pandas' W, i.e. W-SUN); other fixed steps are
 * multiples of the step since 1970-01-01T00:00Z (D: the day, 6h: 00:00, 06:00, ...). Several
 * weeks per period have no natural start, so 2W and up are a ValidationError.
 */
export function periodLabel(t: number, frequency: Frequency): number {
  if (frequency.kind === 'calendar') {
    const index = monthIndex(t);
    const first = index - (((index % frequency.months) + frequency.months) % frequency.months);
    const month = frequency.anchor === 'start' ? first : first + frequency.months - 1;
    const year = Math.floor(month / 12);
    const m = month - year * 12;
    return frequency.anchor === 'start' ? Date.UTC(year, m, 1) : Date.UTC(year, m + 1, 0);
  }
  if (frequency.stepMs === WEEK) {
    const day = Math.floor(t / DAY);
    // 1970-01-01 was a Thursday: (day + 4) mod 7 is 0 on Sundays.
    const weekday = (((day + 4) % 7) + 7) % 7;
    return (day + ((7 - weekday) % 7)) * DAY;
  }
  if (frequency.stepMs > WEEK && frequency.stepMs % WEEK === 0) {
    throw new ValidationError(
      `frequency ${frequency.alias}: periods of several weeks have no natural start to aggregate rows into; use W or D`,
    );
  }
  return Math.floor(t / frequency.stepMs) * frequency.stepMs;
}
