/**
 * Public holidays by rule, for forecasting's country_or_region_for_holidays: the `holiday` calendar
 * feature is 1 on a holiday of the country and 0 otherwise. Days are whole days since 1970-01-01
 * (UTC), the unit lag-features.ts and forecast-onnx.ts compute calendar features in.
 *
 * Only the national rules are here: fixed dates, the n-th or last weekday of a month, and days
 * relative to (Western) Easter; in the United States and the United Kingdom a fixed-date holiday
 * on a weekend also makes its observed weekday a holiday. One-off changes (a bank holiday moved for
 * a jubilee, a state funeral) and regional holidays are not included. Years outside
 * HOLIDAY_YEARS have none, so that the ONNX graph can carry every holiday as a constant.
 */

import type { Frequency } from './frequency.js';

/** The countries (ISO 3166 alpha-2) with rules here. */
export const HOLIDAY_COUNTRIES = ['US', 'CA', 'GB', 'DE', 'FR'] as const;
export type HolidayCountry = (typeof HOLIDAY_COUNTRIES)[number];

/** The years with holidays: outside them, no day is one. */
export const HOLIDAY_YEARS = { first: 1900, last: 2200 } as const;

const DAY = 86_400_000;

/** Days since 1970-01-01 of a date (month 1-12). */
function dayOf(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / DAY);
}

/** Monday 0 .. Sunday 6 of a day number (1970-01-01 was a Thursday). */
function weekday(days: number): number {
  return (((days + 3) % 7) + 7) % 7;
}

/** The n-th (1-based) `wd` (Monday 0) of a month. */
function nthWeekday(year: number, month: number, wd: number, n: number): number {
  const first = dayOf(year, month, 1);
  return first + ((wd - weekday(first) + 7) % 7) + 7 * (n - 1);
}

/** The last `wd` (Monday 0) of a month. */
function lastWeekday(year: number, month: number, wd: number): number {
  const last = dayOf(year, month + 1, 0);
  return last - ((weekday(last) - wd + 7) % 7);
}

/** Western Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher). */
function easter(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayOf(year, month, day);
}

/** US: Saturday → Friday, Sunday → Monday. */
function usObserved(days: number): number[] {
  const wd = weekday(days);
  return wd === 5 ? [days, days - 1] : wd === 6 ? [days, days + 1] : [days];
}

/** UK substitute days: a weekend holiday moves to the next weekday not already a holiday. */
function ukSubstitutes(days: readonly number[]): number[] {
  const taken = new Set(days);
  const out = [...days];
  for (const d of [...days].sort((a, b) => a - b)) {
    if (weekday(d) < 5) continue;
    let s = d + 1;
    while (weekday(s) >= 5 || taken.has(s)) s++;
    taken.add(s);
    out.push(s);
  }
  return out;
}

function rules(country: HolidayCountry, y: number): number[] {
  const e = easter(y);
  switch (country) {
    case 'US':
      return [
        ...usObserved(dayOf(y, 1, 1)),
        ...(y >= 1986 ? [nthWeekday(y, 1, 0, 3)] : []), // Martin Luther King Jr. Day
        nthWeekday(y, 2, 0, 3), // Washington's Birthday
        lastWeekday(y, 5, 0), // Memorial Day
        ...(y >= 2021 ? usObserved(dayOf(y, 6, 19)) : []), // Juneteenth
        ...usObserved(dayOf(y, 7, 4)),
        nthWeekday(y, 9, 0, 1), // Labor Day
        nthWeekday(y, 10, 0, 2), // Columbus Day
        ...usObserved(dayOf(y, 11, 11)), // Veterans Day
        nthWeekday(y, 11, 3, 4), // Thanksgiving
        ...usObserved(dayOf(y, 12, 25)),
      ];
    case 'CA':
      return [
        dayOf(y, 1, 1),
        e - 2, // Good Friday
        dayOf(y, 5, 24) - weekday(dayOf(y, 5, 24)), // Victoria Day: the Monday on or before May 24
        dayOf(y, 7, 1), // Canada Day
        nthWeekday(y, 9, 0, 1), // Labour Day
        nthWeekday(y, 10, 0, 2), // Thanksgiving
        dayOf(y, 11, 11), // Remembrance Day
        dayOf(y, 12, 25),
        dayOf(y, 12, 26),
      ];
    case 'GB':
      return ukSubstitutes([dayOf(y, 1, 1), dayOf(y, 12, 25), dayOf(y, 12, 26)]).concat([
        e - 2, // Good Friday
        e + 1, // Easter Monday
        ...(y >= 1978 ? [nthWeekday(y, 5, 0, 1)] : []), // Early May bank holiday
        lastWeekday(y, 5, 0), // Spring bank holiday
        lastWeekday(y, 8, 0), // Summer bank holiday
      ]);
    case 'DE':
      return [
        dayOf(y, 1, 1),
        e - 2, // Karfreitag
        e + 1, // Ostermontag
        dayOf(y, 5, 1),
        e + 39, // Christi Himmelfahrt
        e + 50, // Pfingstmontag
        ...(y >= 1990 ? [dayOf(y, 10, 3)] : []), // Tag der Deutschen Einheit
        dayOf(y, 12, 25),
        dayOf(y, 12, 26),
      ];
    case 'FR':
      return [
        dayOf(y, 1, 1),
        e + 1, // Lundi de Pâques
        dayOf(y, 5, 1),
        dayOf(y, 5, 8),
        e + 39, // Ascension
        e + 50, // Lundi de Pentecôte
        dayOf(y, 7, 14),
        dayOf(y, 8, 15),
        dayOf(y, 11, 1),
        dayOf(y, 11, 11),
        dayOf(y, 12, 25),
      ];
  }
}

const byYear = new Map<string, readonly number[]>();

/**
 * The holidays `country`'s rules give for `year`, as sorted day numbers (none outside
 * HOLIDAY_YEARS); an observed day can fall on Dec 31 of the year before.
 */
export function holidaysOf(country: HolidayCountry, year: number): readonly number[] {
  if (year < HOLIDAY_YEARS.first || year > HOLIDAY_YEARS.last) return [];
  const key = `${country} ${year}`;
  let days = byYear.get(key);
  if (days === undefined) {
    days = [...new Set(rules(country, year))].sort((a, b) => a - b);
    byYear.set(key, days);
  }
  return days;
}

/** Every holiday of `country` over HOLIDAY_YEARS, sorted: the ONNX graph's constant. */
export function allHolidays(country: HolidayCountry): number[] {
  const out = new Set<number>();
  for (let y = HOLIDAY_YEARS.first; y <= HOLIDAY_YEARS.last; y++) for (const d of holidaysOf(country, y)) out.add(d);
  return [...out].sort((a, b) => a - b);
}

/** 1 when the UTC day of the epoch-ms `time` is a holiday of `country`, else 0. */
export function holidayValue(country: HolidayCountry, time: number): number {
  const days = Math.floor(time / DAY);
  const year = new Date(days * DAY).getUTCFullYear();
  // A year's rules can fall in the year before: the US observes a Saturday New Year's Day on Dec 31.
  return holidaysOf(country, year).includes(days) || holidaysOf(country, year + 1).includes(days) ? 1 : 0;
}

/** The country code `given` names (any case), or undefined when there are no rules for it. */
export function holidayCountry(given: string): HolidayCountry | undefined {
  const code = given.trim().toUpperCase();
  const alias = code === 'UK' ? 'GB' : code;
  return HOLIDAY_COUNTRIES.find((c) => c === alias);
}

/** Whether holidays can mark the periods of `frequency`: a day or shorter (holidays are days). */
export function holidaysApply(frequency: Frequency): boolean {
  return frequency.kind === 'fixed' && frequency.stepMs <= DAY;
}
