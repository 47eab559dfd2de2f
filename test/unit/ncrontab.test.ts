import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSchedule, nextOccurrence, parseSchedule } from '../../shared/domain/ncrontab.js';
import type { CronSchedule, Schedule } from '../../shared/domain/ncrontab.js';
import { ValidationError } from '../../shared/errors.js';

function cron(expr: string, timeZone?: string): CronSchedule {
  const schedule = parseSchedule(expr, timeZone === undefined ? {} : { timeZone });
  assert.equal(schedule.kind, 'cron', expr);
  return schedule as CronSchedule;
}

function nextN(schedule: Schedule, after: string, n: number): string[] {
  const out: string[] = [];
  let t = new Date(after);
  for (let i = 0; i < n; i++) {
    t = nextOccurrence(schedule, t);
    out.push(t.toISOString().replace('.000Z', 'Z'));
  }
  return out;
}

const range = (from: number, to: number, step = 1): number[] => {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
};

// ---------------------------------------------------------------------------------------------
// Parsing

const PARSE_CASES: { expr: string; field: keyof CronSchedule; values: number[] }[] = [
  { expr: '* * * * * *', field: 'seconds', values: range(0, 59) },
  { expr: '*/15 * * * * *', field: 'seconds', values: [0, 15, 30, 45] },
  { expr: '0 1-10/2 * * * *', field: 'minutes', values: [1, 3, 5, 7, 9] },
  { expr: '0 5/20 * * * *', field: 'minutes', values: [5, 25, 45] },
  { expr: '0 0 1,5,9-11 * * *', field: 'hours', values: [1, 5, 9, 10, 11] },
  { expr: '0 0 0 */10 * *', field: 'daysOfMonth', values: [1, 11, 21, 31] },
  { expr: '0 0 0 1 Jan,mar,DEC *', field: 'months', values: [1, 3, 12] },
  { expr: '0 0 0 1 February-April *', field: 'months', values: [2, 3, 4] },
  { expr: '0 0 0 * * Mon-Fri', field: 'daysOfWeek', values: [1, 2, 3, 4, 5] },
  { expr: '0 0 0 * * sun,SAT', field: 'daysOfWeek', values: [0, 6] },
  { expr: '0 0 0 * * 0', field: 'daysOfWeek', values: [0] },
  { expr: '0 0 0 * * 5-6,0', field: 'daysOfWeek', values: [0, 5, 6] },
  { expr: '0 0 0 * * */2', field: 'daysOfWeek', values: [0, 2, 4, 6] },
  { expr: '0 0 0 * * Wednesday', field: 'daysOfWeek', values: [3] },
  { expr: '  0  0   12 * *   *  ', field: 'hours', values: [12] },
];

for (const c of PARSE_CASES) {
  test(`parseSchedule "${c.expr}" → ${c.field} ${c.values.join(',')}`, () => {
    assert.deepEqual(cron(c.expr)[c.field], c.values);
  });
}

test('parseSchedule defaults to UTC and canonicalises time zone names', () => {
  assert.equal(cron('0 0 0 * * *').timeZone, 'UTC');
  assert.equal(cron('0 0 0 * * *', 'Etc/UTC').timeZone, 'UTC');
  assert.equal(cron('0 0 0 * * *', 'europe/london').timeZone, 'Europe/London');
});

const ERROR_CASES: { expr: string; message: RegExp; timeZone?: string }[] = [
  { expr: '*/5 * * * *', message: /needs six.*"0 \*\/5 \* \* \* \*"/ },
  { expr: '0 30 9 * * Mon-Fri 2024', message: /has 7 fields/ },
  { expr: '', message: /empty/ },
  { expr: '60 * * * * *', message: /second field "60" has 60, outside 0-59/ },
  { expr: '0 0 24 * * *', message: /hour field "24" has 24, outside 0-23/ },
  { expr: '0 0 0 0 * *', message: /day-of-month field "0" has 0, outside 1-31/ },
  { expr: '0 0 0 1 13 *', message: /month field "13"/ },
  // NCrontab, which Azure runs, rejects 7: accepting it would pass locally and fail on Azure.
  { expr: '0 0 0 * * 7', message: /day-of-week field "7" has 7, outside 0-6/ },
  { expr: '0 0 0 * * 8', message: /day-of-week field "8" has 8, outside 0-6/ },
  { expr: '0 0 0 * * Funday', message: /"Funday", which is not a number 0-6 or a name \(Sun, Mon/ },
  { expr: '0 0 0 * Ja *', message: /"Ja"/ },
  { expr: '0 */0 * * * *', message: /step "0"/ },
  { expr: '0 1,,2 * * * *', message: /empty list item/ },
  { expr: '0 1/2/3 * * * *', message: /more than one "\/"/ },
  { expr: '0 0 0 * * Fri-Mon', message: /reversed range "Fri-Mon".*"5-6,0-1"/ },
  { expr: '0 0 0 ? * MON', message: /Quartz syntax/ },
  { expr: '0 0 0 L * *', message: /Quartz syntax/ },
  { expr: '0 0 0 * * 5#2', message: /Quartz syntax/ },
  { expr: '0 0 0 30 2 *', message: /never fires/ },
  { expr: '0 0 0 31 Apr,Jun *', message: /never fires/ },
  { expr: '%HOUSEKEEPING_SCHEDULE%', message: /app-setting reference/ },
  { expr: '48:00:00', message: /48 days.*2\.00:00:00 for 48 hours/ },
  { expr: '00:60:00', message: /above 59/ },
  { expr: '00:00:00', message: /zero interval/ },
  { expr: '1:2:3:4', message: /neither six NCRONTAB fields nor a TimeSpan/ },
  { expr: '0 0 0 * * *', timeZone: 'Eastern Standard Time', message: /Unknown time zone/ },
];

for (const c of ERROR_CASES) {
  test(`parseSchedule rejects "${c.expr}"${c.timeZone ? ` in ${c.timeZone}` : ''}`, () => {
    assert.throws(
      () => parseSchedule(c.expr, c.timeZone === undefined ? {} : { timeZone: c.timeZone }),
      (err: unknown) => err instanceof ValidationError && c.message.test(err.message),
    );
  });
}

const TIMESPAN_CASES: { expr: string; ms: number }[] = [
  { expr: '00:05:00', ms: 5 * 60_000 },
  { expr: '01:00:00', ms: 3_600_000 },
  { expr: '23:59:59', ms: (23 * 3600 + 59 * 60 + 59) * 1000 },
  { expr: '1.00:00:00', ms: 86_400_000 },
  { expr: '2.12:30:15', ms: ((2 * 24 + 12) * 3600 + 30 * 60 + 15) * 1000 },
  { expr: '00:30', ms: 30 * 60_000 },
];

for (const c of TIMESPAN_CASES) {
  test(`TimeSpan "${c.expr}" is a fixed interval of ${c.ms} ms`, () => {
    const schedule = parseSchedule(c.expr);
    assert.deepEqual(schedule, { kind: 'interval', expression: c.expr, intervalMs: c.ms });
    const after = new Date('2024-02-28T23:59:59.250Z');
    assert.equal(nextOccurrence(schedule, after).getTime(), after.getTime() + c.ms);
  });
}

// ---------------------------------------------------------------------------------------------
// Next occurrences (UTC)

const NEXT_CASES: { expr: string; after: string; next: string[] }[] = [
  {
    expr: '0 */5 * * * *',
    after: '2024-01-31T23:57:00Z',
    next: ['2024-02-01T00:00:00Z', '2024-02-01T00:05:00Z', '2024-02-01T00:10:00Z'],
  },
  // strictly after: an exact match is not returned again
  { expr: '0 */5 * * * *', after: '2024-01-01T00:05:00Z', next: ['2024-01-01T00:10:00Z'] },
  { expr: '0 */5 * * * *', after: '2024-01-01T00:04:59.999Z', next: ['2024-01-01T00:05:00Z'] },
  {
    expr: '0 30 9 * * Mon-Fri',
    after: '2024-06-07T09:30:00Z', // a Friday, at the time itself
    next: ['2024-06-10T09:30:00Z', '2024-06-11T09:30:00Z', '2024-06-12T09:30:00Z', '2024-06-13T09:30:00Z'],
  },
  { expr: '0 30 9 * * Mon-Fri', after: '2024-06-08T08:00:00Z', next: ['2024-06-10T09:30:00Z'] },
  {
    expr: '0 0 0 1 * *',
    after: '2023-11-15T10:00:00Z',
    next: ['2023-12-01T00:00:00Z', '2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'],
  },
  {
    expr: '* * * * * *',
    after: '2023-12-31T23:59:58.600Z',
    next: ['2023-12-31T23:59:59Z', '2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z'],
  },
  // leap years: Feb 29 only in leap years, and 2100 is not one
  {
    expr: '0 0 0 29 2 *',
    after: '2023-03-01T00:00:00Z',
    next: ['2024-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z'],
  },
  { expr: '0 0 0 29 2 *', after: '2096-02-29T00:00:00Z', next: ['2104-02-29T00:00:00Z'] },
  { expr: '0 0 0 29 Feb *', after: '2000-01-01T00:00:00Z', next: ['2000-02-29T00:00:00Z'] },
  // month ends: day 31 skips short months, day 30 skips February
  {
    expr: '0 0 12 31 * *',
    after: '2024-01-31T12:00:00Z',
    next: ['2024-03-31T12:00:00Z', '2024-05-31T12:00:00Z', '2024-07-31T12:00:00Z', '2024-08-31T12:00:00Z'],
  },
  { expr: '0 0 0 30 * *', after: '2023-01-30T00:00:00Z', next: ['2023-03-30T00:00:00Z'] },
  {
    expr: '59 59 23 28-31 * *',
    after: '2023-02-27T00:00:00Z',
    next: ['2023-02-28T23:59:59Z', '2023-03-28T23:59:59Z', '2023-03-29T23:59:59Z'],
  },
  // NCrontab ANDs day-of-month and day-of-week: first Tuesday of the month only
  {
    expr: '0 0 8 1-7 * Tue',
    after: '2024-01-01T00:00:00Z',
    next: ['2024-01-02T08:00:00Z', '2024-02-06T08:00:00Z', '2024-03-05T08:00:00Z'],
  },
  // Friday the 13th
  { expr: '0 0 0 13 * Fri', after: '2024-01-01T00:00:00Z', next: ['2024-09-13T00:00:00Z', '2024-12-13T00:00:00Z'] },
  // Feb 29 that is a Monday: decades apart, found without scanning
  {
    expr: '0 0 0 29 2 Mon',
    after: '2000-01-01T00:00:00Z',
    next: ['2016-02-29T00:00:00Z', '2044-02-29T00:00:00Z', '2072-02-29T00:00:00Z', '2112-02-29T00:00:00Z'],
  },
  // carries: second → minute → hour → day → month → year
  { expr: '0 0 0 * * *', after: '2023-12-31T23:59:59Z', next: ['2024-01-01T00:00:00Z'] },
  { expr: '10,20 5 3 * * *', after: '2024-05-06T03:05:20Z', next: ['2024-05-07T03:05:10Z', '2024-05-07T03:05:20Z'] },
  { expr: '0 0 0,12 * * Sun', after: '2024-06-09T12:00:00Z', next: ['2024-06-16T00:00:00Z', '2024-06-16T12:00:00Z'] },
  { expr: '0 0 0 * * Sun', after: '2024-06-10T00:00:00Z', next: ['2024-06-16T00:00:00Z'] },
  { expr: '30 15 10 15 Jun *', after: '2024-06-15T10:15:30Z', next: ['2025-06-15T10:15:30Z'] },
];

for (const c of NEXT_CASES) {
  test(`nextOccurrence "${c.expr}" after ${c.after}`, () => {
    const schedule = cron(c.expr);
    const next = nextN(schedule, c.after, c.next.length);
    assert.deepEqual(next, c.next);
    for (const iso of next) assert.ok(matchesSchedule(schedule, new Date(iso)), iso);
  });
}

test('nextOccurrence rejects an invalid Date', () => {
  assert.throws(() => nextOccurrence(cron('* * * * * *'), new Date('nope')), RangeError);
});

test('nextOccurrence skips by field: 200 sparse occurrences take well under a second', () => {
  const schedule = cron('0 0 0 29 2 Mon');
  const started = performance.now();
  let t = new Date('1900-01-01T00:00:00Z');
  for (let i = 0; i < 200; i++) t = nextOccurrence(schedule, t);
  // A second-by-second search would take days for this; field skipping takes milliseconds.
  assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  assert.equal(t.getUTCDate(), 29);
  assert.equal(t.getUTCDay(), 1);
});

// ---------------------------------------------------------------------------------------------
// Time zones (wall clock read in an IANA zone)

const ZONE_CASES: { expr: string; timeZone: string; after: string; next: string[] }[] = [
  // 09:30 in New York is 14:30Z in winter and 13:30Z in summer
  {
    expr: '0 30 9 * * *',
    timeZone: 'America/New_York',
    after: '2024-03-08T15:00:00Z',
    next: ['2024-03-09T14:30:00Z', '2024-03-10T13:30:00Z', '2024-03-11T13:30:00Z'],
  },
  // spring forward (2024-03-10 02:00 → 03:00): 02:30 does not exist that day and does not fire
  {
    expr: '0 30 2 * * *',
    timeZone: 'America/New_York',
    after: '2024-03-09T00:00:00Z',
    next: ['2024-03-09T07:30:00Z', '2024-03-11T06:30:00Z'],
  },
  // fall back (2024-11-03 02:00 → 01:00): 01:30 happens twice and fires twice
  {
    expr: '0 30 1 * * *',
    timeZone: 'America/New_York',
    after: '2024-11-02T12:00:00Z',
    next: ['2024-11-03T05:30:00Z', '2024-11-03T06:30:00Z', '2024-11-04T06:30:00Z'],
  },
  {
    expr: '0 0 0 1 * *',
    timeZone: 'Asia/Kolkata',
    after: '2024-01-01T00:00:00Z',
    next: ['2024-01-31T18:30:00Z', '2024-02-29T18:30:00Z'],
  },
  // Lord Howe Island shifts by 30 minutes (2024-04-07 02:00 +11 → 01:30 +10:30)
  {
    expr: '0 45 1 * * *',
    timeZone: 'Australia/Lord_Howe',
    after: '2024-04-06T00:00:00Z',
    next: ['2024-04-06T14:45:00Z', '2024-04-06T15:15:00Z', '2024-04-07T15:15:00Z'],
  },
];

for (const c of ZONE_CASES) {
  test(`nextOccurrence "${c.expr}" in ${c.timeZone} after ${c.after}`, () => {
    const schedule = cron(c.expr, c.timeZone);
    const next = nextN(schedule, c.after, c.next.length);
    assert.deepEqual(next, c.next);
    for (const iso of next) assert.ok(matchesSchedule(schedule, new Date(iso)), iso);
  });
}

// ---------------------------------------------------------------------------------------------
// Property tests: random valid expressions and times, checked against an independent oracle.

/** Small seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenField {
  min: number;
  max: number;
  names?: readonly string[];
}

const GEN_FIELDS: GenField[] = [
  { min: 0, max: 59 },
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] },
  { min: 0, max: 6, names: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] },
];

/** A random field token and the set of values it denotes, worked out independently of the parser. */
function genField(rand: () => number, f: GenField, density: number): { token: string; values: Set<number> } {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const show = (v: number): string =>
    f.names !== undefined && rand() < 0.4 ? (f.names[v - f.min] ?? String(v)) : String(v);
  if (rand() < density) {
    const step = rand() < 0.5 ? 1 : int(2, Math.max(2, Math.floor((f.max - f.min) / 2)));
    const values = new Set<number>();
    for (let v = f.min; v <= f.max; v += step) values.add(v);
    return { token: step === 1 ? '*' : `*/${step}`, values };
  }
  const items: string[] = [];
  const values = new Set<number>();
  const count = int(1, 3);
  for (let i = 0; i < count; i++) {
    const kind = int(0, 3);
    const a = int(f.min, f.max);
    if (kind === 0) {
      items.push(show(a));
      values.add(a);
    } else {
      const b = int(a, f.max);
      const step = kind === 3 ? int(1, 7) : 1;
      if (kind === 2) items.push(`${a}/${step}`);
      else items.push(`${show(a)}-${show(b)}${step > 1 ? `/${step}` : ''}`);
      const end = kind === 2 ? f.max : b;
      for (let v = a; v <= end; v += step) values.add(v);
    }
  }
  return { token: items.join(','), values };
}

const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `densities[i]`: how often field i is `*` or `*\/n`; dense fields keep gaps short enough to brute-force. */
function genExpression(rand: () => number, densities: readonly number[]): { expr: string; sets: Set<number>[] } {
  for (;;) {
    const gen = GEN_FIELDS.map((f, i) => genField(rand, f, densities[i] ?? 0.5));
    const sets = gen.map((g) => g.values);
    const [, , , days, months] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
    const possible = [...months].some((m) => [...days].some((d) => d <= (MAX_DAYS[m - 1] ?? 0)));
    if (possible) return { expr: gen.map((g) => g.token).join(' '), sets };
  }
}

/** Oracle: does the wall-clock second `wall` (epoch ms read as UTC fields) match the sets? */
function oracleMatches(sets: Set<number>[], wall: Date): boolean {
  const fields = [
    wall.getUTCSeconds(),
    wall.getUTCMinutes(),
    wall.getUTCHours(),
    wall.getUTCDate(),
    wall.getUTCMonth() + 1,
    wall.getUTCDay(),
  ];
  return fields.every((v, i) => sets[i]?.has(v) === true);
}

/**
 * Oracle: first matching second >= start, found by stepping a day, hour or minute at a time when
 * that whole block cannot match, else one second. Gives up (undefined) after `limitMs`.
 */
function oracleFirstMatch(sets: Set<number>[], startMs: number, limitMs: number): number | undefined {
  const [secs, mins, hours, days, months, dows] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  let t = startMs;
  while (t - startMs <= limitMs) {
    const d = new Date(t);
    if (!days.has(d.getUTCDate()) || !months.has(d.getUTCMonth() + 1) || !dows.has(d.getUTCDay())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    } else if (!hours.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
    } else if (!mins.has(d.getUTCMinutes())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
    } else if (!secs.has(d.getUTCSeconds())) {
      t += 1000;
    } else {
      return t;
    }
  }
  return undefined;
}

function randomTime(rand: () => number): Date {
  const base = Date.UTC(1995, 0, 1) + Math.floor(rand() * (Date.UTC(2105, 0, 1) - Date.UTC(1995, 0, 1)));
  const d = new Date(base);
  const roll = rand();
  if (roll < 0.25) {
    // just before a month end
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0, 23, 59, 55 + Math.floor(rand() * 5)));
  }
  if (roll < 0.35) {
    // around Feb 28/29
    return new Date(Date.UTC(d.getUTCFullYear(), 1, 28, 23, 59, 59));
  }
  if (roll < 0.5) return new Date(Math.floor(base / 1000) * 1000); // whole second
  return d; // with milliseconds
}

const SEED = 20240229;
const BRUTE_FORCE_WINDOW_MS = 2 * 3600_000;
const ORACLE_LIMIT_MS = 200 * 86_400_000;

test(`property: UTC next occurrence matches and nothing matches in between (seed ${SEED})`, () => {
  const rand = prng(SEED);
  let bruteForced = 0;
  let oracleChecked = 0;
  for (let i = 0; i < 400; i++) {
    const { expr, sets } = genExpression(rand, [0.6, 0.6, 0.6, 0.75, 0.8, 0.75]);
    const schedule = cron(expr);
    // the parser agrees with the generator on every field
    const parsed = [
      schedule.seconds,
      schedule.minutes,
      schedule.hours,
      schedule.daysOfMonth,
      schedule.months,
      schedule.daysOfWeek,
    ];
    parsed.forEach((values, f) =>
      assert.deepEqual(
        values,
        [...(sets[f] ?? [])].sort((a, b) => a - b),
        `${expr} field ${f}`,
      ),
    );

    let after = randomTime(rand);
    if (i % 2 === 1) {
      // land shortly before a known occurrence, so the brute-force window covers the whole gap
      const known = oracleFirstMatch(sets, Math.floor(after.getTime() / 1000) * 1000, ORACLE_LIMIT_MS);
      if (known !== undefined) after = new Date(known - Math.floor(rand() * BRUTE_FORCE_WINDOW_MS));
    }
    const next = nextOccurrence(schedule, after);
    const ctx = `"${expr}" after ${after.toISOString()} → ${next.toISOString()}`;
    assert.ok(next.getTime() > after.getTime(), ctx);
    assert.equal(next.getTime() % 1000, 0, ctx);
    assert.ok(oracleMatches(sets, next), `${ctx}: result does not match`);
    assert.ok(matchesSchedule(schedule, next), ctx);

    const firstCandidate = Math.floor(after.getTime() / 1000) * 1000 + 1000;
    if (next.getTime() - firstCandidate <= BRUTE_FORCE_WINDOW_MS) {
      bruteForced++;
      for (let t = firstCandidate; t < next.getTime(); t += 1000) {
        if (oracleMatches(sets, new Date(t))) assert.fail(`${ctx}: missed ${new Date(t).toISOString()}`);
      }
    }
    const expected = oracleFirstMatch(sets, firstCandidate, ORACLE_LIMIT_MS);
    if (expected !== undefined) {
      oracleChecked++;
      assert.equal(next.toISOString(), new Date(expected).toISOString(), ctx);
    }

    // from any point in between, the next occurrence is the same one
    const mid = after.getTime() + Math.floor(rand() * (next.getTime() - after.getTime()));
    assert.equal(nextOccurrence(schedule, new Date(mid)).toISOString(), next.toISOString(), `${ctx} from ${mid}`);
  }
  // the generator must actually exercise the brute-force path, not skip it every time
  console.log(`brute-forced ${bruteForced}, oracle-checked ${oracleChecked} of 400`);
  assert.ok(bruteForced > 200, `only ${bruteForced} cases were brute-forced`);
  assert.ok(oracleChecked > 300, `only ${oracleChecked} cases were checked against the oracle`);
});

/** Wall-clock fields of an instant in a zone, read straight from Intl (no offset arithmetic). */
function wallClock(fmt: Intl.DateTimeFormat, ms: number): Date {
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return new Date(
    Date.UTC(p['year'] ?? 0, (p['month'] ?? 1) - 1, p['day'] ?? 1, p['hour'] ?? 0, p['minute'] ?? 0, p['second'] ?? 0),
  );
}

test(`property: zoned next occurrence near DST changes matches the wall clock, nothing in between (seed ${SEED})`, () => {
  const rand = prng(SEED + 1);
  const zones: { timeZone: string; transitions: string[] }[] = [
    { timeZone: 'America/New_York', transitions: ['2024-03-10T07:00:00Z', '2024-11-03T06:00:00Z'] },
    { timeZone: 'Europe/London', transitions: ['2024-03-31T01:00:00Z', '2024-10-27T01:00:00Z'] },
    { timeZone: 'Australia/Lord_Howe', transitions: ['2024-04-06T15:00:00Z', '2024-10-05T15:30:00Z'] },
    { timeZone: 'Asia/Kolkata', transitions: ['2024-06-01T00:00:00Z'] },
  ];
  const expressions = ['0 */15 * * * *', '0 0,30 * * * *', '*/20 0-59/7 0-3 * * *', '0 30 1,2 * * *', '0 0 * * * *'];
  let cases = 0;
  for (const zone of zones) {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    for (const transition of zone.transitions) {
      for (let i = 0; i < 12; i++) {
        const generated = genExpression(rand, [0.5, 0.6, 0.9, 1, 1, 1]);
        const expr = i < expressions.length ? (expressions[i] ?? '') : generated.expr;
        const schedule = cron(expr, zone.timeZone);
        const sets = [
          schedule.seconds,
          schedule.minutes,
          schedule.hours,
          schedule.daysOfMonth,
          schedule.months,
          schedule.daysOfWeek,
        ].map((v) => new Set(v));
        const after = new Date(new Date(transition).getTime() + Math.floor((rand() - 0.6) * 3 * 3600_000));
        const next = nextOccurrence(schedule, after);
        const ctx = `"${expr}" in ${zone.timeZone} after ${after.toISOString()} → ${next.toISOString()}`;
        assert.ok(next.getTime() > after.getTime(), ctx);
        assert.ok(oracleMatches(sets, wallClock(fmt, next.getTime())), `${ctx}: result does not match`);
        const firstCandidate = Math.floor(after.getTime() / 1000) * 1000 + 1000;
        if (next.getTime() - firstCandidate <= BRUTE_FORCE_WINDOW_MS) {
          cases++;
          for (let t = firstCandidate; t < next.getTime(); t += 1000) {
            if (oracleMatches(sets, wallClock(fmt, t))) assert.fail(`${ctx}: missed ${new Date(t).toISOString()}`);
          }
        }
      }
    }
  }
  console.log(`zoned: brute-forced ${cases} of 96`);
  assert.ok(cases >= 40, `only ${cases} zoned cases were brute-forced`);
});
