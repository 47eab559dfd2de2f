/**
 * Seasonality detection ('auto' seasonality): the autocorrelation of the first differences (so a
 * trend does not mask the season) must peak at the candidate lag and reach a threshold. The
 * candidates come from the calendar (12 for monthly data, ...) or, on request, every lag.
 */
import type { Frequency } from './frequency.js';
import { calendarSeasonCandidates } from './frequency.js';

/** Sample autocorrelation at lags 0..maxLag (the biased estimator, as statsmodels' acf). */
export function autocorrelation(values: ArrayLike<number>, maxLag: number): Float64Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  let denom = 0;
  for (let i = 0; i < n; i++) denom += ((values[i] as number) - mean) ** 2;
  const out = new Float64Array(Math.min(maxLag, n - 1) + 1);
  for (let lag = 0; lag < out.length; lag++) {
    let s = 0;
    for (let i = 0; i + lag < n; i++) s += ((values[i] as number) - mean) * ((values[i + lag] as number) - mean);
    out[lag] = denom > 0 ? s / denom : 0;
  }
  return out;
}

export interface SeasonalityOptions {
  /** The series' frequency: its calendar periods are the candidates. */
  frequency?: Frequency;
  /** 'calendar' (default when a frequency is given) or 'any' lag from 2 to maxLag. */
  search?: 'calendar' | 'any';
  /** Largest lag for search 'any' (default: a third of the series). */
  maxLag?: number;
  /** Smallest autocorrelation accepted (default 0.3, or 2/sqrt(n) if larger). */
  threshold?: number;
}

/** The detected season length, or 1 when the series shows none. */
export function detectSeasonality(values: ArrayLike<number>, options: SeasonalityOptions = {}): number {
  const n = values.length;
  const diffs = new Float64Array(Math.max(0, n - 1));
  for (let i = 1; i < n; i++) diffs[i - 1] = (values[i] as number) - (values[i - 1] as number);
  const search = options.search ?? (options.frequency === undefined ? 'any' : 'calendar');
  let candidates: number[];
  if (search === 'calendar') {
    candidates = options.frequency === undefined ? [] : calendarSeasonCandidates(options.frequency);
  } else {
    const maxLag = options.maxLag ?? Math.floor(n / 3);
    candidates = [];
    for (let lag = 2; lag <= maxLag; lag++) candidates.push(lag);
  }
  // Two full seasons at least, and one lag beyond for the peak test.
  candidates = candidates.filter((m) => m >= 2 && 2 * m + 1 <= diffs.length);
  if (candidates.length === 0) return 1;
  const acf = autocorrelation(diffs, Math.max(...candidates) + 1);
  const threshold = Math.max(options.threshold ?? 0.3, 2 / Math.sqrt(diffs.length));
  let best = 1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const m of candidates) {
    const v = acf[m] as number;
    const isPeak = v >= (acf[m - 1] as number) && v >= (acf[m + 1] ?? Number.NEGATIVE_INFINITY);
    if (isPeak && v >= threshold && v > bestValue) {
      best = m;
      bestValue = v;
    }
  }
  return best;
}
