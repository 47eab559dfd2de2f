import { ValidationError } from '../errors.js';

/**
 * Azure Functions timer schedules: six-field NCRONTAB expressions and TimeSpan intervals.
 *
 * Semantics follow NCrontab, the library the Functions host uses, with these deliberate differences:
 * - a reversed range such as `Fri-Mon` is an error (NCrontab silently swaps it to `Mon-Fri`);
 * - a schedule that can never fire (`0 0 0 30 2 *`) is an error (NCrontab never returns);
 * - a TimeSpan with hours >= 24 (`48:00:00`) is an error: .NET reads it as days (`d:hh:mm`).
 *
 * Like NCrontab, and unlike Vixie cron, day-of-month and day-of-week are AND-ed when both are
 * restricted: `0 0 8 1-7 * Tue` fires on the first Tuesday of the month only.
 */
export type Schedule = CronSchedule | IntervalSchedule;

/** A six-field NCRONTAB schedule. Each field is its sorted list of allowed values. */
export interface CronSchedule {
  readonly kind: 'cron';
  readonly expression: string;
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0-6, Sunday = 0. */
  readonly daysOfWeek: readonly number[];
  /** IANA time zone the fields are read in; `UTC` unless one was given. */
  readonly timeZone: string;
}

/** A TimeSpan schedule (`hh:mm:ss`, `d.hh:mm:ss`): fires every `intervalMs` after the previous run. */
export interface IntervalSchedule {
  readonly kind: 'interval';
  readonly expression: string;
  readonly intervalMs: number;
}

export interface ParseScheduleOptions {
  /**
   * IANA time zone name (what WEBSITE_TIME_ZONE holds on Linux plans). Default UTC, the Functions
   * default. Windows zone names are not supported.
   */
  timeZone?: string;
}

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

const FIELDS: readonly FieldSpec[] = [
  { label: 'second', min: 0, max: 59 },
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 0-6 with Sunday = 0, as NCrontab: it rejects 7, so accepting it here would pass locally and fail on Azure.
  { label: 'day-of-week', min: 0, max: 6, names: DAY_NAMES },
];

const FIELD_LAYOUT = '{second} {minute} {hour} {day} {month} {day-of-week}';
const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Parses a timer schedule the way the Functions host does: NCRONTAB with seconds, or a TimeSpan. */
export function parseSchedule(expr: string, options: ParseScheduleOptions = {}): Schedule {
  if (typeof expr !== 'string') throw new TypeError('parseSchedule: expr must be a string');
  const expression = expr.trim();
  if (expression === '') {
    throw new ValidationError(
      `Timer schedule is empty. Write six NCRONTAB fields ${FIELD_LAYOUT}, e.g. "0 */5 * * * *", or a TimeSpan such as "00:05:00".`,
      { target: 'schedule' },
    );
  }
  if (/^%[^%]+%$/.test(expression)) {
    throw new ValidationError(
      `Timer schedule "${expression}" is an app-setting reference; resolve ${expression} to the setting's value before parsing it.`,
      { target: 'schedule' },
    );
  }
  const tokens = expression.split(/\s+/);
  if (tokens.length === 1 && expression.includes(':')) return parseTimeSpan(expression);
  if (tokens.length === 5) {
    throw new ValidationError(
      `Timer schedule "${expression}" has 5 fields, but Azure Functions needs six: ${FIELD_LAYOUT}. ` +
        `Add a leading seconds field: "0 ${tokens.join(' ')}".`,
      { target: 'schedule' },
    );
  }
  if (tokens.length !== 6) {
    throw new ValidationError(
      `Timer schedule "${expression}" has ${tokens.length} field${tokens.length === 1 ? '' : 's'}; ` +
        `expected six NCRONTAB fields ${FIELD_LAYOUT} (e.g. "0 30 9 * * Mon-Fri") or a TimeSpan "hh:mm:ss".`,
      { target: 'schedule' },
    );
  }
  const values = tokens.map((token, i) => parseField(token, FIELDS[i] as FieldSpec, expression));
  const [seconds, minutes, hours, daysOfMonth, months, daysOfWeek] = values as [
    number[],
    number[],
    number[],
    number[],
    number[],
    number[],
  ];
  if (!months.some((m) => daysOfMonth.some((d) => d <= (MAX_DAYS[m - 1] ?? 0)))) {
    throw new ValidationError(
      `Timer schedule "${expression}" never fires: no month in "${tokens[4]}" has day ${describeList(daysOfMonth)}. ` +
        `Change the day-of-month or month field.`,
      { target: 'schedule' },
    );
  }
  return {
    kind: 'cron',
    expression,
    seconds,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    timeZone: resolveTimeZone(options.timeZone),
  };
}

/** The first time the schedule fires strictly after `after` (an interval schedule: `after` + interval). */
export function nextOccurrence(schedule: Schedule, after: Date): Date {
  const afterMs = after instanceof Date ? after.getTime() : NaN;
  if (Number.isNaN(afterMs)) throw new RangeError('nextOccurrence: after must be a valid Date');
  if (schedule.kind === 'interval') return new Date(afterMs + schedule.intervalMs);
  const tables = tablesFor(schedule);
  // Occurrences fall on whole seconds; the first candidate is the next whole second.
  const start = Math.floor(afterMs / 1000) * 1000 + 1000;
  const next =
    schedule.timeZone === 'UTC' ? nextLocalMatch(tables, start) : nextZonedMatch(tables, schedule.timeZone, start);
  if (next === undefined) {
    // Unreachable for schedules from parseSchedule (they are checked to fire at least once per 400 years).
    throw new ValidationError(
      `Timer schedule "${schedule.expression}" has no occurrence after ${after.toISOString()}.`,
      {
        target: 'schedule',
      },
    );
  }
  return new Date(next);
}

/** Whether the schedule fires at `at` (whole seconds only; milliseconds must be 0). */
export function matchesSchedule(schedule: CronSchedule, at: Date): boolean {
  const ms = at.getTime();
  if (Number.isNaN(ms)) throw new RangeError('matchesSchedule: at must be a valid Date');
  if (ms % 1000 !== 0) return false;
  const local = schedule.timeZone === 'UTC' ? ms : ms + zoneOffsetMs(formatterFor(schedule.timeZone), ms);
  const d = new Date(local);
  const t = tablesFor(schedule);
  return (
    t.secondMask[d.getUTCSeconds()] === 1 &&
    t.minuteMask[d.getUTCMinutes()] === 1 &&
    t.hourMask[d.getUTCHours()] === 1 &&
    t.dayMask[d.getUTCDate()] === 1 &&
    t.monthMask[d.getUTCMonth() + 1] === 1 &&
    t.dowMask[d.getUTCDay()] === 1
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseField(token: string, spec: FieldSpec, expression: string): number[] {
  const fail = (what: string): never => {
    throw new ValidationError(`Timer schedule "${expression}": ${spec.label} field "${token}" ${what}`, {
      target: `schedule.${spec.label}`,
    });
  };
  if (/[?LW#]/i.test(token.replace(/[a-z]{3,}/gi, ''))) {
    fail("uses Quartz syntax (?, L, W, #) that NCrontab does not support; use '*', lists, ranges and steps.");
  }
  const upper = spec.label === 'day-of-week' ? 6 : spec.max;
  const allowed = new Set<number>();
  for (const item of token.split(',')) {
    if (item === '') fail('has an empty list item; separate values with single commas, e.g. "1,15".');
    const parts = item.split('/');
    if (parts.length > 2) fail(`has more than one "/" in "${item}"; write a step as "*/5" or "1-10/2".`);
    const [base = '', stepText] = parts;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        fail(`has step "${stepText}" in "${item}"; a step must be a whole number of at least 1, e.g. "*/5".`);
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (base === '*') {
      from = spec.min;
      to = upper;
    } else {
      const dash = base.indexOf('-', 1);
      if (dash > 0) {
        from = parseValue(base.slice(0, dash), spec, fail);
        to = parseValue(base.slice(dash + 1), spec, fail);
        if (from > to) {
          fail(
            `has the reversed range "${base}" (NCrontab would silently read it as ${to}-${from}); ` +
              `write ranges low-high, e.g. "${to}-${from}", or list both ends, e.g. "${from}-${spec.max},${spec.min}-${to}".`,
          );
        }
      } else {
        from = parseValue(base, spec, fail);
        // NCrontab reads "5/15" as "5-max/15".
        to = stepText === undefined ? from : upper;
      }
    }
    for (let v = from; v <= to; v += step) allowed.add(v);
  }
  if (allowed.size === 0) fail(`selects no ${spec.label}; use a value between ${spec.min} and ${upper}.`);
  return [...allowed].sort((a, b) => a - b);
}

function parseValue(text: string, spec: FieldSpec, fail: (what: string) => never): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      fail(`has ${value}, outside ${spec.min}-${spec.max}.`);
    }
    return value;
  }
  if (spec.names !== undefined && /^[a-z]{3,}$/i.test(text)) {
    const lower = text.toLowerCase();
    const index = spec.names.findIndex((name) => name.toLowerCase().startsWith(lower));
    if (index >= 0) return index + spec.min;
  }
  const names = spec.names === undefined ? '' : ` or a name (${spec.names.map((n) => n.slice(0, 3)).join(', ')})`;
  return fail(`has "${text}", which is not a number ${spec.min}-${spec.max}${names}.`);
}

function parseTimeSpan(expression: string): IntervalSchedule {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$/.exec(expression);
  const fail = (what: string): never => {
    throw new ValidationError(`Timer schedule "${expression}" ${what}`, { target: 'schedule' });
  };
  if (match === null) {
    return fail(
      'is neither six NCRONTAB fields nor a TimeSpan; write an interval as "hh:mm:ss" or "d.hh:mm:ss", e.g. "00:05:00".',
    );
  }
  const [, dayText, hourText = '0', minuteText = '0', secondText = '0'] = match;
  const days = dayText === undefined ? 0 : Number(dayText);
  const hours = Number(hourText);
  const minutes = Number(minuteText);
  const seconds = Number(secondText);
  if (hours > 23) {
    fail(
      `has ${hours} hours; .NET reads "${expression}" as ${hours} days (d:hh:mm), which is rarely meant. ` +
        `Write ${Math.floor(hours / 24)}.${String(hours % 24).padStart(2, '0')}:${minuteText.padStart(2, '0')}:${secondText.padStart(2, '0')} ` +
        `for ${hours} hours, or ${hours}.00:00:00 for ${hours} days.`,
    );
  }
  if (minutes > 59 || seconds > 59) fail('has minutes or seconds above 59; use values 00-59.');
  const intervalMs = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
  if (intervalMs <= 0) fail('is a zero interval; use at least "00:00:01".');
  return { kind: 'interval', expression, intervalMs };
}

function resolveTimeZone(timeZone: string | undefined): string {
  if (timeZone === undefined || timeZone === '' || /^(utc|etc\/utc|z)$/i.test(timeZone)) return 'UTC';
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
    return resolved === 'Etc/UTC' ? 'UTC' : resolved;
  } catch (cause) {
    throw new ValidationError(
      `Unknown time zone "${timeZone}". Use an IANA name such as "Europe/London" or "America/New_York" ` +
        `(Windows names like "Eastern Standard Time" are not supported), or leave it unset for UTC.`,
      { target: 'timeZone', cause },
    );
  }
}

function describeList(values: readonly number[]): string {
  return values.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Evaluation. Fields are skipped over with "next allowed value >= v" tables, so a search costs a
// few steps per field, not one per second.

interface Tables {
  secondNext: Int8Array;
  minuteNext: Int8Array;
  hourNext: Int8Array;
  monthNext: Int8Array;
  secondMask: Uint8Array;
  minuteMask: Uint8Array;
  hourMask: Uint8Array;
  dayMask: Uint8Array;
  monthMask: Uint8Array;
  dowMask: Uint8Array;
  firstMonth: number;
}

const tableCache = new WeakMap<CronSchedule, Tables>();

function tablesFor(schedule: CronSchedule): Tables {
  let tables = tableCache.get(schedule);
  if (tables === undefined) {
    const secondMask = mask(schedule.seconds, 60);
    const minuteMask = mask(schedule.minutes, 60);
    const hourMask = mask(schedule.hours, 24);
    const monthMask = mask(schedule.months, 13);
    tables = {
      secondMask,
      minuteMask,
      hourMask,
      monthMask,
      dayMask: mask(schedule.daysOfMonth, 32),
      dowMask: mask(schedule.daysOfWeek, 7),
      secondNext: nextTable(secondMask),
      minuteNext: nextTable(minuteMask),
      hourNext: nextTable(hourMask),
      monthNext: nextTable(monthMask),
      firstMonth: schedule.months[0] ?? 1,
    };
    tableCache.set(schedule, tables);
  }
  return tables;
}

function mask(values: readonly number[], size: number): Uint8Array {
  const m = new Uint8Array(size);
  for (const v of values) m[v] = 1;
  return m;
}

/** next[v] = smallest allowed value >= v, or -1. */
function nextTable(m: Uint8Array): Int8Array {
  const next = new Int8Array(m.length + 1).fill(-1);
  for (let v = m.length - 1; v >= 0; v--) next[v] = m[v] === 1 ? v : (next[v + 1] ?? -1);
  return next;
}

/** Every (month, day) pair falls on every weekday within one 400-year Gregorian cycle. */
const YEAR_SEARCH_LIMIT = 401;

/**
 * Smallest wall-clock time >= start (both as "local time read as UTC" epoch ms) that matches.
 * For UTC schedules wall clock and instant are the same thing.
 */
function nextLocalMatch(t: Tables, start: number): number | undefined {
  const d = new Date(start);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth() + 1;
  let day = d.getUTCDate();
  let hour = d.getUTCHours();
  let minute = d.getUTCMinutes();
  let second = d.getUTCSeconds();
  const lastYear = year + YEAR_SEARCH_LIMIT;

  // Moves to the start of the next day/hour/minute; lower fields restart at 0 and are re-checked.
  const carry = (ms: number): void => {
    const c = new Date(ms);
    year = c.getUTCFullYear();
    month = c.getUTCMonth() + 1;
    day = c.getUTCDate();
    hour = c.getUTCHours();
    minute = c.getUTCMinutes();
    second = c.getUTCSeconds();
  };

  while (year <= lastYear) {
    const m = t.monthNext[month] ?? -1;
    if (m !== month) {
      if (m < 0) {
        year += 1;
        month = t.firstMonth;
      } else {
        month = m;
      }
      day = 1;
      hour = minute = second = 0;
    }

    const dim = daysInMonth(year, month);
    let dow = weekday(year, month, day);
    let dd = day;
    while (dd <= dim && (t.dayMask[dd] !== 1 || t.dowMask[dow] !== 1)) {
      dd += 1;
      dow = dow === 6 ? 0 : dow + 1;
    }
    if (dd > dim) {
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (dd !== day) {
      day = dd;
      hour = minute = second = 0;
    }

    const h = t.hourNext[hour] ?? -1;
    if (h < 0) {
      carry(utcMs(year, month, day + 1, 0, 0, 0));
      continue;
    }
    if (h !== hour) {
      hour = h;
      minute = second = 0;
    }

    const mi = t.minuteNext[minute] ?? -1;
    if (mi < 0) {
      carry(utcMs(year, month, day, hour + 1, 0, 0));
      continue;
    }
    if (mi !== minute) {
      minute = mi;
      second = 0;
    }

    const s = t.secondNext[second] ?? -1;
    if (s < 0) {
      carry(utcMs(year, month, day, hour, minute + 1, 0));
      continue;
    }
    return utcMs(year, month, day, hour, minute, s);
  }
  return undefined;
}

const DAY_MS = 86_400_000;
/** Longest jump taken without looking for a UTC-offset change in between. */
const MAX_JUMP_MS = 7 * DAY_MS;

/**
 * Smallest instant >= start whose wall-clock time in `timeZone` matches. Within a stretch of
 * constant UTC offset, instants and wall-clock times map one to one, so each step finds the next
 * wall-clock match and checks that the offset did not change on the way; if it did, the search
 * restarts at the change. Wall-clock times skipped by a DST gap never fire; those repeated by a DST
 * overlap fire twice (once per instant).
 */
function nextZonedMatch(t: Tables, timeZone: string, start: number): number | undefined {
  const fmt = formatterFor(timeZone);
  let instant = start;
  const lastInstant = start + YEAR_SEARCH_LIMIT * 366 * DAY_MS;
  while (instant <= lastInstant) {
    const offset = zoneOffsetMs(fmt, instant);
    const wall = instant + offset;
    const match = nextLocalMatch(t, wall);
    if (match === undefined) return undefined;
    if (match === wall) return instant;
    const jump = Math.min(match - wall, MAX_JUMP_MS);
    const target = instant + jump;
    if (zoneOffsetMs(fmt, target) === offset) {
      instant = target;
      continue;
    }
    // The offset changes in (instant, target]: find the first second with the new offset.
    let lo = instant;
    let hi = target;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (zoneOffsetMs(fmt, mid) === offset) lo = mid;
      else hi = mid;
    }
    const candidate = instant + (match - wall);
    if (candidate < hi) return candidate;
    instant = hi;
  }
  return undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/** UTC offset of `timeZone` at instant `ms` (whole seconds), as wall clock minus UTC. */
function zoneOffsetMs(fmt: Intl.DateTimeFormat, ms: number): number {
  const f: Record<string, number> = {};
  for (const part of fmt.formatToParts(ms)) {
    if (part.type !== 'literal') f[part.type] = Number(part.value);
  }
  const wall = utcMs(
    f['year'] ?? 1970,
    f['month'] ?? 1,
    f['day'] ?? 1,
    f['hour'] ?? 0,
    f['minute'] ?? 0,
    f['second'] ?? 0,
  );
  return wall - Math.floor(ms / 1000) * 1000;
}

function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0-99 to 1900-1999.
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(d.getUTCFullYear() - 2000 + year);
  return d.getTime();
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : (MAX_DAYS[month - 1] ?? 31);
}

const WEEKDAY_OFFSETS = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4] as const;

/** Day of week (Sunday = 0) of a proleptic Gregorian date (Sakamoto's method). */
function weekday(year: number, month: number, day: number): number {
  const y = month < 3 ? year - 1 : year;
  const w = y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + (WEEKDAY_OFFSETS[month - 1] ?? 0) + day;
  return ((w % 7) + 7) % 7;
}
