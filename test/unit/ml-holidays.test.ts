// Public holidays by rule (shared/ml/forecast/holidays.ts): known dates of each country, the
// observed and substitute days, Easter-relative days, and no holidays outside the years covered.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HOLIDAY_COUNTRIES,
  HOLIDAY_YEARS,
  allHolidays,
  holidayCountry,
  holidayValue,
  holidaysApply,
  holidaysOf,
} from '../../shared/ml/forecast/holidays.js';
import { parseFrequency } from '../../shared/ml/forecast/forecaster.js';

const iso = (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10);
const dates = (country: (typeof HOLIDAY_COUNTRIES)[number], year: number): string[] =>
  holidaysOf(country, year).map(iso);

describe('holidays', () => {
  test('United States 2026: federal holidays, July 4th on a Saturday observed on Friday the 3rd', () => {
    assert.deepEqual(dates('US', 2026), [
      '2026-01-01',
      '2026-01-19', // Martin Luther King Jr. Day: 3rd Monday of January
      '2026-02-16',
      '2026-05-25', // Memorial Day: last Monday of May
      '2026-06-19',
      '2026-07-03',
      '2026-07-04',
      '2026-09-07',
      '2026-10-12',
      '2026-11-11',
      '2026-11-26', // Thanksgiving: 4th Thursday of November
      '2026-12-25',
    ]);
    // Juneteenth from 2021 only; MLK Day from 1986 only.
    assert.ok(!dates('US', 2020).includes('2020-06-19'));
    assert.ok(!dates('US', 1985).some((d) => d.startsWith('1985-01-2')));
    // New Year's Day 2022 was a Saturday: observed on Friday 2021-12-31, which is marked as a holiday.
    assert.equal(holidayValue('US', Date.UTC(2021, 11, 31, 15)), 1);
    assert.equal(holidayValue('US', Date.UTC(2021, 11, 30)), 0);
  });

  test('Easter-relative days: Good Friday, Easter Monday, Ascension, Whit Monday', () => {
    // Easter Sunday: 2024-03-31, 2025-04-20, 2026-04-05.
    assert.ok(dates('GB', 2024).includes('2024-03-29') && dates('GB', 2024).includes('2024-04-01'));
    assert.ok(dates('DE', 2025).includes('2025-05-29') && dates('DE', 2025).includes('2025-06-09'));
    assert.ok(dates('FR', 2026).includes('2026-05-14') && dates('FR', 2026).includes('2026-05-25'));
    assert.ok(dates('CA', 2026).includes('2026-04-03'));
    assert.ok(!dates('FR', 2026).includes('2026-04-03'), 'Good Friday is no national holiday in France');
  });

  test('United Kingdom substitute days; Canada Victoria Day; Germany Unity Day from 1990', () => {
    // 2022: New Year's Day on a Saturday (Monday 3rd), Christmas on a Sunday (Tuesday 27th).
    assert.deepEqual(
      dates('GB', 2022).filter((d) => d.startsWith('2022-01') || d.startsWith('2022-12')),
      ['2022-01-01', '2022-01-03', '2022-12-25', '2022-12-26', '2022-12-27'],
    );
    assert.ok(dates('CA', 2024).includes('2024-05-20')); // the Monday before May 25
    assert.ok(dates('CA', 2021).includes('2021-05-24')); // May 24 itself, a Monday
    assert.ok(dates('DE', 1990).includes('1990-10-03'));
    assert.ok(!dates('DE', 1989).includes('1989-10-03'));
  });

  test('no holidays outside the years covered; country codes; the frequencies they apply to', () => {
    assert.deepEqual(holidaysOf('US', HOLIDAY_YEARS.first - 1), []);
    assert.deepEqual(holidaysOf('US', HOLIDAY_YEARS.last + 1), []);
    assert.equal(holidayValue('US', Date.UTC(2201, 6, 4)), 0);
    for (const country of HOLIDAY_COUNTRIES) {
      const all = allHolidays(country);
      assert.deepEqual(
        all,
        [...new Set(all)].sort((a, b) => a - b),
        country,
      );
      assert.ok(all.length > 8 * (HOLIDAY_YEARS.last - HOLIDAY_YEARS.first), country);
    }
    assert.equal(holidayCountry('us'), 'US');
    assert.equal(holidayCountry(' uk '), 'GB');
    assert.equal(holidayCountry('Atlantis'), undefined);
    assert.equal(holidaysApply(parseFrequency('D')), true);
    assert.equal(holidaysApply(parseFrequency('h')), true);
    assert.equal(holidaysApply(parseFrequency('W')), false);
    assert.equal(holidaysApply(parseFrequency('MS')), false);
  });
});
