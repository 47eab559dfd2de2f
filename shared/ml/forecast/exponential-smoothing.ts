/**
 * Additive exponential smoothing: simple (level), Holt (level + trend) and Holt-Winters additive
 * (level + trend + season), the error-correction recursions of Hyndman & Athanasopoulos, FPP §8:
 *
 *   forecast  y(t|t-1) = l(t-1) + b(t-1) + s(t-m)
 *   level     l(t) = alpha (y(t) - s(t-m)) + (1 - alpha) (l(t-1) + b(t-1))
 *   trend     b(t) = beta (l(t) - l(t-1)) + (1 - beta) b(t-1)
 *   season    s(t) = gamma (y(t) - l(t-1) - b(t-1)) + (1 - gamma) s(t-m)
 *
 * Initial states are the classical heuristic (first season's mean and per-period deviations, the
 * slope between the first two seasons' means); alpha, beta, gamma in (0, 1) minimize the in-sample
 * sum of squared one-step errors, found by Nelder-Mead on logit-scaled parameters from a fixed
 * grid of starts, so fits are deterministic.
 */
import { nelderMead } from './nelder-mead.js';

export interface ExponentialSmoothingOptions {
  /** Season length m; 1 (default) for none. A season needs two full cycles of data, else it is dropped. */
  seasonLength?: number;
  /** Include a trend (default true); 'auto' keeps it only if it lowers AICc. */
  trend?: boolean | 'auto';
}

export interface ExponentialSmoothingFit {
  alpha: number;
  /** 0 without a trend. */
  beta: number;
  /** 0 without a season. */
  gamma: number;
  trend: boolean;
  /** The season length used (1: none). */
  seasonLength: number;
  /** States after the last observation. */
  level: number;
  slope: number;
  /** season[i] applies to the (i+1)-th period after the last observation, cyclically. */
  season: Float64Array;
  /** Sum of squared one-step errors over the scored points, and their count. */
  sse: number;
  scored: number;
  aicc: number;
}

interface Components {
  trend: boolean;
  m: number;
}

interface InitialState {
  level: number;
  slope: number;
  /** Circular buffer indexed by t mod m, holding s(t - m) for the next t. */
  season: Float64Array;
  /** First time index scored. */
  start: number;
}

function initialState(y: ArrayLike<number>, { trend, m }: Components): InitialState {
  if (m > 1) {
    let first = 0;
    let second = 0;
    for (let i = 0; i < m; i++) {
      first += y[i] as number;
      second += y[i + m] as number;
    }
    first /= m;
    second /= m;
    const slope = trend ? (second - first) / m : 0;
    const season = new Float64Array(m);
    // Deviations from the first season's (trend-adjusted) mean, centred to sum to zero.
    let mean = 0;
    for (let i = 0; i < m; i++) {
      season[i] = (y[i] as number) - (first + (i - (m - 1) / 2) * slope);
      mean += (season[i] as number) / m;
    }
    for (let i = 0; i < m; i++) season[i] = (season[i] as number) - mean;
    // The level at the end of the first season; scoring starts with the second.
    return { level: first + ((m - 1) / 2) * slope, slope, season, start: m };
  }
  const slope = trend && y.length > 1 ? (y[1] as number) - (y[0] as number) : 0;
  return { level: y[0] as number, slope, season: new Float64Array(1), start: 1 };
}

interface RunResult {
  sse: number;
  level: number;
  slope: number;
  season: Float64Array;
}

function run(
  y: ArrayLike<number>,
  c: Components,
  init: InitialState,
  alpha: number,
  beta: number,
  gamma: number,
): RunResult {
  const { m } = c;
  let level = init.level;
  let slope = init.slope;
  const season = Float64Array.from(init.season);
  let sse = 0;
  for (let t = init.start; t < y.length; t++) {
    const slot = m > 1 ? t % m : 0;
    const s = m > 1 ? (season[slot] as number) : 0;
    const yt = y[t] as number;
    const error = yt - (level + slope + s);
    sse += error * error;
    const previousLevel = level;
    const previousSlope = slope;
    level = alpha * (yt - s) + (1 - alpha) * (level + slope);
    if (c.trend) slope = beta * (level - previousLevel) + (1 - beta) * slope;
    if (m > 1) season[slot] = gamma * (yt - previousLevel - previousSlope) + (1 - gamma) * s;
  }
  return { sse, level, slope, season };
}

const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (p: number): number => Math.log(p / (1 - p));

function fitComponents(y: ArrayLike<number>, c: Components): ExponentialSmoothingFit {
  const init = initialState(y, c);
  const dims = 1 + (c.trend ? 1 : 0) + (c.m > 1 ? 1 : 0);
  const unpack = (u: Float64Array): [number, number, number] => {
    let i = 0;
    const alpha = logistic(u[i++] as number);
    const beta = c.trend ? logistic(u[i++] as number) : 0;
    const gamma = c.m > 1 ? logistic(u[i++] as number) : 0;
    return [alpha, beta, gamma];
  };
  const objective = (u: Float64Array): number => {
    const [alpha, beta, gamma] = unpack(u);
    return run(y, c, init, alpha, beta, gamma).sse;
  };
  const grid: number[][] = [];
  for (const a of [0.1, 0.5, 0.9]) {
    for (const b of c.trend ? [0.05, 0.3] : [Number.NaN]) {
      for (const g of c.m > 1 ? [0.1, 0.5] : [Number.NaN]) {
        grid.push([a, b, g].filter((v) => !Number.isNaN(v)).map(logit));
      }
    }
  }
  let best: { x: Float64Array; value: number } | undefined;
  for (const start of grid) {
    const result = nelderMead(objective, start, { step: 1, maxIterations: 400 * dims, tolerance: 1e-12 });
    if (best === undefined || result.value < best.value) best = result;
  }
  const chosen = best as { x: Float64Array; value: number };
  const [alpha, beta, gamma] = unpack(chosen.x);
  const final = run(y, c, init, alpha, beta, gamma);
  const scored = Math.max(0, y.length - init.start);
  const k = dims + 1 + (c.trend ? 1 : 0) + (c.m > 1 ? c.m - 1 : 0);
  const aic = scored * Math.log(Math.max(final.sse, Number.MIN_VALUE) / Math.max(scored, 1)) + 2 * k;
  const aicc = scored - k - 1 > 0 ? aic + (2 * k * (k + 1)) / (scored - k - 1) : Number.POSITIVE_INFINITY;
  const m = c.m;
  const n = y.length;
  const season = new Float64Array(m);
  for (let i = 0; i < m; i++) season[i] = m > 1 ? (final.season[(n + i) % m] as number) : 0;
  return {
    alpha,
    beta,
    gamma,
    trend: c.trend,
    seasonLength: m,
    level: final.level,
    slope: final.slope,
    season,
    sse: final.sse,
    scored,
    aicc,
  };
}

/** Fits the model; NaN values must be filled first (see series.ts fillMissing). */
export function fitExponentialSmoothing(
  values: ArrayLike<number>,
  options: ExponentialSmoothingOptions = {},
): ExponentialSmoothingFit {
  const n = values.length;
  if (n < 1) throw new RangeError('values is empty');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i] as number))
      throw new RangeError(`values[${i}] is not finite; fill missing values first`);
  }
  const requested = options.seasonLength ?? 1;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new RangeError(`seasonLength must be a positive integer; got ${requested}`);
  }
  const m = requested > 1 && n >= 2 * requested + 1 ? requested : 1;
  const trendOption = options.trend ?? true;
  if (n < 3) return fitComponents(values, { trend: false, m: 1 });
  if (trendOption === 'auto') {
    const withTrend = fitComponents(values, { trend: true, m });
    const without = fitComponents(values, { trend: false, m });
    return without.aicc <= withTrend.aicc ? without : withTrend;
  }
  return fitComponents(values, { trend: trendOption, m });
}

/** Point forecasts for the next `horizon` periods. */
export function forecastExponentialSmoothing(fit: ExponentialSmoothingFit, horizon: number): Float64Array {
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new RangeError(`horizon must be a positive integer; got ${horizon}`);
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) {
    out[h - 1] = fit.level + h * fit.slope + (fit.season[(h - 1) % fit.seasonLength] as number);
  }
  return out;
}
